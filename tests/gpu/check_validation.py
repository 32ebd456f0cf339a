#!/usr/bin/env python3
"""ctest label gpu-data: what the H200 validation run found, checked again without a GPU.

tests/gpu/validation.json and the traces it cites were written by scripts/gpu/validate.sh on an
NVIDIA H200 (docs/gpu-validation.md); nothing here was edited by hand. Each check computes its
expected number by a route that shares no code with teye (STYLE.md 17): scripts/gpu/trace_stats.py
reads the traces with plain `json`, and each pair's "after" step was timed by the job's own clock.

  check_validation.py TEYE DATA_DIR TRACE_STATS_PY

Checks, each a line on stdout, failures collected and the exit code 1 when any failed:
  runs      the collector's trace and torch.profiler's hold the same kernels (count equal,
            kernel time within 1%) and the same copies; with both in one process, neither lost
            its GPU activity; every GPU event of the collector's trace has its launch
  reading   teye reads the collector's trace as trace_stats does (kernels per device, kernels
            and kernel time inside the steps)
  samples   samples/cuda_train under teye record: pinned and pageable copies told apart, its NVTX
            ranges and steps there
  pairs     teye's predicted step after each fix, from the "before" trace, against the step the
            fixed job measured: the fix's rule fires where the fix helped, and the prediction is
            within the pair's tolerance (the table below, stated in docs/gpu-validation.md)
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

# Per pair: the largest |predicted - measured| / measured accepted, and whether teye must
# recommend the fix (it helped by more than 5% in the measured run). The tolerances are the
# accuracy teye has today, rounded up (docs/gpu-validation.md says why each is what it is); they
# are a floor against regressions, to be tightened as the models improve.
PAIRS = {
    "dataloader": (0.65, True),
    "amp": (0.30, False),
    "pinned": (0.10, True),
    "sync": (0.20, False),
    "cuda_graph": (0.30, True),
    "amp_mlp": (0.70, True),
    "amp_conv": (0.20, False),
    "sync_prep": (0.30, True),
}

failures = []


def check(ok, what):
    print("%s  %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        failures.append(what)


def load_module(path):
    spec = importlib.util.spec_from_file_location("trace_stats", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def teye_report(teye, trace):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        p = subprocess.run([teye, "analyze", "-f", "json", "-o", out.name, trace],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            return None, (p.stderr or p.stdout).strip()
        with open(out.name) as f:
            return json.load(f)["ranks"][0], None


def main():
    teye, data, stats_py = sys.argv[1], sys.argv[2], sys.argv[3]
    ts = load_module(stats_py)
    with open(os.path.join(data, "validation.json")) as f:
        v = json.load(f)
    check(v.get("device") == "NVIDIA H200", "validation.json comes from an H200 (%s)" % v.get("device"))

    def path(rel):
        return os.path.join(data, rel) if rel else None

    # ---- runs: the collector against torch.profiler ---------------------------------------------
    for run in v["runs"]:
        c, t = path(run.get("collector_trace")), path(run.get("torch_trace"))
        check(bool(c and t and os.path.exists(c) and os.path.exists(t)),
              "%s: both traces are here" % run["name"])
        if not (c and t and os.path.exists(c) and os.path.exists(t)):
            continue
        sc, st = ts.stats(c, 12), ts.stats(t, 12)
        check(sc["kernels"] == run["kernels_collector"] and st["kernels"] == run["kernels_torch"],
              "%s: the traces are the ones the run counted (%d, %d kernels)"
              % (run["name"], sc["kernels"], st["kernels"]))
        check(sc["kernels"] > 0 and sc["kernels"] == st["kernels"],
              "%s: same kernels in 12 steps (collector %d, torch.profiler %d)"
              % (run["name"], sc["kernels"], st["kernels"]))
        diff = abs(sc["kernel_ms"] - st["kernel_ms"]) / max(st["kernel_ms"], 1e-9)
        check(diff <= 0.01, "%s: kernel time within 1%% (%.3f vs %.3f ms, %.2f%%)"
              % (run["name"], sc["kernel_ms"], st["kernel_ms"], 100 * diff))
        check(sc["memcpy"] == st["memcpy"] and sc["memcpy_bytes"] == st["memcpy_bytes"],
              "%s: same copies (%d / %d bytes)" % (run["name"], sc["memcpy"], sc["memcpy_bytes"]))
        full = ts.stats(c)
        check(full["gpu_events_with_launch"] == full["gpu_events"],
              "%s: every GPU event of the collector's trace has its launch (%d of %d)"
              % (run["name"], full["gpu_events_with_launch"], full["gpu_events"]))
        check(full["dataloader_ranges"] > 0 and full["nvtx_ranges"] > 0,
              "%s: the collector's trace has the shim's DataLoader ranges (%d) and NVTX ranges (%d)"
              % (run["name"], full["dataloader_ranges"], full["nvtx_ranges"]))

    # ---- reading: teye on the collector's trace --------------------------------------------------
    first = v["runs"][0]
    c = path(first["collector_trace"])
    rep, err = teye_report(teye, c)
    check(rep is not None, "teye analyzes the collector's trace (%s)" % (err or "ok"))
    if rep:
        full = ts.stats(c)
        steps = ts.stats(c, None)
        kernels = sum(d.get("kernel_count", 0) for d in rep["devices"])
        check(kernels == full["kernels_all"],
              "teye: %d kernels on the device, trace_stats %d" % (kernels, full["kernels_all"]))
        in_steps = sum(k["count"] for k in rep["kernel_classes"])
        ms = sum(k["total_ms"] for k in rep["kernel_classes"])
        check(in_steps == steps["kernels"] and abs(ms - steps["kernel_ms"]) <= 0.01,
              "teye: %d kernels and %.3f ms in the steps, trace_stats %d and %.3f ms"
              % (in_steps, ms, steps["kernels"], steps["kernel_ms"]))
        check(rep["steps"]["count"] == steps["steps"],
              "teye finds the %d NVTX ProfilerStep ranges as steps (%d)"
              % (steps["steps"], rep["steps"]["count"]))

    # ---- samples/cuda_train ---------------------------------------------------------------------
    for row in v.get("cuda_train", []):
        p = path(row["collector_trace"])
        s = ts.stats(p)
        want = "Memcpy HtoD (Pinned -> Device)" if "pinned" in row["name"] else \
            "Memcpy HtoD (Pageable -> Device)"
        check(s["copies"].get(want, [0])[0] == 30,
              "%s: 30 copies named %r (%s)" % (row["name"], want, sorted(s["copies"])))
        check(all(n in s["nvtx_names"] for n in ("forward", "backward", "optimizer", "copy_in")),
              "%s: its NVTX ranges are there" % row["name"])
        check(s["steps"] == 30 and s["kernels"] > 0, "%s: 30 steps with kernels" % row["name"])

    # ---- pairs: predicted against measured --------------------------------------------------------
    for pair in v["pairs"]:
        key = os.path.basename(pair["before_trace"]).split("_before")[0]
        tol, must_fire = PAIRS[key]
        rep, err = teye_report(teye, path(pair["before_trace"]))
        check(rep is not None, "%s: teye analyzes the before trace (%s)" % (key, err or "ok"))
        if not rep:
            continue
        recs = {r["id"]: r for r in rep.get("recommendations") or []}
        rule = next((r for r in pair["expected_rules"] if r in recs), None)
        mean = rep["steps"]["mean_ms"]
        predicted = mean - recs[rule]["saving_ms"] if rule else mean
        measured = pair["measured_fixed_step_ms"]
        helped = measured < 0.95 * pair["measured_before_step_ms"]
        if must_fire:
            check(helped and rule is not None,
                  "%s: the fix helped (%.2f -> %.2f ms) and teye recommends it (%s)"
                  % (key, pair["measured_before_step_ms"], measured, rule))
        err = abs(predicted - measured) / measured
        check(err <= tol, "%s: predicted %.2f ms after the fix, measured %.2f (%.0f%%, "
              "tolerance %.0f%%)" % (key, predicted, measured, 100 * err, 100 * tol))

    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
