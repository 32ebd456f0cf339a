#!/usr/bin/env python3
"""Training jobs for the GPU validation run (scripts/gpu/validate.sh; docs/gpu-validation.md).

One job per process, each the same small training loop with one knob changed, so that a
"before" and an "after" run differ by exactly one fix. A job runs three phases:

  warmup    --warmup steps, not measured (cuDNN set-up, allocator growth, CUDA graph capture)
  profiled  with --profile DIR: torch.profiler (CPU + CUDA activities) over --steps steps,
            written as DIR/<name>.pt.trace.json; the steps' wall time is measured around them
  plain     --steps steps without the profiler: wall time, and per-step GPU time from CUDA
            events recorded at each step boundary (no synchronisation inside the loop)

and writes a JSON result (--result) with both phases' mean step and the plain phase's median.
With --nvtx-steps every measured step is also an NVTX range `ProfilerStep#N`, so a trace
recorded by teye's collector has the same step marks as the profiler's.

Runs on the CPU when there is no GPU (the driver's --dry-run), with the sizes given.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True, help="job name (trace and result file names)")
    p.add_argument("--result", required=True, help="where to write the JSON result")
    p.add_argument("--model", choices=["resnet18", "resnet50", "mlp"], default="resnet18")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--width", type=int, default=64, help="resnet: first stage channels")
    p.add_argument("--mlp-width", type=int, default=512)
    p.add_argument("--mlp-layers", type=int, default=16)
    p.add_argument("--loader", choices=["dataloader", "tensor"], default="tensor",
                   help="dataloader: a torch DataLoader over a synthetic dataset; tensor: a pool "
                        "of host batches copied to the device each step")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    p.add_argument("--transform-ms", type=float, default=0.0,
                   help="CPU milliseconds of augmentation per sample: passes of crop, resize, "
                        "flip, jitter and blur repeated until this much time is spent (0: none)")
    p.add_argument("--pinned", action="store_true",
                   help="pinned host batches copied with non_blocking=True (pin_memory=True for "
                        "the DataLoader)")
    p.add_argument("--amp", action="store_true", help="torch.autocast bfloat16")
    p.add_argument("--item-sync", action="store_true", help="loss.item() every step")
    p.add_argument("--host-prep-ms", type=float, default=0.0,
                   help="CPU work on the training thread at the start of each step, before its "
                        "input copy (bookkeeping, logging, a host-side transform)")
    p.add_argument("--cuda-graph", action="store_true",
                   help="capture one whole training step in a torch.cuda.CUDAGraph and replay it")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="plain (unprofiled) steps")
    p.add_argument("--profile-steps", type=int, default=12, help="steps recorded by --profile")
    p.add_argument("--profile", metavar="DIR", default=None)
    p.add_argument("--record-shapes", action="store_true")
    p.add_argument("--nvtx-steps", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads of the training process (default 1, as a "
                        "DataLoader worker has)")
    return p.parse_args(argv)


# ---- Data ---------------------------------------------------------------------------------------

class SyntheticImages(Dataset):
    """uint8 images made from a seeded generator, then augmented on the CPU as torchvision's
    RandomResizedCrop + flip + ColorJitter + blur + Normalize would, pass after pass until
    cost_ms of CPU time is spent (so the cost is the same on any machine)."""

    def __init__(self, length, image_size, classes, cost_ms):
        self.length, self.size, self.classes = length, image_size, classes
        self.cost_s = cost_ms / 1e3

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(index)
        raw = torch.randint(0, 256, (3, self.size + self.size // 4, self.size + self.size // 4),
                            dtype=torch.uint8, generator=g)
        image = raw.float().div_(255)
        start = time.perf_counter()
        while time.perf_counter() - start < self.cost_s:
            top = int(torch.randint(0, self.size // 4 + 1, (1,), generator=g))
            crop = raw[:, top:top + self.size, top:top + self.size].float().div_(255)
            crop = F.interpolate(crop.unsqueeze(0), size=(self.size, self.size),
                                 mode="bilinear", align_corners=False).squeeze(0)
            crop = torch.flip(crop, dims=[2])
            crop = (crop * 1.1 - 0.05).clamp_(0, 1)
            crop = F.avg_pool2d(crop.unsqueeze(0), 3, stride=1, padding=1).squeeze(0)
            image = crop
        image = image[:, :self.size, :self.size]
        image = (image - 0.45) / 0.225
        label = int(torch.randint(self.classes, (1,), generator=g))
        return image.contiguous(), label


class TensorBatches:
    """A pool of two host batches, pageable or pinned, reused every step."""

    def __init__(self, args, classes, pinned):
        self.pool = []
        for i in range(2):
            g = torch.Generator().manual_seed(i)
            x = torch.randn(args.batch, 3, args.image_size, args.image_size, generator=g)
            if args.model == "mlp":
                x = torch.randn(args.batch, args.mlp_width, generator=g)
            y = torch.randint(classes, (args.batch,), generator=g)
            if pinned:
                x, y = x.pin_memory(), y.pin_memory()
            self.pool.append((x, y))
        self.i = 0

    def next(self):
        self.i += 1
        return self.pool[self.i % 2]


# ---- Models -------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class ResNet50(nn.Module):
    """torchvision's resnet50 layout (bottleneck stages of 3, 4, 6, 3 blocks)."""

    def __init__(self, width, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        layers, cin = [], width
        for stage, count in enumerate([3, 4, 6, 3]):
            mid = width * 2 ** stage
            for i in range(count):
                layers.append(Bottleneck(cin, mid, 2 if (i == 0 and stage > 0) else 1))
                cin = mid * 4
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout (stages of 2 basic blocks, 64-128-256-512 channels)."""

    def __init__(self, width, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        layers, cin = [], width
        for stage in range(4):
            cout = width * 2 ** stage
            for i in range(2):
                layers.append(BasicBlock(cin, cout, 2 if (i == 0 and stage > 0) else 1))
                cin = cout
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def make_mlp(width, layers, classes):
    mods = []
    for _ in range(layers):
        mods += [nn.Linear(width, width), nn.ReLU()]
    mods.append(nn.Linear(width, classes))
    return nn.Sequential(*mods)


# ---- Training -----------------------------------------------------------------------------------

class Job:
    def __init__(self, args):
        self.args = args
        self.cuda = args.device == "cuda"
        self.device = torch.device(args.device)
        self.classes = 100
        torch.manual_seed(0)
        if args.model == "mlp":
            self.model = make_mlp(args.mlp_width, args.mlp_layers, self.classes)
        elif args.model == "resnet50":
            self.model = ResNet50(args.width, self.classes)
        else:
            self.model = ResNet18(args.width, self.classes)
        self.model = self.model.to(self.device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loader_iter = None
        self.batches = None
        total = (args.warmup + args.steps + args.profile_steps + 8) * args.batch
        if args.loader == "dataloader":
            ds = SyntheticImages(total, args.image_size, self.classes, args.transform_ms)
            self.loader = DataLoader(ds, batch_size=args.batch, shuffle=False,
                                     num_workers=args.workers, pin_memory=args.pinned and self.cuda,
                                     drop_last=True)
            self.loader_iter = iter(self.loader)
        else:
            self.batches = TensorBatches(args, self.classes, args.pinned and self.cuda)
        self.non_blocking = args.pinned and self.cuda
        self.graph = None
        self.losses = []

    def next_batch(self):
        if self.loader_iter is not None:
            x, y = next(self.loader_iter)
        else:
            x, y = self.batches.next()
        return (x.to(self.device, non_blocking=self.non_blocking),
                y.to(self.device, non_blocking=self.non_blocking))

    def forward_backward(self, x, y):
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                            enabled=self.args.amp):
            loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def host_prep(self):
        start = time.perf_counter()
        while time.perf_counter() - start < self.args.host_prep_ms / 1e3:
            pass

    def eager_step(self):
        self.host_prep()
        x, y = self.next_batch()
        self.opt.zero_grad(set_to_none=True)
        loss = self.forward_backward(x, y)
        if self.args.item_sync:
            self.losses.append(loss.item())
        return loss

    def capture(self):
        """PyTorch's whole-network capture recipe (torch.cuda.graphs docs): warm up on a side
        stream, then capture forward, backward and the optimizer step on static tensors."""
        x, y = self.next_batch()
        self.static_x, self.static_y = x.clone(), y.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.opt.zero_grad(set_to_none=True)
                self.forward_backward(self.static_x, self.static_y)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self.static_loss = self.forward_backward(self.static_x, self.static_y)

    def graph_step(self):
        self.host_prep()
        x, y = self.next_batch()
        self.static_x.copy_(x, non_blocking=True)
        self.static_y.copy_(y, non_blocking=True)
        self.graph.replay()
        if self.args.item_sync:
            self.losses.append(self.static_loss.item())

    def step(self):
        if self.graph is not None:
            self.graph_step()
        else:
            self.eager_step()

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()


def nvtx_range(enabled, name):
    if not enabled or not torch.cuda.is_available():
        return contextlib.nullcontext()
    return torch.cuda.nvtx.range(name)


def run_profiled(job, args, step_base):
    from torch.profiler import ProfilerActivity, profile, schedule
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if job.cuda else [])
    os.makedirs(args.profile, exist_ok=True)
    path = os.path.join(args.profile, "%s.pt.trace.json" % args.name)

    def on_ready(prof):
        prof.export_chrome_trace(path)

    # One profiler warm-up step, then --steps active steps, each a ProfilerStep#N.
    prof = profile(activities=activities, record_shapes=args.record_shapes,
                   schedule=schedule(wait=0, warmup=1, active=args.profile_steps, repeat=1),
                   on_trace_ready=on_ready)
    prof.start()
    job.step()
    prof.step()
    job.sync()
    t0 = time.perf_counter()
    for i in range(args.profile_steps):
        job.step()
        if i + 1 < args.profile_steps:
            prof.step()
    job.sync()
    t1 = time.perf_counter()
    prof.step()  # ends the active window: the trace is written now, outside the timing
    prof.stop()
    return {"trace": path, "steps": args.profile_steps,
            "mean_step_ms": 1e3 * (t1 - t0) / args.profile_steps}


def run_plain(job, args, step_base):
    events = []
    job.sync()
    t0 = time.perf_counter()
    host = [t0]
    for i in range(args.steps):
        if job.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            events.append(e)
        with nvtx_range(args.nvtx_steps, "ProfilerStep#%d" % (step_base + i)):
            job.step()
        host.append(time.perf_counter())
    if job.cuda:
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        events.append(e)
    job.sync()
    t1 = time.perf_counter()
    if job.cuda:
        per_step = [events[i].elapsed_time(events[i + 1]) for i in range(len(events) - 1)]
        source = "cuda events at step boundaries"
    else:
        per_step = [1e3 * (host[i + 1] - host[i]) for i in range(len(host) - 1)]
        source = "host clock at step boundaries"
    return {"steps": args.steps, "mean_step_ms": 1e3 * (t1 - t0) / args.steps,
            "median_step_ms": statistics.median(per_step), "per_step_ms": per_step,
            "per_step_source": source}


def main(argv=None):
    args = parse_args(argv)
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(max(1, args.threads))
    job = Job(args)
    result = {"name": args.name, "args": vars(args), "torch": torch.__version__, "pid": os.getpid(),
              "device": torch.cuda.get_device_name(0) if job.cuda else "cpu"}
    started = time.perf_counter()
    for i in range(args.warmup):
        with nvtx_range(args.nvtx_steps, "warmup#%d" % i):
            job.step()
    if args.cuda_graph:
        if not job.cuda:
            raise SystemExit("--cuda-graph needs a GPU")
        job.capture()
    job.sync()
    result["warmup_s"] = time.perf_counter() - started
    if args.profile:
        result["profiled"] = run_profiled(job, args, 0)
    result["plain"] = run_plain(job, args, 1000)
    result["cuda_version"] = torch.version.cuda
    with open(args.result, "w") as f:
        json.dump(result, f, indent=1)
    print("%s: plain %.3f ms/step (median %.3f)%s" % (
        args.name, result["plain"]["mean_step_ms"], result["plain"]["median_step_ms"],
        "; profiled %.3f ms/step" % result["profiled"]["mean_step_ms"] if args.profile else ""),
        flush=True)


if __name__ == "__main__":
    sys.exit(main())
