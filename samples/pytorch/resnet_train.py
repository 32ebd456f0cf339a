#!/usr/bin/env python3
"""A ResNet-style training loop to record with teye (samples/pytorch/README.md).

The model is written here (no torchvision): a stem, residual basic blocks in stages, global
pooling and a classifier. The dataset is synthetic: every sample is made on the fly with a
configurable CPU cost per sample (--sample-cost-ms), so the input pipeline can be made the
bottleneck on purpose, and is loaded by a DataLoader with --num-workers forked workers.

Runs on the GPU when there is one, else on the CPU. With --profile DIR, torch.profiler records
a few steps on a schedule and writes a Kineto trace (DIR/*.pt.trace.json) that `teye analyze`
reads; without it, run the script under `teye record` for the collector's trace instead.

  python3 samples/pytorch/resnet_train.py --steps 20 --num-workers 2
  teye record -- python3 samples/pytorch/resnet_train.py --num-workers 4 --pin-memory --amp
"""

import argparse
import contextlib
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="training steps (default 30)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per step (default 32)")
    p.add_argument("--num-workers", type=int, default=2,
                   help="DataLoader worker processes, 0 loads in the main process (default 2)")
    p.add_argument("--pin-memory", action="store_true", help="DataLoader pin_memory=True")
    p.add_argument("--amp", action="store_true",
                   help="automatic mixed precision (float16 on GPU, bfloat16 on CPU)")
    p.add_argument("--image-size", type=int, default=64, help="input height and width (default 64)")
    p.add_argument("--width", type=int, default=32, help="channels of the first stage (default 32)")
    p.add_argument("--blocks", type=int, nargs="+", default=[2, 2, 2],
                   help="residual blocks per stage (default 2 2 2)")
    p.add_argument("--classes", type=int, default=100, help="classes (default 100)")
    p.add_argument("--sample-cost-ms", type=float, default=0.0,
                   help="CPU milliseconds spent making each sample, as decoding would (default 0)")
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (default 0.05)")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    p.add_argument("--profile", metavar="DIR", default=None,
                   help="record steps with torch.profiler and write a Kineto trace into DIR")
    p.add_argument("--profile-wait", type=int, default=1, help="profiler schedule: wait steps")
    p.add_argument("--profile-warmup", type=int, default=1, help="profiler schedule: warmup steps")
    p.add_argument("--profile-active", type=int, default=3, help="profiler schedule: active steps")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


# ---- Data -------------------------------------------------------------------------------------

class SyntheticImages(Dataset):
    """Random images and labels, deterministic per index, with a CPU cost per sample."""

    def __init__(self, length, image_size, classes, cost_ms, seed):
        self.length = length
        self.image_size = image_size
        self.classes = classes
        self.cost_s = cost_ms / 1000.0
        self.seed = seed

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        start = time.perf_counter()
        g = torch.Generator().manual_seed(self.seed * 1000003 + index)
        image = torch.rand(3, self.image_size, self.image_size, generator=g)
        image = (image - 0.5) / 0.25  # "normalise"
        label = int(torch.randint(self.classes, (1,), generator=g))
        # The rest of the per-sample budget: busy work, as JPEG decoding and augmentation are.
        while time.perf_counter() - start < self.cost_s:
            pass
        return image, label


# ---- Model ------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + skip)


class ResNet(nn.Module):
    def __init__(self, blocks, width, classes):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers = []
        cin = width
        for stage, count in enumerate(blocks):
            cout = width * (2 ** stage)
            for i in range(count):
                layers.append(BasicBlock(cin, cout, stride=2 if (i == 0 and stage > 0) else 1))
                cin = cout
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.head(x)


# ---- Training ---------------------------------------------------------------------------------

def make_profiler(args, device):
    if not args.profile:
        return contextlib.nullcontext()
    from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    return profile(
        activities=activities,
        schedule=schedule(wait=args.profile_wait, warmup=args.profile_warmup,
                          active=args.profile_active, repeat=1),
        on_trace_ready=tensorboard_trace_handler(args.profile),
        record_shapes=True)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    dataset = SyntheticImages(args.steps * args.batch_size, args.image_size, args.classes,
                              args.sample_cost_ms, args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                        num_workers=args.num_workers, pin_memory=args.pin_memory,
                        drop_last=True, persistent_workers=False)
    model = ResNet(args.blocks, args.width, args.classes).to(device)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp and device.type == "cuda")
    non_blocking = args.pin_memory and device.type == "cuda"

    print("device %s, %d steps of %d, %d workers, pin_memory=%s, amp=%s" % (
        device, args.steps, args.batch_size, args.num_workers, args.pin_memory, args.amp))
    model.train()
    started = time.perf_counter()
    step = 0
    with make_profiler(args, device) as prof:
        for images, labels in loader:
            images = images.to(device, non_blocking=non_blocking)
            images = images.contiguous(memory_format=torch.channels_last)
            labels = labels.to(device, non_blocking=non_blocking)
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=args.amp):
                loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            step += 1
            if prof is not None:
                prof.step()
            if step % 10 == 0 or step == args.steps:
                print("step %d loss %.4f" % (step, loss.item()), flush=True)
            if step >= args.steps:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    print("%d steps in %.2f s (%.1f ms/step)" % (step, seconds, 1e3 * seconds / max(step, 1)))
    if args.profile:
        print("profiler trace written to %s/" % args.profile)


if __name__ == "__main__":
    main()
