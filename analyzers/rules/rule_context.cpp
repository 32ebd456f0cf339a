#include <algorithm>
#include <cmath>

#include "teye/analyzers/recommendations.h"

namespace teye {

std::string_view ToString(Confidence c) {
  switch (c) {
    case Confidence::kHigh:
      return "high";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kLow:
      return "low";
  }
  return "?";
}

std::string_view ToString(SavingBasis b) {
  switch (b) {
    case SavingBasis::kReplayed:
      return "replayed";
    case SavingBasis::kAnalytic:
      return "analytic";
    case SavingBasis::kNone:
      return "none";
  }
  return "?";
}

double RuleContext::MsPerStep(TimeCategory c) const {
  if (device.steps.empty()) return 0;
  return static_cast<double>(device.total[c]) / kNsPerMs / static_cast<double>(device.steps.size());
}

double RuleContext::Share(TimeCategory c) const {
  if (device.total_duration <= 0) return 0;
  return static_cast<double>(device.total[c]) / static_cast<double>(device.total_duration);
}

double RuleContext::SavingMs(const ReplayChange& change) const {
  if (baseline.mean_step_ns <= 0) return 0;
  const ReplayResult r = Replay(graph, change);
  double saving = std::max(0.0, (baseline.mean_step_ns - r.mean_step_ns) / kNsPerMs);
  // A change that leaves every GPU op as it was cannot make a step shorter than the device's
  // busy time in it: it saves at most the idle time. (A replay of an incomplete trace, sampled
  // events say, can pack the device tighter than it ran.)
  const bool device_work_unchanged = change.duration_scale.empty() && change.removed.empty() &&
                                     change.waits.empty() && change.side_stream.empty();
  if (device_work_unchanged && !device.steps.empty())
    saving = std::min(saving, static_cast<double>(device.total_duration - device.busy_ns) /
                                  kNsPerMs / static_cast<double>(device.steps.size()));
  return saving;
}

double RuleContext::ReplayError() const {
  if (mean_step_ms <= 0) return 1;
  return std::fabs(baseline.mean_step_ns / kNsPerMs - mean_step_ms) / mean_step_ms;
}

const DeviceInfo* RuleContext::DeviceProperties() const {
  return trace.FindDevice(timeline.device);
}

Recommendation RuleContext::Finish(Recommendation r) const {
  r.saving_pct = mean_step_ms > 0 ? 100.0 * r.saving_ms / mean_step_ms : 0;
  // A replay that does not reproduce the measured steps cannot be trusted to predict.
  if (ReplayError() > 0.15)
    r.confidence = Confidence::kLow;
  else if (ReplayError() > 0.05 && r.confidence == Confidence::kHigh)
    r.confidence = Confidence::kMedium;
  return r;
}

bool WorthReporting(double saving_ms, double mean_step_ms) {
  return saving_ms >= 0.05 && saving_ms >= 0.01 * mean_step_ms;
}

std::vector<Recommendation> Recommend(const RuleContext& context, Executor* executor) {
  // Rules only read the context and each replays the graph on its own: they run side by side,
  // as tasks on the executor. On a host-only context the rules that need a GPU do not run.
  const std::vector<RuleInfo>& rules = Rules();
  std::vector<std::vector<Recommendation>> fired(rules.size());
  TaskGroup group(executor);
  for (size_t i = 0; i < rules.size(); ++i)
    if (!rules[i].needs_gpu || !context.host_only)
      group.Spawn([&, i] { fired[i] = rules[i].evaluate(context); });
  group.Wait();
  std::vector<Recommendation> out;
  for (auto& f : fired)
    for (Recommendation& r : f)
      out.push_back(std::move(r));
  // A replayed saving is a measurement of this run; an analytic one is a formula. The formula
  // never outranks the measurement silently: tiers first, then the saving.
  std::stable_sort(out.begin(), out.end(), [](const Recommendation& a, const Recommendation& b) {
    if (a.basis != b.basis) return a.basis < b.basis;
    return a.saving_ms > b.saving_ms;
  });
  return out;
}

}  // namespace teye
