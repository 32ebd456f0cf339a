// The seeded scenario sweep (issue 3): every family of `teye synth` scenarios, many seeds each.
// For each scenario the injected problem is known, and the same scenario with the fix applied
// gives the true gain, so the diagnosis is checked against ground truth:
//  - the bound class is the family's when the verdict is clear (margin of 10 points or more);
//  - the recommendation for the injected problem ranks first;
//  - its predicted saving is close to the gain measured on the fixed trace.
#include <algorithm>
#include <cmath>
#include <future>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/synth/synth.h"

namespace teye {
namespace {

constexpr int kSeedsPerFamily = 23;  // 10 families (one a healthy control) → 230 scenarios

struct Outcome {
  std::string family;
  uint64_t seed = 0;
  std::string expected_class, got_class, first_rule, expected_rule;
  double margin = 0, step_ms = 0, predicted_ms = -1, true_gain_ms = 0;
  double largest_saving_pct = 0;
  bool healthy = false;  // a control: no problem injected (its fix is "-")
  std::string error;
};

// The rule whose recommendation a synth fix implements.
std::string RuleOfFix(const std::string& fix) {
  if (fix == "remove_sync") return "remove_syncs";
  if (fix == "bucketing") return "gradient_bucketing";
  return fix;
}

Result<TraceAnalysis> AnalyzeKnobs(const synth::Knobs& k) {
  std::ostringstream text;
  synth::Simulate(k, text);
  auto trace = ReadTraceBytes("synth", text.str());
  if (!trace.ok()) return trace.error();
  return AnalyzeTrace(trace.value(), {});
}

Outcome Run(const synth::ScenarioInfo& info, uint64_t seed) {
  Outcome o;
  o.family = info.name;
  o.seed = seed;
  o.expected_class = info.expected_bound;
  o.healthy = info.fix == "-";
  o.expected_rule = o.healthy ? "" : RuleOfFix(info.fix);
  auto knobs = synth::ScenarioKnobs(info.name, seed);
  auto base = AnalyzeKnobs(knobs.value());
  auto after = o.healthy ? AnalyzeKnobs(knobs.value())
                         : AnalyzeKnobs(synth::ApplyFix(knobs.value(), info.fix).value());
  if (!base.ok() || !after.ok()) {
    o.error = !base.ok() ? base.error().ToString() : after.error().ToString();
    return o;
  }
  const TraceAnalysis& a = base.value();
  o.got_class = std::string(ToString(a.bound.run.cls));
  o.margin = a.bound.run.margin;
  o.step_ms = a.mean_step_ms;
  o.true_gain_ms = a.mean_step_ms - after.value().mean_step_ms;
  if (!a.recommendations.empty()) o.first_rule = a.recommendations.front().id;
  // In the healthy control the GPU is fed: no rule may claim input, communication or the host
  // cost much (faster kernels may still be possible, and are measured gains).
  for (const Recommendation& r : a.recommendations)
    if (r.relieves != BoundClass::kCompute && r.relieves != BoundClass::kMemory)
      o.largest_saving_pct = std::max(o.largest_saving_pct, r.saving_pct);
  for (const Recommendation& r : a.recommendations)
    if (r.id == o.expected_rule) o.predicted_ms = r.saving_ms;
  return o;
}

std::vector<Outcome> RunSweep() {
  std::vector<std::pair<synth::ScenarioInfo, uint64_t>> jobs;
  for (const synth::ScenarioInfo& info : synth::Scenarios())
    for (uint64_t seed = 1; seed <= kSeedsPerFamily; ++seed)
      jobs.emplace_back(info, seed);
  // Two workers: the CI machine has two cores.
  std::vector<Outcome> out(jobs.size());
  auto worker = [&](size_t first) {
    for (size_t i = first; i < jobs.size(); i += 2)
      out[i] = Run(jobs[i].first, jobs[i].second);
  };
  auto other = std::async(std::launch::async, worker, 1);
  worker(0);
  other.get();
  return out;
}

const std::vector<Outcome>& Sweep() {
  static const std::vector<Outcome> kSweep = RunSweep();
  return kSweep;
}

// How far a prediction may be from the true gain: 10% of the gain, or 3% of the step when the
// gain is small (the replay reproduces measured steps to within about 2.5%). Two families are
// known to be harder and get a looser bound, so that the test still catches regressions:
//  - host-sync: removing a sync also removes host work of the op around it that the trace does
//    not separate from the wait (over-predicts by up to ~25%);
//  - comm-*: the first and last steps of the window hold iterations the trace cut (launched
//    before it began, or finished after it ended) that the replay cannot regroup, which
//    under-predicts by ~11% (buckets) and up to ~24% (overlap).
double Tolerance(const Outcome& o) {
  double share_of_gain = 0.10;
  if (o.family == "host-sync") share_of_gain = 0.25;
  if (o.family.rfind("comm-", 0) == 0) share_of_gain = 0.25;
  return std::max(share_of_gain * o.true_gain_ms, 0.03 * o.step_ms);
}

void CoversEveryBoundClassWithAtLeast200Scenarios() {
  const auto& sweep = Sweep();
  EXPECT_GE(sweep.size(), 200u);
  std::set<std::string> classes;
  for (const Outcome& o : sweep)
    classes.insert(o.expected_class);
  EXPECT_EQ(classes,
            (std::set<std::string>{"input", "compute", "memory", "communication", "host"}));
  for (const Outcome& o : sweep)
    EXPECT_EQ(o.error, "") << o.family << " seed " << o.seed;
}

void BoundClassIsRightWhenTheVerdictIsClear() {
  int clear = 0, right = 0, total_right = 0;
  for (const Outcome& o : Sweep()) {
    total_right += o.got_class == o.expected_class;
    if (o.margin < 0.10) continue;
    ++clear;
    right += o.got_class == o.expected_class;
    EXPECT_EQ(o.got_class, o.expected_class)
        << o.family << " seed " << o.seed << " margin " << o.margin;
  }
  EXPECT_GE(clear, 180);
  std::printf("bound class: %d/%d clear verdicts right, %d/%zu overall\n", right, clear,
              total_right, Sweep().size());
}

void InjectedProblemsFixRanksFirst() {
  for (const Outcome& o : Sweep()) {
    if (o.healthy)  // no starvation injected: no rule may promise a tenth of the step for one
      EXPECT_LT(o.largest_saving_pct, 10) << o.family << " seed " << o.seed << ": " << o.first_rule;
    else
      EXPECT_EQ(o.first_rule, o.expected_rule) << o.family << " seed " << o.seed;
  }
}

void PredictedSavingMatchesTheFixedTrace() {
  std::vector<double> errors;
  int within_10pct = 0;
  for (const Outcome& o : Sweep()) {
    if (o.healthy) continue;
    EXPECT_GT(o.true_gain_ms, 0) << o.family << " seed " << o.seed << ": the fix did not help";
    EXPECT_GE(o.predicted_ms, 0) << o.family << " seed " << o.seed << ": no " << o.expected_rule;
    if (o.true_gain_ms <= 0 || o.predicted_ms < 0) continue;
    const double error = o.predicted_ms - o.true_gain_ms;
    errors.push_back(std::fabs(error) / o.true_gain_ms);
    within_10pct += std::fabs(error) <= 0.10 * o.true_gain_ms;
    EXPECT_LE(std::fabs(error), Tolerance(o))
        << fmt::format("{} seed {}: predicted {:.2f} ms, true gain {:.2f} ms, step {:.1f} ms",
                       o.family, o.seed, o.predicted_ms, o.true_gain_ms, o.step_ms);
  }
  std::sort(errors.begin(), errors.end());
  std::printf("saving error: median %.1f%%, p90 %.1f%%, max %.1f%%; %d/%zu within 10%%\n",
              100 * errors[errors.size() / 2], 100 * errors[errors.size() * 9 / 10],
              100 * errors.back(), within_10pct, errors.size());
  EXPECT_GE(within_10pct, static_cast<int>(errors.size() * 9 / 10));
}

// One test, so that the sweep (about a minute of simulation on two cores) runs once: ctest
// runs every test of a binary in its own process.
TEST(Sweep, DiagnosisMatchesGroundTruth) {
  {
    SCOPED_TRACE("every bound class, at least 200 scenarios");
    CoversEveryBoundClassWithAtLeast200Scenarios();
  }
  {
    SCOPED_TRACE("bound class right when the verdict is clear");
    BoundClassIsRightWhenTheVerdictIsClear();
  }
  {
    SCOPED_TRACE("the injected problem's fix ranks first");
    InjectedProblemsFixRanksFirst();
  }
  {
    SCOPED_TRACE("predicted saving matches the fixed trace");
    PredictedSavingMatchesTheFixedTrace();
  }
}

}  // namespace
}  // namespace teye
