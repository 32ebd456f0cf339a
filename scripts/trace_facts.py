#!/usr/bin/env python3
"""What a PyTorch-profiler (Kineto) trace shows, measured without teye: the facts
docs/diagnosis.md checks teye's verdicts against.

Usage: scripts/trace_facts.py TRACE.json[.gz] ...

Standard library only, and none of teye's code or constants. Per trace: the ProfilerStep#N host
ranges (or the whole trace when there are none), the union of kernel time inside them, GPU busy
(kernels, copies, memsets), the median kernel, and per step: launch calls, synchronizing calls,
DataLoader iterations, NCCL kernels and FP32 (SIMT) GEMM/convolution kernels.
"""
import gzip
import json
import re
import statistics
import sys

GPU_CATS = ("kernel", "gpu_memcpy", "memcpy", "gpu_memset", "memset")
NOT_HOST = GPU_CATS + ("gpu_user_annotation", "trace", "cuda_sync")


def load(path):
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        t = json.load(f)
    return t["traceEvents"] if isinstance(t, dict) else t


def union(intervals):
    total, start, end = 0, None, None
    for s, e in sorted(intervals):
        if end is None or s > end:
            if end is not None:
                total += end - start
            start, end = s, e
        else:
            end = max(end, e)
    return total + (end - start if end is not None else 0)


def facts(path):
    events = [e for e in load(path)
              if e.get("ph") == "X" and isinstance(e.get("dur"), (int, float))]
    cat = lambda e: (e.get("cat") or "").lower()
    name = lambda e: str(e.get("name", ""))
    steps = sorted((e for e in events if name(e).startswith("ProfilerStep#")
                    and cat(e) in ("user_annotation", "cpu_op", "operator")),
                   key=lambda e: e["ts"])
    if steps:
        lo, hi, n = steps[0]["ts"], steps[-1]["ts"] + steps[-1]["dur"], len(steps)
    else:
        lo = min(e["ts"] for e in events)
        hi, n = max(e["ts"] + e["dur"] for e in events), 1
    inside = lambda e: lo <= e["ts"] < hi
    kernels = [e for e in events if cat(e) == "kernel" and inside(e)]
    gpu = [e for e in events if cat(e) in GPU_CATS and inside(e)]
    host = [e for e in events if cat(e) not in NOT_HOST and inside(e)]
    span = hi - lo
    kernel_union = union((e["ts"], min(e["ts"] + e["dur"], hi)) for e in kernels)
    busy_union = union((e["ts"], min(e["ts"] + e["dur"], hi)) for e in gpu)
    per_step = lambda total: total / n / 1000  # µs in the file → ms per step

    def host_ms(pattern):
        return per_step(sum(e["dur"] for e in host if re.search(pattern, name(e))))

    durations = sorted(e["dur"] for e in kernels)
    print(path)
    print("  steps %d (%s), host step ms %s; window %.1f ms" % (
        n, "ProfilerStep#N" if steps else "whole trace",
        [round(s["dur"] / 1000, 1) for s in steps][:8], span / 1000))
    print("  kernels %d, union %.1f ms/step = %.1f%% of the window; GPU busy %.1f%%; "
          "median kernel %.1f us" % (
              len(kernels), per_step(kernel_union), 100 * kernel_union / span if span else 0,
              100 * busy_union / span if span else 0,
              statistics.median(durations) if durations else 0))
    launches = sum(1 for e in host if re.match(
        r"(cuda|hip|cu)(Launch|GraphLaunch|ExtModuleLaunch|ModuleLaunch)", name(e))) / n
    print("  per step: launches %.0f, sync calls %.2f ms, DataLoader %.2f ms, NCCL kernels %.2f "
          "ms, FP32 GEMM/conv kernels %.2f ms" % (
              launches, host_ms(r"Synchronize|^cudaMemcpy$|^cudaFree$"),
              host_ms(r"^enumerate\(DataLoader\)"),
              per_step(sum(e["dur"] for e in kernels if name(e).startswith("nccl"))),
              per_step(sum(e["dur"] for e in kernels if re.search(
                  r"sgemm|scudnn|dgrad_engine|wgrad_alg|implicit_convolve_sgemm|gemv2T_kernel",
                  name(e))))))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        facts(p)
