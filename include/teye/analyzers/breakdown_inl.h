// Template part of IdleAttributor (included by breakdown.h).
#pragma once

#include <algorithm>

#include <climits>

namespace teye {

template <typename Emit>
void IdleAttributor::Attribute(Interval gap, ThreadIndex thread, Emit&& emit) const {
  const HostSliceTable& h = trace_.host_slices();
  const ThreadTable& threads = trace_.threads();
  if (thread == kNoThread || thread >= threads.size()) {
    emit(gap.start, gap.end, TimeCategory::kUnknown, kNoRow);
    return;
  }
  const RowIndex begin = threads.slice_begin[thread];
  const RowIndex end = threads.slice_end[thread];

  // Innermost slice containing gap.start: the last slice starting at or before it, or one of
  // its ancestors (slices are properly nested per thread).
  auto first_after =
      std::upper_bound(h.start_ns.begin() + begin, h.start_ns.begin() + end, gap.start);
  RowIndex next = static_cast<RowIndex>(first_after - h.start_ns.begin());
  std::vector<RowIndex> stack;
  for (RowIndex r = next - 1; r >= begin && r != kNoRow; r = h.parent[r]) {
    if (h.end_ns[r] > gap.start) stack.push_back(r);
    if (h.parent[r] == kNoRow) break;
  }
  std::reverse(stack.begin(), stack.end());  // outermost first

  auto classify = [&](RowIndex* evidence) -> TimeCategory {
    // Innermost slice carrying the winning flag is the evidence.
    for (uint8_t flag : {kInputFlag, kSyncFlag, kLaunchFlag}) {
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        if (flags_[*it] & flag) {
          *evidence = *it;
          return flag == kInputFlag  ? TimeCategory::kInput
                 : flag == kSyncFlag ? TimeCategory::kSync
                                     : TimeCategory::kLaunch;
        }
      }
    }
    if (!stack.empty()) {
      *evidence = stack.back();
      return TimeCategory::kOtherCpu;
    }
    *evidence = kNoRow;
    return TimeCategory::kUnknown;
  };

  // A gap that opens while the host is blocked in a sync was drained by it: until the host
  // launches again (the end of the gap) the idle time is the sync's, unless input intervenes.
  bool drained_by_sync = false;
  RowIndex sync_evidence = kNoRow;
  TimeNs t = gap.start;
  while (t < gap.end) {
    // Drop every range that has ended, not only the innermost: profilers do emit ranges that
    // overlap without nesting (e.g. Python functions), and the sweep must still progress.
    std::erase_if(stack, [&](RowIndex r) { return h.end_ns[r] <= t; });
    while (next < end && h.start_ns[next] <= t) {
      if (h.end_ns[next] > t) stack.push_back(next);
      ++next;
    }
    TimeNs next_end = LLONG_MAX;
    for (RowIndex r : stack)
      next_end = std::min(next_end, h.end_ns[r]);
    TimeNs next_start = next < end ? h.start_ns[next] : LLONG_MAX;
    TimeNs t_next = std::min({next_end, next_start, gap.end});

    RowIndex evidence;
    TimeCategory reason = classify(&evidence);
    if (t == gap.start && reason == TimeCategory::kSync) {
      drained_by_sync = true;
      sync_evidence = evidence;
    } else if (drained_by_sync && reason != TimeCategory::kInput && reason != TimeCategory::kSync) {
      reason = TimeCategory::kSync;
      evidence = sync_evidence;
    }
    if (t_next > t) emit(t, t_next, reason, evidence);
    t = t_next;
  }
}

}  // namespace teye
