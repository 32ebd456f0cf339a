#include "teye/analyzers/breakdown.h"

#include <algorithm>
#include <unordered_map>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

struct CategoryName {
  TimeCategory c;
  std::string_view id;
  std::string_view display;
};
constexpr CategoryName kCategoryNames[] = {
    {TimeCategory::kCompute, "compute", "compute kernels"},
    {TimeCategory::kMemoryBound, "memory_bound", "memory-bound kernels"},
    {TimeCategory::kCommunication, "communication", "exposed communication"},
    {TimeCategory::kMemcpy, "memcpy", "memcpy"},
    {TimeCategory::kMemset, "memset", "memset"},
    {TimeCategory::kInput, "input", "idle: waiting for input"},
    {TimeCategory::kSync, "sync", "idle: synchronization"},
    {TimeCategory::kLaunch, "launch", "idle: issuing launches"},
    {TimeCategory::kOtherCpu, "other_cpu", "idle: other CPU work"},
    {TimeCategory::kUnknown, "unknown", "idle: unknown"},
};

}  // namespace

std::string_view ToString(TimeCategory c) {
  for (const auto& n : kCategoryNames)
    if (n.c == c) return n.id;
  return "?";
}

std::string_view DisplayName(TimeCategory c) {
  for (const auto& n : kCategoryNames)
    if (n.c == c) return n.display;
  return "?";
}

std::string_view DisplayName(TimeCategory c, bool host_timeline) {
  if (!host_timeline) return DisplayName(c);
  switch (c) {
    case TimeCategory::kCompute:
      return "compute ops";
    case TimeCategory::kInput:
      return "waiting for input";
    case TimeCategory::kSync:
      return "synchronization";
    case TimeCategory::kOtherCpu:
      return "other CPU work";
    case TimeCategory::kCommunication:
      return "communication";
    default:
      return DisplayName(c);
  }
}

bool OnHostTimeline(TimeCategory c) {
  return c == TimeCategory::kCompute || c == TimeCategory::kInput || c == TimeCategory::kSync ||
         c == TimeCategory::kCommunication || c == TimeCategory::kOtherCpu;
}

bool IsIdleCategory(TimeCategory c) {
  return c >= TimeCategory::kInput;
}

TimeNs CategoryTimes::Total() const {
  TimeNs total = 0;
  for (TimeNs v : ns)
    total += v;
  return total;
}

void CategoryTimes::Add(const CategoryTimes& other) {
  for (size_t i = 0; i < kTimeCategoryCount; ++i)
    ns[i] += other.ns[i];
}

const DeviceBreakdown* BreakdownResult::Primary() const {
  for (const auto& d : devices)
    if (d.device == primary_device) return &d;
  return nullptr;
}

IdleAttributor::IdleAttributor(const Trace& trace) : trace_(trace) {
  const HostSliceTable& h = trace.host_slices();
  flags_.resize(h.size(), 0);
  // The name tests depend on (name, kind) only: decide once per interned name (memo holds
  // kind << 8 | flags of the kind first seen with it).
  std::vector<uint16_t> memo(trace.strings().size(), 0xFFFF);
  for (size_t i = 0; i < h.size(); ++i) {
    auto row = static_cast<RowIndex>(i);
    uint16_t& m = memo[h.name[i]];
    const auto kind = static_cast<uint16_t>(h.kind[i]);
    uint8_t f = 0;
    if (m != 0xFFFF && (m >> 8) == kind) {
      f = static_cast<uint8_t>(m & 0xFF);
    } else {
      if (IsInputSlice(trace, row)) f |= kInputFlag;
      if (IsSyncCall(trace.str(h.name[i]), h.kind[i])) f |= kSyncFlag;
      if (m == 0xFFFF) m = static_cast<uint16_t>(kind << 8 | f);
    }
    // Issuing work: framework op dispatch and runtime/driver calls that are not syncs.
    if (!(f & kSyncFlag) &&
        (h.kind[i] == HostSliceKind::kCpuOp || h.kind[i] == HostSliceKind::kRuntime ||
         h.kind[i] == HostSliceKind::kDriver))
      f |= kLaunchFlag;
    // Profiler bookkeeping is not the job's work.
    if (h.kind[i] == HostSliceKind::kProfilerSpan || h.kind[i] == HostSliceKind::kOverhead) f = 0;
    flags_[i] = f;
  }
  // A copy to or from pageable host memory makes the runtime call wait for the copy itself:
  // it synchronizes even when it is called cudaMemcpyAsync.
  const GpuOpTable& g = trace.gpu_ops();
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kMemcpy || g.launch[i] == kNoRow) continue;
    const bool pageable =
        (g.copy_kind[i] == CopyKind::kHtoD && g.src_memory[i] == MemoryKind::kPageable) ||
        (g.copy_kind[i] == CopyKind::kDtoH && g.dst_memory[i] == MemoryKind::kPageable);
    if (pageable) flags_[g.launch[i]] = (flags_[g.launch[i]] & kInputFlag) | kSyncFlag;
  }
}

ThreadIndex IdleAttributor::LaunchingThread(const DeviceTimeline& timeline, Interval gap) const {
  const GpuOpTable& g = trace_.gpu_ops();
  const HostSliceTable& h = trace_.host_slices();
  // The op that ends the gap was waited for; its launching thread is the one to ask.
  auto it = std::lower_bound(timeline.ops.begin(), timeline.ops.end(), gap.end,
                             [&](RowIndex r, TimeNs t) { return g.start_ns[r] < t; });
  if (it != timeline.ops.end() && g.launch[*it] != kNoRow) return h.thread[g.launch[*it]];
  return timeline.main_launch_thread;
}

BreakdownResult ComputeBreakdown(const Trace& trace, const StepsResult& steps,
                                 const std::vector<DeviceTimeline>& timelines,
                                 const BreakdownOptions& options) {
  BreakdownResult result;
  IdleAttributor attributor(trace);
  const HostSliceTable& h = trace.host_slices();
  TimeNs best_kernels = -1;

  // Evidence is keyed by the host range's name id while counting; names are looked up once.
  constexpr int64_t kNoEvidence = -1;
  struct Tally {
    TimeNs ns = 0;
    int64_t gaps = 0;
  };
  struct RawGap {
    Interval span;
    TimeCategory reason;
    int step;
    ThreadIndex thread;
    int64_t evidence;
  };
  auto evidence_name = [&](int64_t id) {
    return id == kNoEvidence ? std::string("(no host activity recorded)")
                             : std::string(trace.str(static_cast<StringId>(id)));
  };

  for (const DeviceTimeline& tl : timelines) {
    DeviceBreakdown dev;
    dev.device = tl.device;
    std::array<std::unordered_map<int64_t, Tally>, kTimeCategoryCount> tallies;
    std::vector<RawGap> gaps;

    for (const Step& step : steps.steps) {
      if (!step.complete) continue;
      const Interval window{step.start(), step.end()};
      StepBreakdown sb;
      sb.step = step.index;
      sb.device = tl.device;
      sb.duration = window.length();

      // Exclusive GPU categories in priority order.
      IntervalSet covered;
      const std::pair<TimeCategory, const IntervalSet*> layers[] = {
          {TimeCategory::kCompute, &tl.compute},
          {TimeCategory::kMemoryBound, &tl.memory_bound},
          {TimeCategory::kCommunication, &tl.communication},
          {TimeCategory::kMemcpy, &tl.memcpy},
          {TimeCategory::kMemset, &tl.memset},
      };
      for (const auto& [category, set] : layers) {
        IntervalSet part = set->Clip(window);
        sb.times[category] = part.Subtract(covered).Length();
        covered = covered.Unite(part);
      }
      sb.kernel_ns = tl.kernels.LengthWithin(window);
      sb.exposed_h2d_ns = tl.memcpy_h2d.Clip(window).Subtract(tl.kernels).Length();
      sb.busy_ns = covered.Length();

      // Idle time: what was the launching host thread doing?
      const IntervalSet idle = covered.ComplementWithin(window);
      for (const Interval& gap : idle.intervals()) {
        ThreadIndex thread = attributor.LaunchingThread(tl, gap);
        RawGap current{
            {gap.start, gap.start}, TimeCategory::kUnknown, step.index, thread, kNoEvidence};
        auto flush = [&] {
          if (current.span.length() > 0) gaps.push_back(current);
        };
        attributor.Attribute(
            gap, thread, [&](TimeNs s, TimeNs e, TimeCategory reason, RowIndex evidence) {
              sb.times[reason] += e - s;
              int64_t id = evidence == kNoRow ? kNoEvidence : int64_t{h.name[evidence]};
              Tally& t = tallies[static_cast<size_t>(reason)][id];
              t.ns += e - s;
              ++t.gaps;
              // Consecutive sub-intervals with the same reason form one evidence gap.
              if (reason != current.reason || current.span.length() == 0) {
                flush();
                current = {{s, e}, reason, step.index, thread, id};
              } else {
                current.span.end = e;
              }
            });
        flush();
      }
      dev.total.Add(sb.times);
      dev.total_duration += sb.duration;
      dev.kernel_ns += sb.kernel_ns;
      dev.busy_ns += sb.busy_ns;
      dev.exposed_h2d_ns += sb.exposed_h2d_ns;
      dev.steps.push_back(sb);
    }

    for (size_t r = 0; r < kTimeCategoryCount; ++r) {
      for (auto& [id, t] : tallies[r])
        dev.contributors[r].push_back({evidence_name(id), t.ns, t.gaps});
      auto& v = dev.contributors[r];
      std::sort(v.begin(), v.end(), [](const IdleContributor& a, const IdleContributor& b) {
        return a.ns > b.ns || (a.ns == b.ns && a.name < b.name);
      });
      if (v.size() > options.contributors_per_reason) v.resize(options.contributors_per_reason);
    }
    for (const RawGap& g : gaps) {
      if (g.span.length() < options.long_gap_ns || dev.long_gaps.size() >= options.max_long_gaps)
        continue;
      dev.long_gaps.push_back({g.span.start, g.span.end, g.reason, tl.device, g.step, g.thread,
                               evidence_name(g.evidence)});
    }
    std::sort(dev.long_gaps.begin(), dev.long_gaps.end(),
              [](const IdleGap& a, const IdleGap& b) { return a.start < b.start; });
    const size_t keep = std::min(gaps.size(), options.largest_gaps);
    std::partial_sort(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(keep), gaps.end(),
                      [](const RawGap& a, const RawGap& b) {
                        return a.span.length() > b.span.length() ||
                               (a.span.length() == b.span.length() && a.span.start < b.span.start);
                      });
    for (size_t i = 0; i < keep; ++i) {
      const RawGap& g = gaps[i];
      dev.largest_gaps.push_back({g.span.start, g.span.end, g.reason, tl.device, g.step, g.thread,
                                  evidence_name(g.evidence)});
    }

    if (dev.kernel_ns > best_kernels) {
      best_kernels = dev.kernel_ns;
      result.primary_device = dev.device;
    }
    result.devices.push_back(std::move(dev));
  }
  return result;
}

}  // namespace teye
