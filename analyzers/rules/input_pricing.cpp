#include "input_pricing.h"

#include <algorithm>
#include <map>
#include <set>

#include "teye/analyzers/host_patterns.h"

#include "rule_helpers.h"

namespace teye::rules {

TimeNs CutHostRanges(const ReplayGraph& graph, std::vector<HostRange> ranges, TimeNs keep_ns,
                     ReplayChange& change) {
  if (change.host_gap_cut.empty()) change.host_gap_cut.assign(graph.host.size(), 0);
  // The gaps the replay keeps between a thread's events: [previous event's end, event's start).
  std::map<ThreadIndex, std::vector<size_t>> events;
  for (size_t e = 0; e < graph.host.size(); ++e)
    events[graph.host[e].thread].push_back(e);
  std::sort(ranges.begin(), ranges.end(), [](const HostRange& a, const HostRange& b) {
    return a.thread < b.thread || (a.thread == b.thread && a.start < b.start);
  });
  TimeNs removed = 0;
  for (const HostRange& range : ranges) {
    auto it = events.find(range.thread);
    if (it == events.end()) continue;
    const std::vector<size_t>& list = it->second;
    // The gap before an event that starts before the range ends before it: start at the first
    // event starting at or after the range's start.
    auto first = std::lower_bound(list.begin(), list.end(), range.start,
                                  [&](size_t e, TimeNs t) { return graph.host[e].start < t; });
    TimeNs keep = keep_ns;
    for (auto e = first; e != list.end(); ++e) {
      if (e == list.begin()) continue;
      const TimeNs gap_start = graph.host[*(e - 1)].end;
      const TimeNs gap_end = graph.host[*e].start;
      if (gap_start >= range.end) break;
      const TimeNs overlap =
          std::max<TimeNs>(0, std::min(gap_end, range.end) - std::max(gap_start, range.start));
      const TimeNs kept = std::min(keep, overlap);
      keep -= kept;
      change.host_gap_cut[*e] += overlap - kept;
      removed += overlap - kept;
    }
  }
  return removed;
}

LoaderFixPrice PriceLoaderFix(const RuleContext& c) {
  LoaderFixPrice p;
  const ReplayGraph& graph = c.graph;
  const HostSliceTable& h = c.trace.host_slices();
  p.change.input_duration.assign(graph.host.size(), -1);
  p.change.remove_input_waits = true;  // worker-fed iterations: no wait beyond input_cost
  std::set<RowIndex> replayed;
  std::set<ThreadIndex> threads;
  TimeNs inline_ns = 0;
  for (size_t e = 0; e < graph.host.size(); ++e) {
    const ReplayHostEvent& ev = graph.host[e];
    threads.insert(ev.thread);
    if (ev.kind != ReplayHostEvent::Kind::kInput) continue;
    replayed.insert(ev.slice);
    if (!ev.inline_input) {
      ++p.worker_iterations;
      continue;
    }
    ++p.inline_iterations;
    inline_ns += ev.duration();
    p.change.input_duration[e] = std::min(ev.duration(), kBatchHandoffNs);
    if (p.inline_loader.empty()) p.inline_loader = std::string(c.trace.str(h.name[ev.slice]));
  }
  // Inline iterations that launch GPU work or synchronize are not one event of the replay: their
  // loading lies in the host gaps between the events inside them.
  if (graph.step_start_event.empty()) return p;
  const TimeNs t0 = graph.host[graph.step_start_event.front()].start;
  const TimeNs t1 = graph.end_event >= 0 ? graph.host[graph.end_event].start : t0;
  std::vector<HostRange> holding_work;
  for (ThreadIndex t : threads) {
    if (t >= c.trace.threads().size()) continue;
    const RowIndex begin = c.trace.threads().slice_begin[t];
    const RowIndex end = c.trace.threads().slice_end[t];
    for (RowIndex r = begin; r < end; ++r) {
      if (h.start_ns[r] < t0 || h.start_ns[r] >= t1 || replayed.count(r)) continue;
      if (!IsDataLoaderNext(c.trace, r) || LoaderModeOf(c.trace, r) != LoaderMode::kInline)
        continue;
      holding_work.push_back({t, h.start_ns[r], h.end_ns[r]});
      ++p.inline_iterations;
      inline_ns += h.duration(r);
      if (p.inline_loader.empty()) p.inline_loader = std::string(c.trace.str(h.name[r]));
    }
  }
  if (!holding_work.empty()) CutHostRanges(graph, holding_work, kBatchHandoffNs, p.change);
  p.inline_ms_per_step =
      static_cast<double>(inline_ns) / kNsPerMs / std::max<size_t>(1, graph.steps.size());

  std::vector<std::string> models;
  if (p.inline_iterations > 0)
    models.push_back(fmt::format(
        "the {} iterations that loaded their batch on the training thread ({} per step inside "
        "the loader) each cut to the {} hand-off of a batch that workers made (measured on "
        "multi-worker traces), the GPU work unchanged",
        p.inline_iterations, Ms(p.inline_ms_per_step),
        Ms(static_cast<double>(kBatchHandoffNs) / kNsPerMs)));
  if (p.worker_iterations > 0)
    models.push_back(fmt::format(
        "the {} waits for worker-made batches cut to the cost of an iteration that did not wait "
        "({})",
        p.worker_iterations, Ms(static_cast<double>(graph.input_cost) / kNsPerMs)));
  p.method = "replayed the steps with " + (models.empty() ? std::string("no DataLoader iteration")
                                           : models.size() == 1 ? models[0]
                                                                : models[0] + ", and " + models[1]);
  p.method += p.inline_iterations > 0 ? " (model: single-process loader, work moved to workers)"
                                      : " (model: multi-worker loader, waits removed)";
  return p;
}

}  // namespace teye::rules
