// The seeded scenario sweep: every family of `teye synth` scenarios, many seeds each. For each
// scenario the injected problem is known, and the same scenario with the fix applied gives the
// true gain, from the simulator's own clock (its steady-state time per step, not what teye
// measures on the traces), on a simulated machine whose constants are drawn per seed from ranges
// that differ from teye's assumptions. The diagnosis is checked against that ground truth:
//  - every profiled step is found, and the GPU is busy in them when the job has a GPU;
//  - the bound class is the family's when the verdict is clear (margin of 10 points or more);
//  - the recommendation for the injected problem ranks first;
//  - its predicted saving is within the family's tolerance of the true gain, as docs/synth.md
//    states it (the test reads the table there).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/synth/synth.h"

namespace teye {
namespace {

constexpr int kSeedsPerFamily = 14;  // 16 families (one a healthy control) → 224 scenarios

struct Outcome {
  std::string family;
  uint64_t seed = 0;
  std::string expected_class, got_class, first_rule, expected_rule;
  double margin = 0, step_ms = 0, predicted_ms = -1, true_gain_ms = 0;
  double largest_saving_pct = 0;
  int profiled_steps = 0, detected_steps = 0, complete_steps = 0;
  bool has_gpu = false;
  double gpu_utilization = 0;
  bool healthy = false;  // a control: no problem injected (its fix is "-")
  std::string error;
};

// A family's stated tolerance: |predicted − true gain| ≤ max(of_gain × gain, of_step × step).
struct Tolerance {
  double of_gain = 0;
  double of_step = 0;
};

// The table under "## Tolerances" in docs/synth.md: `| family | 10% | 3% | ...`.
std::map<std::string, Tolerance> StatedTolerances() {
  std::ifstream in(std::string(TEYE_SOURCE_DIR) + "/docs/synth.md");
  std::map<std::string, Tolerance> out;
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Tolerances";
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');)
      cells.push_back(cell);
    if (cells.size() < 3) continue;
    auto percent = [](std::string c) {
      return std::stod(c.substr(c.find_first_not_of(' '))) / 100;
    };
    std::string name = cells[0];
    name = name.substr(name.find('`') + 1);
    name = name.substr(0, name.find('`'));
    out[name] = {percent(cells[1]), percent(cells[2])};
  }
  return out;
}

// The rule whose recommendation a synth fix implements.
std::string RuleOfFix(const std::string& fix) {
  if (fix == "remove_sync") return "remove_syncs";
  if (fix == "bucketing") return "gradient_bucketing";
  return fix;
}

// The synth fix that implements a rule's recommendation, or "" when the simulator has none.
std::string FixOfRule(const std::string& rule) {
  for (const std::string& fix : synth::Fixes())
    if (RuleOfFix(fix) == rule) return fix;
  return "";
}

struct Simulated {
  synth::SimulationSummary truth;
  TraceAnalysis analysis;
};

Result<Simulated> SimulateAndAnalyze(const synth::Knobs& k) {
  std::ostringstream text;
  Simulated out;
  out.truth = synth::Simulate(k, text);
  auto trace = ReadTraceBytes("synth", text.str());
  if (!trace.ok()) return trace.error();
  auto analysis = AnalyzeTrace(trace.value(), {});
  if (!analysis.ok()) return analysis.error();
  out.analysis = std::move(analysis.value());
  return out;
}

Outcome Run(const synth::ScenarioInfo& info, uint64_t seed) {
  Outcome o;
  o.family = info.name;
  o.seed = seed;
  o.expected_class = info.expected_bound;
  o.healthy = info.fix == "-";
  o.expected_rule = o.healthy ? "" : RuleOfFix(info.fix);
  auto knobs = synth::ScenarioKnobs(info.name, seed);
  auto base = SimulateAndAnalyze(knobs.value());
  if (!base.ok()) {
    o.error = base.error().ToString();
    return o;
  }
  const TraceAnalysis& a = base.value().analysis;
  if (!o.healthy) {
    std::ostringstream unused;  // the fixed job's truth; teye does not read its trace
    const synth::SimulationSummary fixed =
        synth::Simulate(synth::ApplyFix(knobs.value(), info.fix).value(), unused);
    o.true_gain_ms = base.value().truth.true_step_ms - fixed.true_step_ms;
  }
  o.profiled_steps = knobs.value().steps;
  o.detected_steps = static_cast<int>(a.steps.steps.size());
  o.complete_steps = a.complete_steps;
  o.has_gpu = a.has_gpu_activity;
  o.gpu_utilization = a.gpu_utilization;
  o.got_class = std::string(ToString(a.bound.run.cls));
  o.margin = a.bound.run.margin;
  o.step_ms = base.value().truth.true_step_ms;
  if (!a.recommendations.empty()) o.first_rule = a.recommendations.front().id;
  // In the healthy control the GPU is fed: no rule may claim input, communication or the host
  // cost much (faster kernels may still be possible, and are measured gains), unless the
  // simulator's own clock says its fix does gain that much (the control's loss.item() every step
  // costs 10-13% of it): a claim within 25% of that true gain (or 3% of the step) is not held
  // against it.
  for (const Recommendation& r : a.recommendations) {
    if (r.relieves == BoundClass::kCompute || r.relieves == BoundClass::kMemory) continue;
    if (o.healthy && r.saving_pct >= 10) {
      const std::string fix = FixOfRule(r.id);
      auto fixed_knobs = fix.empty() ? Result<synth::Knobs>(Error{"no fix", "", 0})
                                     : synth::ApplyFix(knobs.value(), fix);
      if (fixed_knobs.ok()) {
        std::ostringstream unused;
        const double gain = base.value().truth.true_step_ms -
                            synth::Simulate(fixed_knobs.value(), unused).true_step_ms;
        if (std::fabs(r.saving_ms - gain) <= std::max(0.25 * gain, 0.03 * o.step_ms)) continue;
      }
    }
    o.largest_saving_pct = std::max(o.largest_saving_pct, r.saving_pct);
  }
  for (const Recommendation& r : a.recommendations)
    if (r.id == o.expected_rule) o.predicted_ms = r.saving_ms;
  return o;
}

std::vector<Outcome> RunSweep() {
  // TEYE_SWEEP_FAMILIES (comma-separated) and TEYE_SWEEP_SEEDS narrow the sweep while working on
  // one family; the test as run by ctest sets neither.
  const char* only = std::getenv("TEYE_SWEEP_FAMILIES");
  const char* seeds = std::getenv("TEYE_SWEEP_SEEDS");
  const uint64_t per_family = seeds ? std::stoull(seeds) : kSeedsPerFamily;
  std::vector<std::pair<synth::ScenarioInfo, uint64_t>> jobs;
  for (const synth::ScenarioInfo& info : synth::Scenarios()) {
    if (only && ("," + std::string(only) + ",").find("," + info.name + ",") == std::string::npos)
      continue;
    for (uint64_t seed = 1; seed <= per_family; ++seed)
      jobs.emplace_back(info, seed);
  }
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

void EveryProfiledStepIsAStep() {
  for (const Outcome& o : Sweep()) {
    EXPECT_EQ(o.detected_steps, o.profiled_steps) << o.family << " seed " << o.seed;
    EXPECT_GE(o.complete_steps, o.profiled_steps - 2) << o.family << " seed " << o.seed;
    if (o.has_gpu)  // kernels run inside the steps' GPU extents
      EXPECT_GT(o.gpu_utilization, 0.05) << o.family << " seed " << o.seed;
  }
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
  EXPECT_GE(clear, 175);
  std::printf("bound class: %d/%d clear verdicts right, %d/%zu overall\n", right, clear,
              total_right, Sweep().size());
}

void InjectedProblemsFixRanksFirst() {
  for (const Outcome& o : Sweep()) {
    if (o.healthy)  // no starvation injected: no rule may promise a tenth of the step for nothing
      EXPECT_LT(o.largest_saving_pct, 10) << o.family << " seed " << o.seed << ": " << o.first_rule;
    else
      EXPECT_EQ(o.first_rule, o.expected_rule) << o.family << " seed " << o.seed;
  }
}

void PredictedSavingMatchesTheTrueGain() {
  const std::map<std::string, Tolerance> stated = StatedTolerances();
  std::map<std::string, std::vector<double>> errors;  // |error| ÷ true gain, per family
  int within_10pct = 0, judged = 0;
  for (const Outcome& o : Sweep()) {
    if (o.healthy) continue;
    auto tolerance = stated.find(o.family);
    ASSERT_NE(tolerance, stated.end()) << o.family << ": state its tolerance in docs/synth.md";
    EXPECT_GT(o.true_gain_ms, 0) << o.family << " seed " << o.seed << ": the fix did not help";
    EXPECT_GE(o.predicted_ms, 0) << o.family << " seed " << o.seed << ": no " << o.expected_rule;
    if (o.true_gain_ms <= 0 || o.predicted_ms < 0) continue;
    const double error = std::fabs(o.predicted_ms - o.true_gain_ms);
    errors[o.family].push_back(error / o.true_gain_ms);
    within_10pct += error <= 0.10 * o.true_gain_ms;
    ++judged;
    const Tolerance& t = tolerance->second;
    EXPECT_LE(error, std::max(t.of_gain * o.true_gain_ms, t.of_step * o.step_ms))
        << fmt::format("{} seed {}: predicted {:.2f} ms, true gain {:.2f} ms, step {:.1f} ms",
                       o.family, o.seed, o.predicted_ms, o.true_gain_ms, o.step_ms);
  }
  // The measured distribution, per family, for docs/synth.md.
  std::printf("saving error ÷ true gain (median, p90, max):\n");
  for (auto& [family, e] : errors) {
    std::sort(e.begin(), e.end());
    std::printf("  %-20s %5.1f%% %5.1f%% %5.1f%%  (%zu)\n", family.c_str(), 100 * e[e.size() / 2],
                100 * e[std::min(e.size() - 1, e.size() * 9 / 10)], 100 * e.back(), e.size());
  }
  std::printf("%d/%d within 10%% of the true gain\n", within_10pct, judged);
  EXPECT_GE(within_10pct, judged * 8 / 10);
}

// One test, so that the sweep (a few minutes of simulation on two cores) runs once: ctest
// runs every test of a binary in its own process.
TEST(Sweep, DiagnosisMatchesGroundTruth) {
  {
    SCOPED_TRACE("every bound class, at least 200 scenarios");
    CoversEveryBoundClassWithAtLeast200Scenarios();
  }
  {
    SCOPED_TRACE("every profiled step is a step");
    EveryProfiledStepIsAStep();
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
    SCOPED_TRACE("predicted saving matches the simulator's true gain");
    PredictedSavingMatchesTheTrueGain();
  }
}

}  // namespace
}  // namespace teye
