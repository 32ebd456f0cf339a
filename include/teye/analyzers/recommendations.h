// Recommendations: concrete changes, each with its evidence, the action to take, and the time
// it is expected to save per step, estimated by replaying the run's dependency graph with the
// change applied (see replay.h). Ranked by saving; rules that do not fire are absent.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "teye/analyzers/bound_class.h"
#include "teye/analyzers/breakdown.h"
#include "teye/analyzers/gpu_timeline.h"
#include "teye/analyzers/input_cause.h"
#include "teye/analyzers/kernel_stats.h"
#include "teye/analyzers/memory_headroom.h"
#include "teye/analyzers/occupancy.h"
#include "teye/analyzers/periodic_stalls.h"
#include "teye/analyzers/replay.h"
#include "teye/analyzers/roofline.h"
#include "teye/analyzers/steps.h"
#include "teye/analyzers/transfer_stats.h"
#include "teye/runtime/executor.h"

namespace teye {

enum class Confidence : uint8_t { kHigh, kMedium, kLow };
std::string_view ToString(Confidence c);

// Where a saving comes from. Replayed savings are ranked before analytic ones (a formula, not a
// replay of the run), and those before recommendations that save no time.
enum class SavingBasis : uint8_t { kReplayed, kAnalytic, kNone };
std::string_view ToString(SavingBasis b);

struct Recommendation {
  std::string id;                     // stable identifier, e.g. "dataloader_workers"
  std::string title;                  // one line
  std::string action;                 // what to change: the flag, API or code line
  std::vector<std::string> evidence;  // the measurements that triggered it
  double saving_ms = 0;               // expected saving per step
  double saving_pct = 0;              // of the mean step time, 0..100
  std::string method;                 // how the saving was estimated
  SavingBasis basis = SavingBasis::kReplayed;
  Confidence confidence = Confidence::kMedium;
  BoundClass relieves = BoundClass::kHost;  // the class of time it removes
};

// Everything a rule may look at. References stay valid while rules run.
struct RuleContext {
  const Trace& trace;
  const StepsResult& steps;
  const DeviceBreakdown& device;
  const DeviceTimeline& timeline;
  const std::vector<KernelClass>& classes;
  const KernelSummary& kernels;
  const MemcpySummary& memcpy;
  const CommSummary& comm;
  const std::vector<StallPattern>& stalls;
  const std::vector<MemoryHeadroom>& memory;
  const ReplayGraph& graph;
  const ReplayResult& baseline;
  double mean_step_ms = 0;  // measured
  int complete_steps = 0;
  const InputDiagnosis* input = nullptr;  // why the input is slow, when known
  bool host_only = false;  // no GPU activity: `device` is the training thread's host timeline
  const RooflineResult* roofline = nullptr;    // the device's roofline, when computed
  const OccupancyResult* occupancy = nullptr;  // its occupancy and SM efficiency

  double MsPerStep(TimeCategory c) const;
  double Share(TimeCategory c) const;  // of step time, 0..1
  // Replayed saving per step of a change, in ms (never negative). When the change leaves the GPU
  // ops as they are, at most the GPU's idle time per step.
  double SavingMs(const ReplayChange& change) const;
  // How far the unchanged replay is from the measured step time (0.02 = 2%).
  double ReplayError() const;
  const DeviceInfo* DeviceProperties() const;
  // Fills saving_pct and caps confidence by the replay's fidelity.
  Recommendation Finish(Recommendation r) const;
};

using RuleFunction = std::vector<Recommendation> (*)(const RuleContext&);

struct RuleInfo {
  std::string_view id;
  std::string_view description;
  RuleFunction evaluate;
  bool needs_gpu = true;  // false: also runs on a run with no GPU activity (its host timeline)
};
// The catalogue, in no particular order (ranking is by saving).
const std::vector<RuleInfo>& Rules();

// Runs every rule (on a host-only context, those that do not need a GPU) as tasks on `executor`
// (nullptr: one after the other); returns what fired, replayed savings first, then analytic ones,
// then those that save no time, each by saving.
std::vector<Recommendation> Recommend(const RuleContext& context, Executor* executor = nullptr);

// Smallest saving worth reporting: 1% of the step, and at least 50 µs.
bool WorthReporting(double saving_ms, double mean_step_ms);

}  // namespace teye
