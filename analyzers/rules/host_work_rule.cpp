// CPU work on the launching thread between GPU work: preprocessing, logging, metrics,
// checkpointing done inline, while the GPU waits.
#include <algorithm>
#include <string>
#include <vector>

#include "teye/analyzers/host_patterns.h"

#include "input_pricing.h"
#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// Host work this long between two events of the launching thread is code, not dispatch.
constexpr TimeNs kCpuWorkGap = kNsPerMs;

// The outermost ranges named for input preprocessing on the replayed threads, outside DataLoader
// iterations (whose loading dataloader_workers prices).
std::vector<HostRange> PreprocessingRanges(const RuleContext& c) {
  const ReplayGraph& graph = c.graph;
  const HostSliceTable& h = c.trace.host_slices();
  std::vector<HostRange> out;
  if (graph.step_start_event.empty()) return out;
  const TimeNs t0 = graph.host[graph.step_start_event.front()].start;
  const TimeNs t1 = graph.end_event >= 0 ? graph.host[graph.end_event].start : t0;
  std::vector<ThreadIndex> threads;
  for (const ReplayHostEvent& ev : graph.host)
    if (std::find(threads.begin(), threads.end(), ev.thread) == threads.end())
      threads.push_back(ev.thread);
  for (ThreadIndex t : threads) {
    if (t >= c.trace.threads().size()) continue;
    TimeNs covered_until = INT64_MIN;
    for (RowIndex r = c.trace.threads().slice_begin[t]; r < c.trace.threads().slice_end[t]; ++r) {
      if (h.start_ns[r] < t0 || h.start_ns[r] >= t1 || h.start_ns[r] < covered_until) continue;
      if (!IsPreprocessingName(c.trace.str(h.name[r]))) continue;
      bool in_loader = false;
      for (RowIndex p = h.parent[r]; p != kNoRow && !in_loader; p = h.parent[p])
        in_loader = IsDataLoaderNext(c.trace, p);
      if (in_loader) continue;
      out.push_back({t, h.start_ns[r], h.end_ns[r]});
      covered_until = h.end_ns[r];
    }
  }
  return out;
}

}  // namespace

std::vector<Recommendation> MoveCpuWork(const RuleContext& c) {
  const double share = c.Share(TimeCategory::kOtherCpu);
  if (share < 0.05) return {};
  const auto& who = c.device.contributors[static_cast<size_t>(TimeCategory::kOtherCpu)];
  const bool preprocessing = !who.empty() && IsPreprocessingName(who.front().name);
  // Without a GPU the CPU work is the job itself; only input preprocessing can move elsewhere.
  if (c.host_only && !preprocessing) return {};
  ReplayChange change;
  std::string method;
  Confidence confidence = Confidence::kLow;
  if (preprocessing) {
    // Preprocessing moved into the DataLoader's workers: priced like an inline loader, its time
    // leaves the training thread. The batch's hand-off is paid by the DataLoader already.
    const std::vector<HostRange> ranges = PreprocessingRanges(c);
    const TimeNs removed = CutHostRanges(c.graph, ranges, 0, change);
    if (removed <= 0) return {};
    method = fmt::format(
        "replayed without the {} preprocessing ranges on the training thread ({} per step), as "
        "if DataLoader workers ran them in parallel (model: input work moved to workers; they "
        "must keep up, see dataloader_workers)",
        ranges.size(),
        Ms(static_cast<double>(removed) / kNsPerMs / std::max<size_t>(1, c.graph.steps.size())));
    confidence = Confidence::kMedium;
  } else {
    // Shrink every long stretch of host work on the threads that launch the device's work.
    change.host_gap_scale.assign(c.graph.host.size(), 1.0);
    std::vector<TimeNs> last_end;
    int gaps = 0;
    for (size_t e = 0; e < c.graph.host.size(); ++e) {
      const ReplayHostEvent& ev = c.graph.host[e];
      if (ev.thread >= last_end.size()) last_end.resize(ev.thread + 1, INT64_MIN);
      if (last_end[ev.thread] != INT64_MIN && ev.start - last_end[ev.thread] >= kCpuWorkGap) {
        change.host_gap_scale[e] = 0;
        ++gaps;
      }
      last_end[ev.thread] = std::max(last_end[ev.thread], ev.end);
    }
    if (gaps == 0) return {};
    method = fmt::format(
        "replayed without the {} stretches of host work of 1 ms or more between the launching "
        "thread's GPU calls, as if that work ran elsewhere in parallel, and at most the GPU idle "
        "time attributed to other CPU work: an upper bound, reached when the work moves entirely "
        "off the critical path",
        gaps);
  }
  Recommendation r;
  r.id = "move_cpu_work";
  r.title = preprocessing ? "Move input preprocessing off the training thread"
                          : "Take CPU work out of the step's critical path";
  r.action =
      preprocessing
          ? "do the transforms in the Dataset's __getitem__ so DataLoader workers "
            "(num_workers > 0) run them in parallel, or on the GPU (torchvision.transforms.v2 "
            "on CUDA tensors, NVIDIA DALI)"
          : "find the Python that runs between launches (py-spy dump/record on the training "
            "process); move logging, metrics and checkpointing to every N steps or a "
            "background thread, and keep per-step tensor work on the GPU";
  r.evidence.push_back(fmt::format("{} {} per step ({} of the step) while {} runs other code",
                                   c.host_only ? "the step spends" : "the GPU idles",
                                   Ms(c.MsPerStep(TimeCategory::kOtherCpu)), Pct(share),
                                   c.host_only ? "the training thread" : "the launching thread"));
  if (std::string top = TopContributors(c, TimeCategory::kOtherCpu, 3); !top.empty())
    r.evidence.push_back("most of it in " + top);
  r.saving_ms = c.SavingMs(change);
  // Removing every long host gap also removes dispatch and unrecorded time; what this advice
  // is about is the idle the evidence names.
  if (!preprocessing) r.saving_ms = std::min(r.saving_ms, c.MsPerStep(TimeCategory::kOtherCpu));
  r.method = method;
  r.confidence = confidence;
  r.relieves = preprocessing ? BoundClass::kInput : BoundClass::kHost;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
