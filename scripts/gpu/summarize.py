#!/usr/bin/env python3
"""The analysis phase of the GPU validation (scripts/gpu/validate.sh): writes validation.json.

Reads a results folder (traces/ with the gzip'd traces, work/ with each job's JSON result) and:
- for each collector-vs-profiler comparison, counts kernels, kernel time, copies, NVTX and
  DataLoader ranges per step in both traces with trace_stats.py (no teye code);
- for each before/after pair, runs `teye analyze -f json` on the "before" trace and takes the
  step time teye predicts after the pair's fix (its mean step minus the saving of the
  recommendation that fix is), next to the step the "after" job measured with its own clock.

  summarize.py --dest DIR --teye PATH [--mode device|dry|analyze]
"""

import argparse
import datetime
import glob
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trace_stats  # noqa: E402

# Each pair: the problem, the fix, and the teye recommendations that are that fix (first found
# wins).
PAIRS = [
    ("dataloader", "GPU waits for a DataLoader with num_workers=0 and a CPU-heavy transform",
     "num_workers=4", ["dataloader_workers"]),
    ("amp", "FP32 training", "torch.autocast(bfloat16)", ["amp"]),
    ("pinned", "pageable host batches copied with .to(cuda)",
     "pinned batches copied with non_blocking=True", ["pin_memory", "overlap_input_copies"]),
    ("sync", "loss.item() every step", "no .item() in the loop", ["remove_syncs"]),
    ("cuda_graph", "eager launches of a small MLP's step", "the step captured in a CUDA graph",
     ["cuda_graphs"]),
    ("amp_mlp", "FP32 GEMMs (a wide MLP, cuBLAS without TF32)", "torch.autocast(bfloat16)",
     ["amp"]),
    ("amp_conv", "FP32 ResNet-50 (cuDNN convolutions in TF32)", "torch.autocast(bfloat16)",
     ["amp"]),
    ("sync_prep", "loss.item() every step, with host work before each step's input copy",
     "no .item() in the loop", ["remove_syncs"]),
]
COMPARE_STEPS = 12  # steps compared per trace: the profiled window's length
REPORTS = None  # where teye's JSON reports are written


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def teye_report(teye, trace, out):
    """`teye analyze -f json`; the first rank's report, or None with the error."""
    try:
        p = subprocess.run([teye, "analyze", "-f", "json", "-o", out, trace],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip()[:300]
    report = load_json(out)
    if not report or not report.get("ranks"):
        return None, "no ranks in the report"
    return report["ranks"][0], None


def dig(obj, *keys):
    """obj[k1][k2]..., or None where a level is missing or null."""
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def rel(dest, path):
    return os.path.relpath(path, dest) if path and os.path.exists(path) else None


def comparison(dest, name, collector_trace, torch_trace, plain, recorded):
    row = {"name": name, "collector_trace": rel(dest, collector_trace),
           "torch_trace": rel(dest, torch_trace)}
    for side, trace in (("collector", collector_trace), ("torch", torch_trace)):
        if not trace or not os.path.exists(trace):
            row["kernels_" + side] = row["kernel_time_%s_ms" % side] = None
            continue
        s = trace_stats.stats(trace, COMPARE_STEPS)
        row["kernels_" + side] = s["kernels"]
        row["kernel_time_%s_ms" % side] = round(s["kernel_ms"], 4)
        row[side] = {k: s[k] for k in ("steps", "step_names", "kernels_per_step", "memcpy",
                                       "memcpy_bytes", "memset", "copies", "gpu_events",
                                       "gpu_events_with_launch", "nvtx_ranges",
                                       "dataloader_ranges", "nvtx_names", "device_name")}
    k_c, k_t = row.get("kernels_collector"), row.get("kernels_torch")
    if k_c and k_t:
        row["kernel_count_diff_pct"] = round(100.0 * (k_c - k_t) / k_t, 3)
        t_c, t_t = row["kernel_time_collector_ms"], row["kernel_time_torch_ms"]
        row["kernel_time_diff_pct"] = round(100.0 * (t_c - t_t) / t_t, 3) if t_t else None
    row["step_ms_plain"] = plain["plain"]["median_step_ms"] if plain else None
    row["step_ms_recorded"] = recorded["plain"]["median_step_ms"] if recorded else None
    if row["step_ms_plain"] and row["step_ms_recorded"]:
        row["overhead_pct"] = round(
            100.0 * (row["step_ms_recorded"] - row["step_ms_plain"]) / row["step_ms_plain"], 3)
    return row


def pair_row(dest, teye, key, problem, fix, rules):
    work = os.path.join(dest, "work")
    before = os.path.join(dest, "traces", "%s_before.pt.trace.json.gz" % key)
    after = os.path.join(dest, "traces", "%s_after.pt.trace.json.gz" % key)
    rb = load_json(os.path.join(work, "pair_%s_before.json" % key))
    ra = load_json(os.path.join(work, "pair_%s_after.json" % key))
    row = {"problem": problem, "fix": fix, "before_trace": rel(dest, before),
           "after_trace": rel(dest, after), "predicted_step_ms": None,
           "measured_fixed_step_ms": ra["profiled"]["mean_step_ms"] if ra and "profiled" in ra
           else None,
           "measured_before_step_ms": rb["profiled"]["mean_step_ms"] if rb and "profiled" in rb
           else None,
           "plain_before_step_ms": rb["plain"]["mean_step_ms"] if rb else None,
           "plain_after_step_ms": ra["plain"]["mean_step_ms"] if ra else None,
           "expected_rules": rules}
    if not os.path.exists(before):
        row["error"] = "no before trace"
        return row
    report, err = teye_report(teye, before, os.path.join(REPORTS, "teye_%s_before.json" % key))
    if report is None:
        row["error"] = "teye analyze failed: %s" % err
        return row
    steps = report.get("steps") or {}
    bound = report.get("bound") or {}
    recs = report.get("recommendations") or []
    row["teye_before_step_ms"] = steps.get("mean_ms")
    row["teye_class"] = bound.get("class")
    row["teye_ranking"] = [[r.get("id"), r.get("saving_ms")] for r in recs]
    for rule in rules:
        match = next((r for r in recs if r.get("id") == rule), None)
        if match and steps.get("mean_ms") is not None:
            row["rule"] = rule
            row["rank"] = recs.index(match) + 1
            row["saving_ms"] = match.get("saving_ms")
            row["method"] = match.get("method")
            row["predicted_step_ms"] = round(steps["mean_ms"] - match.get("saving_ms", 0.0), 3)
            break
    if row["predicted_step_ms"] is None and steps.get("mean_ms") is not None:
        # No recommendation for this fix: teye's prediction is that it saves nothing.
        row["rule"] = None
        row["predicted_step_ms"] = steps["mean_ms"]
        row["note"] = "teye recommends none of %s: it predicts no saving" % ", ".join(rules)
    measured = row["measured_fixed_step_ms"]
    if row["predicted_step_ms"] is not None and measured:
        row["prediction_error_pct"] = round(
            100.0 * (row["predicted_step_ms"] - measured) / measured, 2)
    if os.path.exists(after):
        ra_report, _ = teye_report(teye, after, os.path.join(REPORTS, "teye_%s_after.json" % key))
        if ra_report:
            row["teye_after_step_ms"] = dig(ra_report, "steps", "mean_ms")
            row["teye_after_class"] = dig(ra_report, "bound", "class")
    return row


def cuda_train_row(dest, teye):
    rows = []
    for tag in ("cuda_train_pageable", "cuda_train_pinned"):
        trace = os.path.join(dest, "traces", "%s_collector.pt.trace.json.gz" % tag)
        if not os.path.exists(trace):
            continue
        s = trace_stats.stats(trace)
        report, err = teye_report(teye, trace, os.path.join(REPORTS, "teye_%s.json" % tag))
        rows.append({"name": tag, "collector_trace": rel(dest, trace),
                     "steps": s["steps"], "kernels": s["kernels"],
                     "kernel_time_ms": round(s["kernel_ms"], 4), "memcpy": s["memcpy"],
                     "memcpy_bytes": s["memcpy_bytes"], "copies": s["copies"],
                     "nvtx_ranges": s["nvtx_ranges"], "nvtx_names": s["nvtx_names"],
                     "gpu_events_with_launch": s["gpu_events_with_launch"],
                     "gpu_events": s["gpu_events"],
                     "teye_class": dig(report, "bound", "class"),
                     "teye_first": dig((dig(report, "recommendations") or [{}])[0], "id"),
                     "teye_error": err})
    return rows


def overhead(work):
    """The collector's overhead on the step time: plain and recorded runs of the same job in
    turn, per-step times from CUDA events; the medians of all plain and all recorded steps."""
    runs, plain, recorded = [], [], []
    for i in (1, 2, 3):
        p = load_json(os.path.join(work, "overhead_plain_%d.json" % i))
        r = load_json(os.path.join(work, "overhead_recorded_%d.json" % i))
        if not p or not r:
            continue
        plain += p["plain"]["per_step_ms"]
        recorded += r["plain"]["per_step_ms"]
        runs.append({"plain_median_ms": p["plain"]["median_step_ms"],
                     "recorded_median_ms": r["plain"]["median_step_ms"],
                     "plain_mean_ms": p["plain"]["mean_step_ms"],
                     "recorded_mean_ms": r["plain"]["mean_step_ms"]})
    if not runs:
        return None
    mp, mr = statistics.median(plain), statistics.median(recorded)
    nodriver = load_json(os.path.join(work, "overhead_nodriver.json"))
    variants = {}
    if nodriver:
        md = nodriver["plain"]["median_step_ms"]
        variants["TEYE_CUPTI_DRIVER=0"] = {"recorded_median_ms": round(md, 4),
                                           "overhead_pct": round(100.0 * (md - mp) / mp, 3)}
    return {"job": "resnet18 batch 128, pinned tensors, no DataLoader", "runs": runs,
            "variants": variants,
            "steps_each": len(plain), "plain_median_ms": round(mp, 4),
            "recorded_median_ms": round(mr, 4), "overhead_pct": round(100.0 * (mr - mp) / mp, 3)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dest", required=True)
    p.add_argument("--teye", required=True)
    p.add_argument("--mode", default="analyze")
    p.add_argument("--reports", default=None, help="where teye's reports go (default DEST/work)")
    a = p.parse_args()
    dest, work = a.dest, os.path.join(a.dest, "work")
    global REPORTS
    REPORTS = a.reports or work
    env = load_json(os.path.join(work, "env.json")) or {}
    job = load_json(os.path.join(work, "cmp_torch.json")) or load_json(
        os.path.join(work, "cmp_plain.json")) or {}
    smi = [x.strip() for x in env.get("nvidia_smi", "").split(",")]
    out = {
        "device": job.get("device") or (smi[0] if smi and smi[0] else None),
        "driver": smi[1] if len(smi) > 1 else None,
        "cuda": job.get("cuda_version"),
        "torch": job.get("torch"),
        "date": env.get("date"),
        "mode": env.get("mode", a.mode),
        "analyzed": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": [],
        "pairs": [],
    }
    tr = os.path.join(dest, "traces")
    plain = load_json(os.path.join(work, "cmp_plain.json"))
    out["runs"].append(comparison(
        dest, "resnet18 DataLoader(2 workers, pinned): collector run vs torch.profiler run",
        os.path.join(tr, "cmp_collector_collector.pt.trace.json.gz"),
        os.path.join(tr, "cmp_torch.pt.trace.json.gz"), plain,
        load_json(os.path.join(work, "cmp_collector.json"))))
    out["runs"].append(comparison(
        dest, "the same job with the collector and torch.profiler in one process",
        os.path.join(tr, "cmp_both_collector.pt.trace.json.gz"),
        os.path.join(tr, "cmp_both_torch.pt.trace.json.gz"), plain,
        load_json(os.path.join(work, "cmp_both.json"))))
    # The collector's own trace of the job, as teye reads it.
    coll = os.path.join(tr, "cmp_collector_collector.pt.trace.json.gz")
    if os.path.exists(coll):
        rep, err = teye_report(a.teye, coll, os.path.join(REPORTS, "teye_cmp_collector.json"))
        out["runs"][0]["teye_collector_trace"] = {
            "error": err, "steps": dig(rep, "steps", "count"),
            "gpu_utilization": dig(rep, "gpu_utilization"), "class": dig(rep, "bound", "class"),
            "first_recommendation": dig((dig(rep, "recommendations") or [{}])[0], "id")}
    out["overhead"] = overhead(work)
    out["cuda_train"] = cuda_train_row(dest, a.teye)
    ct_plain = os.path.join(work, "cuda_train_plain.log")
    if os.path.exists(ct_plain):
        out["cuda_train_plain_log_tail"] = open(ct_plain).read()[-300:]
    for key, problem, fix, rules in PAIRS:
        if os.path.exists(os.path.join(work, "pair_%s_before.json" % key)):
            out["pairs"].append(pair_row(dest, a.teye, key, problem, fix, rules))
    with open(os.path.join(dest, "validation.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for r in out["runs"]:
        print("run %-70s kernels %s/%s  time %s/%s ms  step %s/%s ms" % (
            r["name"][:70], r.get("kernels_collector"), r.get("kernels_torch"),
            r.get("kernel_time_collector_ms"), r.get("kernel_time_torch_ms"),
            r.get("step_ms_plain"), r.get("step_ms_recorded")))
    if out["overhead"]:
        print("overhead %s" % json.dumps(out["overhead"]))
    for r in out["pairs"]:
        print("pair %-12s rule %-20s predicted %s measured %s (before %s) %s" % (
            r["before_trace"] and os.path.basename(r["before_trace"]).split("_before")[0],
            r.get("rule"), r.get("predicted_step_ms"), r.get("measured_fixed_step_ms"),
            r.get("measured_before_step_ms"), r.get("error", r.get("note", ""))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
