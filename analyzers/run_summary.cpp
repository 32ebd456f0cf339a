#include "teye/analyzers/run_summary.h"

#include <algorithm>

#include "teye/analyzers/analysis.h"

namespace teye {

RunSummary SummarizeRun(const TraceAnalysis& a) {
  RunSummary r;
  r.source = a.file;
  r.gpu_utilization = a.gpu_utilization;
  r.host_timeline = a.breakdown.host_timeline;
  if (const DeviceBreakdown* p = a.breakdown.Primary()) {
    for (const StepBreakdown& sb : p->steps) {
      StepSample s;
      s.step = sb.step;
      s.duration_ms = static_cast<double>(sb.duration) / kNsPerMs;
      s.gpu_utilization = sb.duration ? static_cast<double>(sb.kernel_ns) / sb.duration : 0.0;
      for (size_t c = 0; c < kTimeCategoryCount; ++c)
        s.ms[c] = static_cast<double>(sb.times.ns[c]) / kNsPerMs;
      r.steps.push_back(s);
    }
  }
  for (const ClassStat& c : a.kernels.classes)
    r.classes.push_back(
        {std::string(ToString(c.cls)), c.count, static_cast<double>(c.total_ns) / kNsPerMs});
  if (a.bound.valid) {
    // The same keys, in the same order, as the report's bound.shares.
    r.bound_class = std::string(ToString(a.bound.run.cls));
    for (size_t i = 0; i < kBoundClassCount; ++i) {
      const auto c = static_cast<BoundClass>(i);
      r.bound_shares.emplace_back(std::string(ToString(c)), a.bound.run.shares[c]);
    }
    r.bound_shares.emplace_back("unassigned", a.bound.run.shares.unassigned);
  }
  for (const KernelStat& k : a.kernels.top)
    r.top_kernels.push_back({k.name, std::string(ToString(k.cls)), k.count,
                             static_cast<double>(k.total_ns) / kNsPerMs, k.mean_ns() / kNsPerUs});
  return r;
}

double MedianOf(const std::vector<StepSample>& steps, double (*get)(const StepSample&)) {
  std::vector<double> v;
  v.reserve(steps.size());
  for (const StepSample& s : steps)
    v.push_back(get(s));
  return Summarize(std::move(v)).median;
}

}  // namespace teye
