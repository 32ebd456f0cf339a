#!/usr/bin/env python3
"""Counts what a Chrome-trace file holds, per marked step, without any of teye's code.

This is the independent route of the GPU validation (STYLE.md 17): plain `json`, the trace's own
events, and the rules written out below. It reads a torch.profiler (Kineto) trace and a trace of
teye's collector alike (both are Kineto's dialect), gzip'd or not.

Steps are the complete events named `ProfilerStep#N` on a host process (`user_annotation`,
`cpu_op`, `nvtx`, or no category as in CPU-only exports of old PyTorch releases); `--last K` keeps the last K of them in time order (a job's measured steps).
A GPU event belongs to a step when the CUDA API call that launched it (same `correlation`)
starts inside the step's host range. Per step: kernels (count, summed duration), copies by name
(count, bytes), memsets. For the whole file: how many GPU events have a launch with the same
correlation, NVTX ranges, DataLoader ranges, ProfilerStep ranges.

  trace_stats.py TRACE [--last K] [--json OUT]
"""

import argparse
import gzip
import json
import re
import statistics
import sys

STEP = re.compile(r"^ProfilerStep#(\d+)$")
HOST_STEP_CATS = {"user_annotation", "cpu_op", "nvtx", "user-annotation", ""}
LAUNCH_CATS = {"cuda_runtime", "cuda_driver", "runtime", "driver"}
GPU_CATS = {"kernel": "kernel", "gpu_memcpy": "memcpy", "gpu_memset": "memset"}


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    return doc if isinstance(doc, dict) else {}, events


def stats(path, last=None):
    doc, events = load(path)
    steps, launches, gpu = [], {}, []
    nvtx = dataloader = 0
    names_nvtx = {}
    for e in events:
        if e.get("ph") != "X":
            continue
        cat = str(e.get("cat", "")).lower()
        name = e.get("name", "")
        args = e.get("args") or {}
        ts, dur = float(e.get("ts", 0)), float(e.get("dur", 0))
        if cat in HOST_STEP_CATS and STEP.match(name):
            steps.append((ts, ts + dur, name, e.get("pid")))
        if cat == "nvtx":
            nvtx += 1
            names_nvtx[name] = names_nvtx.get(name, 0) + 1
        if cat == "dataloader" or (cat in ("user_annotation", "cpu_op")
                                   and name.startswith("enumerate(DataLoader)")):
            dataloader += 1
        if cat in LAUNCH_CATS and "correlation" in args:
            launches[int(args["correlation"])] = (ts, e.get("pid"))
        if cat in GPU_CATS and "correlation" in args:
            gpu.append((GPU_CATS[cat], int(args["correlation"]), ts, dur, name,
                        int(args.get("bytes", 0) or 0)))
    steps.sort()
    if last:
        steps = steps[-last:]
    per_step = [{"name": s[2], "kernels": 0, "kernel_us": 0.0, "memcpy": 0, "memcpy_bytes": 0,
                 "memset": 0, "copies": {}} for s in steps]
    starts = [s[0] for s in steps]
    matched = 0
    for kind, corr, ts, dur, name, nbytes in gpu:
        launch = launches.get(corr)
        if launch is None:
            continue
        matched += 1
        lts = launch[0]
        # The step whose host range holds the launch (steps do not overlap on the host).
        idx = None
        lo, hi = 0, len(steps)
        while lo < hi:
            mid = (lo + hi) // 2
            if starts[mid] <= lts:
                lo = mid + 1
            else:
                hi = mid
        if lo > 0 and lts <= steps[lo - 1][1]:
            idx = lo - 1
        if idx is None:
            continue
        s = per_step[idx]
        if kind == "kernel":
            s["kernels"] += 1
            s["kernel_us"] += dur
        elif kind == "memcpy":
            s["memcpy"] += 1
            s["memcpy_bytes"] += nbytes
            c = s["copies"].setdefault(name, [0, 0])
            c[0] += 1
            c[1] += nbytes
        else:
            s["memset"] += 1
    out = {
        "trace": path,
        "steps": len(steps),
        "step_names": [s[2] for s in steps[:1] + steps[-1:]],
        "gpu_events": len(gpu),
        "kernels_all": sum(1 for g in gpu if g[0] == "kernel"),
        "kernel_ms_all": sum(g[3] for g in gpu if g[0] == "kernel") / 1e3,
        "gpu_events_with_launch": matched,
        "nvtx_ranges": nvtx,
        "dataloader_ranges": dataloader,
        "kernels": sum(s["kernels"] for s in per_step),
        "kernel_ms": sum(s["kernel_us"] for s in per_step) / 1e3,
        "memcpy": sum(s["memcpy"] for s in per_step),
        "memcpy_bytes": sum(s["memcpy_bytes"] for s in per_step),
        "memset": sum(s["memset"] for s in per_step),
        "kernels_per_step": sorted({s["kernels"] for s in per_step}),
        "step_host_ms_median": statistics.median([(s[1] - s[0]) / 1e3 for s in steps])
        if steps else None,
        "copies": {},
        "device_name": None,
    }
    for s in per_step:
        for name, (count, nbytes) in s["copies"].items():
            c = out["copies"].setdefault(name, [0, 0])
            c[0] += count
            c[1] += nbytes
    props = doc.get("deviceProperties") or []
    if props:
        out["device_name"] = props[0].get("name")
    top_nvtx = sorted(names_nvtx.items(), key=lambda kv: -kv[1])[:12]
    out["nvtx_names"] = dict(top_nvtx)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace")
    p.add_argument("--last", type=int, default=None)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    out = stats(a.trace, a.last)
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())
