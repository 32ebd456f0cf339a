#include "teye/analyzers/hta_temporal.h"

#include <algorithm>
#include <re2/re2.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "teye/analyzers/interval_set.h"

namespace teye {
namespace {

// HTA's non-compute kernel names, matched at the start of the name (Python re.match).
const RE2& NonComputePattern() {
  static const RE2 re(
      "^(?:(^nccl)|(.*Memcpy)|(.*Memset)|(.*dma)|(^.*Sync)|(^Stream Wait Event)|"
      "(cuda.*LaunchKernel)|(^runFunction)|(^hip)|(^job_exe)|(^packet)|(^pe_exe)|"
      "(^cpum_exe_subgraph)|(^hccl)|(^collective_subgraph_execution))");
  return re;
}

// Floor/ceil of (ns - zero) / unit without overflow or rounding toward zero.
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
int64_t CeilDiv(int64_t a, int64_t b) {
  return -FloorDiv(-a, b);
}

}  // namespace

TemporalBreakdown ComputeHtaTemporal(const Trace& trace) {
  TemporalBreakdown out;
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  const TimeNs unit = trace.info().file_time_unit_ns;
  const TimeNs zero = trace.info().file_time_zero_ns;

  // With two or more distinct ProfilerStep#N, HTA keeps only kernels and memory ops whose
  // launch (by correlation id) started before the last step started.
  std::unordered_set<StringId> step_names;
  TimeNs last_step_start = INT64_MIN;
  for (size_t i = 0; i < h.size(); ++i) {
    if (!trace.str(h.name[i]).starts_with("ProfilerStep#")) continue;
    step_names.insert(h.name[i]);
    last_step_start = std::max(last_step_start, h.start_ns[i]);
  }
  const bool filter = step_names.size() >= 2;
  out.dropped_last_step = filter;
  // "A CPU-side event with this correlation id started before the last step": for almost every
  // GPU op that event is the runtime call the model linked it to (GpuOpTable::launch, the one
  // runtime or driver row with its correlation id), so only the other CPU-side events go into a
  // set (on a Kineto trace: the cpu_ops' correlation 0). A set of every launch's id was most of
  // this analysis's time on a large trace.
  std::unordered_set<int64_t> early_correlations;
  if (filter) {
    std::vector<bool> is_launch(h.size(), false);
    for (size_t i = 0; i < g.size(); ++i)
      if (g.launch[i] != kNoRow) is_launch[g.launch[i]] = true;
    for (size_t i = 0; i < h.size(); ++i) {
      switch (h.kind[i]) {
        case HostSliceKind::kCpuOp:
        case HostSliceKind::kRuntime:
        case HostSliceKind::kDriver:
        case HostSliceKind::kUserAnnotation:
        case HostSliceKind::kPythonFunction:
          if (h.start_ns[i] < last_step_start && !is_launch[i])
            early_correlations.insert(h.correlation[i]);
          break;
        default:
          break;
      }
    }
  }
  auto launched_early = [&](size_t op) {
    const RowIndex launch = g.launch[op];
    if (launch != kNoRow && h.start_ns[launch] < last_step_start) return true;
    return early_correlations.count(g.correlation[op]) > 0;
  };

  std::vector<Interval> all, compute;
  TimeNs first = INT64_MAX, last = INT64_MIN;
  std::unordered_map<StringId, bool> non_compute_name;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.stream[i] == -1) continue;
    if (filter) {
      if (g.kind[i] == GpuOpKind::kSync) continue;
      if (!launched_early(i)) continue;
    }
    // Times in the file's unit: starts rounded up, ends rounded down.
    TimeNs s = CeilDiv(g.start_ns[i] - zero, unit);
    TimeNs e = FloorDiv(g.end_ns[i] - zero, unit);
    ++out.events;
    first = std::min(first, s);
    last = std::max(last, e);
    all.push_back({s, e});
    auto [it, inserted] = non_compute_name.emplace(g.name[i], false);
    if (inserted) {
      std::string_view n = trace.str(g.name[i]);
      it->second = RE2::PartialMatch(n, NonComputePattern());
    }
    if (!it->second) compute.push_back({s, e});
  }
  if (out.events == 0 || last <= first) return out;
  out.has_gpu_events = true;
  out.span = static_cast<double>(last - first);
  const double busy = static_cast<double>(IntervalSet::Union(std::move(all)).Length());
  out.idle = out.span - busy;
  out.compute = static_cast<double>(IntervalSet::Union(std::move(compute)).Length());
  out.non_compute = out.span - out.compute - out.idle;
  out.idle_pct = 100.0 * out.idle / out.span;
  out.compute_pct = 100.0 * out.compute / out.span;
  out.non_compute_pct = 100.0 * out.non_compute / out.span;
  return out;
}

}  // namespace teye
