#!/usr/bin/env python3
"""Data-parallel training (DistributedDataParallel) to record with teye, launched by torchrun.

The model and synthetic dataset are resnet_train.py's. Backend NCCL on GPUs (one per process,
LOCAL_RANK), gloo on the CPU when there is no GPU. Two ways to synchronise gradients:

* default: DDP's bucketed all-reduce, overlapped with the backward pass; --bucket-cap-mb sets
  the bucket size (DDP's bucket_cap_mb);
* --no-overlap: backward under ``no_sync()`` (DDP communicates nothing), then one all-reduce per
  gradient after the backward pass: the communication no longer hides behind compute, which is
  what teye's report should point out.

  torchrun --standalone --nproc_per_node 2 samples/pytorch/ddp_train.py --steps 20
  teye record -- torchrun --standalone --nproc_per_node 2 samples/pytorch/ddp_train.py --no-overlap
"""

import argparse
import contextlib
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_train import ResNet, SyntheticImages  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="training steps (default 30)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per step and rank (default 32)")
    p.add_argument("--num-workers", type=int, default=2, help="DataLoader workers per rank (default 2)")
    p.add_argument("--pin-memory", action="store_true", help="DataLoader pin_memory=True")
    p.add_argument("--amp", action="store_true", help="automatic mixed precision")
    p.add_argument("--bucket-cap-mb", type=float, default=25.0,
                   help="DDP gradient bucket size in MiB (default 25, DDP's own default)")
    p.add_argument("--no-overlap", action="store_true",
                   help="no_sync() backward, then a manual all-reduce per gradient")
    p.add_argument("--image-size", type=int, default=64, help="input height and width (default 64)")
    p.add_argument("--width", type=int, default=32, help="channels of the first stage (default 32)")
    p.add_argument("--blocks", type=int, nargs="+", default=[2, 2, 2],
                   help="residual blocks per stage (default 2 2 2)")
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--sample-cost-ms", type=float, default=0.0,
                   help="CPU milliseconds spent making each sample (default 0)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--profile", metavar="DIR", default=None,
                   help="torch.profiler trace per rank into DIR (wait 1, warmup 1, active 3)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if "RANK" not in os.environ:
        sys.exit("ddp_train.py: launch it with torchrun, e.g. "
                 "torchrun --standalone --nproc_per_node 2 %s" % sys.argv[0])
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    world = int(os.environ["WORLD_SIZE"])
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    torch.manual_seed(0)

    dataset = SyntheticImages(args.steps * args.batch_size * world, args.image_size, args.classes,
                              args.sample_cost_ms, seed=0)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler,
                        num_workers=args.num_workers, pin_memory=args.pin_memory, drop_last=True)
    model = ResNet(args.blocks, args.width, args.classes).to(device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if use_cuda else None,
                                  bucket_cap_mb=args.bucket_cap_mb)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    amp_dtype = torch.float16 if use_cuda else torch.bfloat16
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp and use_cuda)
    non_blocking = args.pin_memory and use_cuda

    profiler = contextlib.nullcontext()
    if args.profile:
        from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if use_cuda else [])
        profiler = profile(activities=activities,
                           schedule=schedule(wait=1, warmup=1, active=3, repeat=1),
                           on_trace_ready=tensorboard_trace_handler(args.profile,
                                                                    worker_name="rank%d" % rank))

    if rank == 0:
        print("%d ranks (%s), %d steps of %d per rank, bucket_cap_mb=%g, overlap=%s" % (
            world, dist.get_backend(), args.steps, args.batch_size, args.bucket_cap_mb,
            not args.no_overlap), flush=True)
    ddp.train()
    started = time.perf_counter()
    step = 0
    with profiler as prof:
        for images, labels in loader:
            images = images.to(device, non_blocking=non_blocking)
            labels = labels.to(device, non_blocking=non_blocking)
            optimizer.zero_grad(set_to_none=True)
            sync = ddp.no_sync() if args.no_overlap else contextlib.nullcontext()
            with sync:
                with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=args.amp):
                    loss = F.cross_entropy(ddp(images), labels)
                scaler.scale(loss).backward()
            if args.no_overlap:
                # After the whole backward pass: nothing left to overlap with.
                for p in ddp.parameters():
                    if p.grad is not None:
                        dist.all_reduce(p.grad)
                        p.grad.div_(world)
            scaler.step(optimizer)
            scaler.update()
            step += 1
            if prof is not None:
                prof.step()
            if rank == 0 and (step % 10 == 0 or step == args.steps):
                print("step %d loss %.4f" % (step, loss.item()), flush=True)
            if step >= args.steps:
                break
    if use_cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    if rank == 0:
        print("%d steps in %.2f s (%.1f ms/step)" % (step, seconds, 1e3 * seconds / max(step, 1)))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
