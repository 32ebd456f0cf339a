#include "teye/analyzers/host_timeline.h"

#include <algorithm>
#include <unordered_map>

#include <climits>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

enum Flag : uint8_t {
  kInput = 1,
  kSync = 2,
  kCollective = 4,
  kPreprocess = 8,
  kOp = 16,
  kIgnored = 32
};

uint8_t FlagsOf(const Trace& trace, RowIndex r) {
  const HostSliceTable& h = trace.host_slices();
  const HostSliceKind kind = h.kind[r];
  if (kind == HostSliceKind::kProfilerSpan || kind == HostSliceKind::kOverhead) return kIgnored;
  const std::string_view name = trace.str(h.name[r]);
  uint8_t f = 0;
  if (IsInputSlice(trace, r)) f |= kInput;
  if ((kind == HostSliceKind::kRuntime || kind == HostSliceKind::kDriver) && IsSyncCall(name, kind))
    f |= kSync;
  if (IsCollectiveSlice(trace, r)) f |= kCollective;
  if (IsPreprocessingName(name)) f |= kPreprocess;
  if (kind == HostSliceKind::kCpuOp) f |= kOp;
  return f;
}

}  // namespace

ThreadIndex TrainingThread(const Trace& trace, const StepsResult& steps) {
  const HostSliceTable& h = trace.host_slices();
  for (const Step& s : steps.steps)
    if (s.marker != kNoRow) return h.thread[s.marker];
  std::unordered_map<ThreadIndex, TimeNs> op_time, any_time;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.parent[i] != kNoRow) continue;  // top-level ranges: nested time counts once
    if (h.kind[i] == HostSliceKind::kProfilerSpan || h.kind[i] == HostSliceKind::kOverhead)
      continue;
    any_time[h.thread[i]] += h.duration(i);
    if (h.kind[i] == HostSliceKind::kCpuOp) op_time[h.thread[i]] += h.duration(i);
  }
  auto best_of = [](const std::unordered_map<ThreadIndex, TimeNs>& m) {
    ThreadIndex best = kNoThread;
    TimeNs most = -1;
    for (auto [t, ns] : m)
      if (ns > most || (ns == most && t < best)) most = ns, best = t;
    return best;
  };
  return op_time.empty() ? best_of(any_time) : best_of(op_time);
}

DeviceBreakdown ComputeHostBreakdown(const Trace& trace, const StepsResult& steps,
                                     ThreadIndex thread, const BreakdownOptions& options) {
  DeviceBreakdown dev;
  dev.device = kHostTimelineDevice;
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  if (thread == kNoThread || thread >= threads.size()) return dev;
  const RowIndex begin = threads.slice_begin[thread];
  const RowIndex end = threads.slice_end[thread];

  // Flags per slice of the thread; names decide them, so each (name, kind) is decided once.
  std::vector<uint8_t> flags(static_cast<size_t>(end - begin));
  std::unordered_map<uint64_t, uint8_t> memo;
  bool records_ops = false;
  for (RowIndex r = begin; r < end; ++r) {
    const uint64_t key = uint64_t{h.name[r]} << 8 | static_cast<uint64_t>(h.kind[r]);
    auto [it, inserted] = memo.emplace(key, 0);
    if (inserted) it->second = FlagsOf(trace, r);
    flags[r - begin] = it->second;
    records_ops |= (it->second & kOp) != 0;
  }

  // Collectives running on the process's other threads (gloo and NCCL work threads): time the
  // training thread spends outside its own work while one runs is waiting for communication.
  std::vector<Interval> others;
  std::vector<RowIndex> other_rows;
  for (size_t r = 0; r < h.size(); ++r) {
    if (h.thread[r] == thread || !IsCollectiveSlice(trace, static_cast<RowIndex>(r))) continue;
    others.push_back({h.start_ns[r], h.end_ns[r]});
    other_rows.push_back(static_cast<RowIndex>(r));
  }
  const IntervalSet collectives = IntervalSet::Union(others);
  auto next_collective_after = [&](TimeNs t) {  // the next collective's start after t
    const auto& iv = collectives.intervals();
    auto it = std::upper_bound(iv.begin(), iv.end(), t,
                               [](TimeNs x, const Interval& i) { return x < i.start; });
    return it == iv.end() ? INT64_MAX : it->start;
  };
  const StringId collective_name = other_rows.empty() ? kEmptyString : h.name[other_rows.front()];

  std::array<std::unordered_map<StringId, std::pair<TimeNs, int64_t>>, kTimeCategoryCount> tally;
  std::vector<IdleGap> gaps;
  for (const Step& step : steps.steps) {
    if (!step.complete) continue;
    StepBreakdown sb;
    sb.step = step.index;
    sb.device = kHostTimelineDevice;
    sb.duration = step.duration();
    const TimeNs s = step.start(), e = step.end();
    // The ranges open at s: the last slice starting at or before it and its ancestors.
    auto first_after = std::upper_bound(h.start_ns.begin() + begin, h.start_ns.begin() + end, s);
    RowIndex next = static_cast<RowIndex>(first_after - h.start_ns.begin());
    std::vector<RowIndex> stack;
    for (RowIndex r = next - 1; r >= begin && r != kNoRow; r = h.parent[r])
      if (h.end_ns[r] > s) stack.push_back(r);
    std::reverse(stack.begin(), stack.end());
    // The stretch of non-compute time being built: consecutive segments with one reason and
    // one deciding range.
    IdleGap current;
    current.start = current.end = s;
    StringId current_id = kEmptyString;
    auto flush = [&] {
      if (current.length() <= 0) return;
      current.evidence = current_id == kEmptyString ? std::string("(no range recorded)")
                                                    : std::string(trace.str(current_id));
      if (current.length() >= options.long_gap_ns && dev.long_gaps.size() < options.max_long_gaps)
        dev.long_gaps.push_back(current);
      gaps.push_back(current);
      if (gaps.size() > 4 * options.largest_gaps + 1024) {  // keep the longest only
        std::nth_element(
            gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(options.largest_gaps), gaps.end(),
            [](const IdleGap& a, const IdleGap& b) { return a.length() > b.length(); });
        gaps.resize(options.largest_gaps);
      }
    };
    for (TimeNs t = s; t < e;) {
      std::erase_if(stack, [&](RowIndex r) { return h.end_ns[r] <= t; });
      while (next < end && h.start_ns[next] <= t) {
        if (h.end_ns[next] > t) stack.push_back(next);
        ++next;
      }
      TimeNs t_next = std::min<TimeNs>(e, next < end ? h.start_ns[next] : INT64_MAX);
      for (RowIndex r : stack)
        t_next = std::min(t_next, h.end_ns[r]);
      // The innermost range with the highest-priority flag decides; evidence is that range.
      TimeCategory reason = records_ops ? TimeCategory::kOtherCpu : TimeCategory::kCompute;
      RowIndex evidence = kNoRow;
      bool decided = false;
      for (uint8_t flag : {kInput, kSync, kCollective, kPreprocess, kOp}) {
        for (auto it = stack.rbegin(); it != stack.rend() && !decided; ++it) {
          if (!(flags[*it - begin] & flag)) continue;
          decided = true;
          evidence = *it;
          reason = flag == kInput        ? TimeCategory::kInput
                   : flag == kSync       ? TimeCategory::kSync
                   : flag == kCollective ? TimeCategory::kCommunication
                   : flag == kOp         ? TimeCategory::kCompute
                                         : TimeCategory::kOtherCpu;
        }
        if (decided) break;
      }
      StringId evidence_id = kEmptyString;
      if (!decided) {
        for (auto it = stack.rbegin(); it != stack.rend() && evidence == kNoRow; ++it)
          if (!(flags[*it - begin] & kIgnored)) evidence = *it;
        // Not working itself while another thread's collective runs: waiting for it. (The
        // stretch is cut at the collectives' edges below.)
        if (collectives.Contains(t)) {
          reason = TimeCategory::kCommunication;
          evidence = kNoRow;
          evidence_id = collective_name;
          const IntervalSet clipped = collectives.Clip({t, t_next});  // outlives the loop
          for (const Interval& iv : clipped.intervals())
            if (iv.start == t) t_next = iv.end;
        } else if (const TimeNs c = next_collective_after(t); c < t_next) {
          t_next = c;
        }
      }
      const TimeNs len = std::max<TimeNs>(0, t_next - t);
      sb.times[reason] += len;
      if (reason != TimeCategory::kCompute) {
        const StringId id = evidence == kNoRow ? evidence_id : h.name[evidence];
        auto& [ns, count] = tally[static_cast<size_t>(reason)][id];
        ns += len;
        ++count;
        if (current.reason == reason && current.end == t && current_id == id &&
            current.length() > 0) {
          current.end = t_next;
        } else {
          flush();
          current = {t, t_next, reason, kHostTimelineDevice, step.index, thread, {}};
          current_id = id;
        }
      }
      t = std::max(t_next, t + 1);
    }
    flush();
    dev.total.Add(sb.times);
    dev.total_duration += sb.duration;
    dev.steps.push_back(sb);
  }

  for (size_t c = 0; c < kTimeCategoryCount; ++c) {
    for (const auto& [id, t] : tally[c])
      dev.contributors[c].push_back(
          {id == kEmptyString ? std::string("(no range recorded)") : std::string(trace.str(id)),
           t.first, t.second});
    auto& v = dev.contributors[c];
    std::sort(v.begin(), v.end(), [](const IdleContributor& a, const IdleContributor& b) {
      return a.ns > b.ns || (a.ns == b.ns && a.name < b.name);
    });
    if (v.size() > options.contributors_per_reason) v.resize(options.contributors_per_reason);
  }
  const size_t keep = std::min(gaps.size(), options.largest_gaps);
  std::partial_sort(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(keep), gaps.end(),
                    [](const IdleGap& a, const IdleGap& b) {
                      return a.length() > b.length() ||
                             (a.length() == b.length() && a.start < b.start);
                    });
  gaps.resize(keep);
  dev.largest_gaps = std::move(gaps);
  return dev;
}

}  // namespace teye
