#include "teye/analyzers/gate.h"

#include <cstdio>

namespace teye {
namespace {

std::string Format(const char* fmt, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

double StepMs(const StepSample& s) {
  return s.duration_ms;
}
double Util(const StepSample& s) {
  return s.gpu_utilization;
}

// The share a --max-share key names: a bound class share over all complete steps when the run
// was classified, else the median over steps of a breakdown category's share.
Result<double> ShareOf(const RunSummary& run, const std::string& key) {
  for (const auto& [name, share] : run.bound_shares)
    if (name == key) return share;
  for (size_t c = 0; c < kTimeCategoryCount; ++c) {
    const auto cat = static_cast<TimeCategory>(c);
    if (ToString(cat) != key) continue;
    std::vector<double> v;
    for (const StepSample& s : run.steps)
      v.push_back(s.Share(cat));
    return Summarize(std::move(v)).median;
  }
  std::string known;
  for (const auto& [name, share] : run.bound_shares)
    known += name + ", ";
  for (size_t c = 0; c < kTimeCategoryCount; ++c)
    known += std::string(ToString(static_cast<TimeCategory>(c))) +
             (c + 1 < kTimeCategoryCount ? ", " : "");
  return Error{"--max-share: unknown share '" + key + "' (known: " + known + ")"};
}

void AddCheck(GateResult& r, GateCheck c, bool upper) {
  const double spare = upper ? c.limit - c.measured : c.measured - c.limit;
  c.passed = spare >= 0;
  const double scale = c.limit != 0 ? (c.limit < 0 ? -c.limit : c.limit) : 1.0;
  c.near_miss = c.passed && spare < kNearMissFraction * scale;
  if (c.near_miss) r.warnings.push_back(c.id + " passed narrowly: " + c.message);
  r.checks.push_back(std::move(c));
}

}  // namespace

std::string_view ToString(GateVerdict v) {
  switch (v) {
    case GateVerdict::kPass:
      return "pass";
    case GateVerdict::kFail:
      return "fail";
    case GateVerdict::kRefused:
      return "refused";
  }
  return "?";
}

int GateResult::Failures() const {
  int n = 0;
  for (const GateCheck& c : checks)
    n += !c.passed;
  return n;
}

Result<GateResult> EvaluateGate(const RunSummary& run, const RunSummary* baseline,
                                const GateOptions& o) {
  GateResult r;
  r.steps = static_cast<int>(run.steps.size());
  r.median_step_ms = MedianOf(run.steps, StepMs);
  r.median_gpu_util = MedianOf(run.steps, Util);
  if (baseline) {
    r.has_baseline = true;
    r.baseline_steps = static_cast<int>(baseline->steps.size());
    r.baseline_step_ms = MedianOf(baseline->steps, StepMs);
    r.baseline_gpu_util = MedianOf(baseline->steps, Util);
  }
  // Resolve every share key first: a typo is a usage error even when the gate would refuse.
  std::vector<double> shares;
  for (const ShareLimit& l : o.max_shares) {
    auto s = ShareOf(run, l.key);
    if (!s.ok()) return s.error();
    shares.push_back(s.value());
  }
  if (r.steps < o.min_steps) {
    r.verdict = GateVerdict::kRefused;
    r.refusal = run.source + ": " +
                (r.steps == 0 ? std::string("no complete step with GPU activity")
                              : std::to_string(r.steps) + " complete step(s)") +
                ", the gate needs " + std::to_string(o.min_steps) +
                " (--min-steps) to compare medians";
    return r;
  }
  if (baseline && r.baseline_steps < o.min_steps) {
    r.verdict = GateVerdict::kRefused;
    r.refusal = baseline->source + " (baseline): " + std::to_string(r.baseline_steps) +
                " complete step(s), the gate needs " + std::to_string(o.min_steps) +
                " (--min-steps)";
    return r;
  }
  if (o.min_gpu_util && run.host_timeline) {
    r.verdict = GateVerdict::kRefused;
    r.refusal = run.source +
                ": no GPU activity (the steps are the training thread's), so "
                "--min-gpu-util cannot be judged";
    return r;
  }
  if (run.rank_count > 1)
    r.warnings.push_back(run.source + " holds " + std::to_string(run.rank_count) +
                         " ranks; the gate judged the first");

  if (o.min_gpu_util) {
    AddCheck(r,
             {"min_gpu_util",
              Format("median GPU utilization %.1f%% (minimum %.1f%%)", 100 * r.median_gpu_util,
                     100 * *o.min_gpu_util),
              r.median_gpu_util, *o.min_gpu_util},
             false);
  }
  if (o.max_step_ms) {
    AddCheck(r,
             {"max_step_ms",
              Format("median step %.2f ms (maximum %.2f ms)", r.median_step_ms, *o.max_step_ms),
              r.median_step_ms, *o.max_step_ms},
             true);
  }
  for (size_t i = 0; i < o.max_shares.size(); ++i) {
    const ShareLimit& l = o.max_shares[i];
    AddCheck(r,
             {"max_share." + l.key,
              Format(("share of " + l.key + " %.1f%% of the step (maximum %.1f%%)").c_str(),
                     100 * shares[i], 100 * l.max),
              shares[i], l.max},
             true);
  }
  if (baseline) {
    double max_reg = o.max_step_regression.value_or(kDefaultMaxStepRegression);
    double max_drop = o.max_util_drop_pts.value_or(kDefaultMaxUtilDropPts);
    const double reg =
        r.baseline_step_ms > 0 ? (r.median_step_ms - r.baseline_step_ms) / r.baseline_step_ms : 0;
    AddCheck(r,
             {"max_step_regression",
              Format("median step %+.1f%% against the baseline (maximum +%.1f%%)", 100 * reg,
                     100 * max_reg) +
                  Format(": %.2f ms vs %.2f ms", r.median_step_ms, r.baseline_step_ms),
              reg, max_reg},
             true);
    const double drop = 100 * (r.baseline_gpu_util - r.median_gpu_util);
    AddCheck(r,
             {"max_util_drop",
              Format("median GPU utilization %.1f points below the baseline (maximum %.1f)", drop,
                     max_drop) +
                  Format(": %.1f%% vs %.1f%%", 100 * r.median_gpu_util, 100 * r.baseline_gpu_util),
              drop, max_drop},
             true);
  }
  if (r.checks.empty())
    r.warnings.push_back(
        "no thresholds given: nothing was checked (see `teye gate --help` and docs/ci.md)");
  r.verdict = r.Failures() ? GateVerdict::kFail : GateVerdict::kPass;
  return r;
}

}  // namespace teye
