#include "teye/analyzers/steps.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <re2/re2.h>
#include <unordered_map>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

constexpr std::string_view kProfilerStepPrefix = "ProfilerStep#";

struct Marker {
  RowIndex row;
  TimeNs start;
  TimeNs end;
};

// Top-level matches per thread: a matching slice inside another matching slice on the same
// thread is part of that step, not a step of its own. Returns the markers of the thread with
// the most of them, sorted by start.
std::vector<Marker> PickMarkers(const Trace& trace, const std::vector<RowIndex>& rows) {
  const HostSliceTable& h = trace.host_slices();
  std::vector<bool> is_marker(h.size(), false);
  for (RowIndex r : rows)
    is_marker[r] = true;
  std::unordered_map<ThreadIndex, std::vector<Marker>> by_thread;
  for (RowIndex r : rows) {
    bool nested = false;
    for (RowIndex p = h.parent[r]; p != kNoRow && !nested; p = h.parent[p])
      nested = is_marker[p];
    if (!nested) by_thread[h.thread[r]].push_back({r, h.start_ns[r], h.end_ns[r]});
  }
  std::vector<Marker> best;
  for (auto& [thread, markers] : by_thread)
    if (markers.size() > best.size()) best = std::move(markers);
  std::sort(best.begin(), best.end(),
            [](const Marker& a, const Marker& b) { return a.start < b.start; });
  return best;
}

// The GPU extent of each step: the trace's `gpu_user_annotation` ranges named like the step
// (Kineto draws ProfilerStep#N over the step's GPU work) when it has them; otherwise the GPU
// activity launched inside the step's host range (by launch time; GPU ops with no known launch
// count by their own start). Returns whether annotations were used.
bool FindGpuExtents(const Trace& trace, std::vector<Step>& steps) {
  const GpuAnnotationTable& a = trace.gpu_annotations();
  std::unordered_map<std::string_view, size_t> by_name;
  for (size_t i = 0; i < steps.size(); ++i)
    by_name.emplace(steps[i].name, i);
  bool annotated = false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto it = by_name.find(trace.str(a.name[i]));
    if (it == by_name.end()) continue;
    Step& s = steps[it->second];
    s.gpu_start = std::min(s.gpu_start, a.start_ns[i]);
    s.gpu_end = std::max(s.gpu_end, a.end_ns[i]);
    annotated = true;
  }
  if (annotated) return true;
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] == GpuOpKind::kSync) continue;
    TimeNs t = g.launch[i] != kNoRow ? h.start_ns[g.launch[i]] : g.start_ns[i];
    auto it = std::upper_bound(steps.begin(), steps.end(), t,
                               [](TimeNs x, const Step& s) { return x < s.cpu_start; });
    if (it == steps.begin()) continue;
    --it;
    if (t >= it->cpu_end) continue;
    it->gpu_start = std::min(it->gpu_start, g.start_ns[i]);
    it->gpu_end = std::max(it->gpu_end, g.end_ns[i]);
  }
  return false;
}

// Each step's window: its host range extended to the end of its GPU extent. When the GPU runs
// behind the host a window overlaps the next step's; the boundary is then where the next step's
// GPU work begins (within the overlap), so both stay steps and no instant counts twice. The last
// step keeps its whole extension.
void SetWindows(std::vector<Step>& steps) {
  for (size_t i = 0; i + 1 < steps.size(); ++i)
    steps[i].cpu_end =
        std::min(steps[i].cpu_end, std::max(steps[i + 1].cpu_start, steps[i].cpu_start));
  for (size_t i = 0; i < steps.size(); ++i) {
    Step& s = steps[i];
    if (i == 0) s.window_start = s.cpu_start;
    s.window_end = std::max(s.cpu_end, s.has_gpu_extent() ? s.gpu_end : s.cpu_end);
    if (i + 1 == steps.size()) break;
    Step& next = steps[i + 1];
    next.window_start = next.cpu_start;
    if (s.window_end <= next.cpu_start) continue;  // no overlap
    TimeNs boundary = next.cpu_start;
    if (next.has_gpu_extent()) boundary = std::clamp(next.gpu_start, next.cpu_start, s.window_end);
    boundary = std::max(boundary, s.window_start);
    s.window_end = boundary;
    next.window_start = boundary;
  }
}

// Statistics describe the steady state. Left out (listed, not counted):
//  - a last step cut short (under half the median: the profiler stopped inside it);
//  - a last step that ends with the GPU draining work earlier steps queued (the host ran ahead),
//    or a first step whose GPU work starts late behind work queued before the recording;
//  - with DataLoader iterations as steps, a first or last iteration over twice the median: the
//    first holds the workers' start-up, the last runs to the end of the recording (the loop's
//    end is not marked).
// How long the device was busy in [from, to) (union of its activity).
TimeNs DeviceBusy(const Trace& trace, TimeNs from, TimeNs to) {
  const GpuOpTable& g = trace.gpu_ops();
  TimeNs busy = 0, covered = from;
  for (size_t i = 0; i < g.size() && g.start_ns[i] < to; ++i) {
    if (g.kind[i] == GpuOpKind::kSync || g.end_ns[i] <= covered) continue;
    const TimeNs a = std::max(g.start_ns[i], covered), b = std::min(g.end_ns[i], to);
    if (b > a) busy += b - a;
    covered = std::max(covered, b);
  }
  return busy;
}

void MarkIncomplete(const Trace& trace, StepsResult& result) {
  auto& steps = result.steps;
  if (steps.size() < 2) return;
  auto median_without = [&](size_t skip) {
    std::vector<double> others;
    for (size_t i = 0; i < steps.size(); ++i)
      if (i != skip) others.push_back(static_cast<double>(steps[i].duration()));
    return Summarize(others).median;
  };
  const bool loader = result.source == StepSource::kDataLoader;
  Step& last = steps.back();
  double median = median_without(steps.size() - 1);
  double duration = static_cast<double>(last.duration());
  const double drain =
      last.has_gpu_extent() ? static_cast<double>(last.gpu_end - last.cpu_end) : 0.0;
  if (duration < 0.5 * median) {
    last.complete = false;
    result.warnings.push_back("the last step (" + last.name +
                              ") is under half the median step time: it was cut short when "
                              "the profiler stopped and is left out of the statistics");
  } else if (duration > 2 * median && drain > median) {
    last.complete = false;
    result.warnings.push_back("the last step (" + last.name +
                              ") ends with the GPU draining work queued by earlier steps (the "
                              "host ran ahead): it is left out of the statistics");
  } else if (duration > 2 * median && loader) {
    last.complete = false;
    result.warnings.push_back("the last step (" + last.name +
                              ") runs to the end of the recording (nothing marks the end of the "
                              "loop) and is over twice the median: it is left out of the "
                              "statistics");
  }
  if (steps.size() < 3) return;
  Step& first = steps.front();
  median = median_without(0);
  duration = static_cast<double>(first.duration());
  // Late because the device was still running work queued before the recording (not because
  // the host was late to launch, waiting for input, say).
  const TimeNs late = first.has_gpu_extent() ? first.gpu_start - first.cpu_start : 0;
  const bool queued = late > 0 && 2 * DeviceBusy(trace, first.cpu_start, first.gpu_start) > late;
  if (duration > 2 * median && static_cast<double>(late) > median && queued) {
    first.complete = false;
    result.warnings.push_back("the first step (" + first.name +
                              ") waits for the GPU to finish work queued before the recording "
                              "began: it is left out of the statistics");
  } else if (duration > 2 * median && loader) {
    first.complete = false;
    result.warnings.push_back("the first step (" + first.name +
                              ") is over twice the median: it holds the DataLoader's start-up "
                              "(workers starting, the first batch) and is left out of the "
                              "statistics");
  }
}

// Whether the thread does any work (a range that is not input) in [from, to): a DataLoader
// iteration followed by none is the loader's last `__next__`, the one that raised StopIteration.
bool WorkBetween(const Trace& trace, ThreadIndex thread, TimeNs from, TimeNs to) {
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  const auto begin = h.start_ns.begin() + threads.slice_begin[thread];
  const auto end = h.start_ns.begin() + threads.slice_end[thread];
  for (auto it = std::lower_bound(begin, end, from); it != end && *it < to; ++it) {
    const auto r = static_cast<RowIndex>(it - h.start_ns.begin());
    if (h.kind[r] == HostSliceKind::kProfilerSpan || h.kind[r] == HostSliceKind::kOverhead)
      continue;
    if (!IsInputSlice(trace, r)) return true;
  }
  return false;
}

int64_t StepNumber(std::string_view name) {
  if (!name.starts_with(kProfilerStepPrefix)) return -1;
  int64_t n = 0;
  bool any = false;
  for (char c : name.substr(kProfilerStepPrefix.size())) {
    if (c < '0' || c > '9') break;
    n = n * 10 + (c - '0');
    any = true;
  }
  return any ? n : -1;
}

std::vector<Step> StepsFromMarkers(const Trace& trace, const std::vector<Marker>& markers) {
  std::vector<Step> steps;
  for (const Marker& m : markers) {
    Step s;
    s.index = static_cast<int>(steps.size());
    s.name = std::string(trace.str(trace.host_slices().name[m.row]));
    s.number = StepNumber(s.name);
    s.cpu_start = m.start;
    s.cpu_end = m.end;
    s.marker = m.row;
    steps.push_back(std::move(s));
  }
  return steps;
}

std::pair<TimeNs, TimeNs> ActivityWindow(const Trace& trace) {
  TimeNs lo = INT64_MAX, hi = INT64_MIN;
  const GpuOpTable& g = trace.gpu_ops();
  for (size_t i = 0; i < g.size(); ++i) {
    lo = std::min(lo, g.start_ns[i]);
    hi = std::max(hi, g.end_ns[i]);
  }
  const HostSliceTable& h = trace.host_slices();
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] == HostSliceKind::kProfilerSpan || h.kind[i] == HostSliceKind::kOverhead)
      continue;
    lo = std::min(lo, h.start_ns[i]);
    hi = std::max(hi, h.end_ns[i]);
  }
  if (lo > hi) return {trace.start_ns(), trace.end_ns()};
  return {lo, hi};
}

}  // namespace

std::string_view ToString(StepSource source) {
  switch (source) {
    case StepSource::kProfilerStep:
      return "profiler_step";
    case StepSource::kRegex:
      return "step_regex";
    case StepSource::kDataLoader:
      return "dataloader";
    case StepSource::kWholeTrace:
      return "whole_trace";
  }
  return "?";
}

DistributionStats Summarize(std::vector<double> v) {
  DistributionStats s;
  s.count = static_cast<int>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto quantile = [&](double q) {
    double pos = q * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  s.min = v.front();
  s.max = v.back();
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.median = quantile(0.5);
  s.p90 = quantile(0.9);
  double var = 0;
  for (double x : v)
    var += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(var / static_cast<double>(v.size()));
  return s;
}

std::vector<const Step*> StepsResult::CompleteSteps() const {
  std::vector<const Step*> out;
  for (const Step& s : steps)
    if (s.complete) out.push_back(&s);
  return out;
}

Result<StepsResult> DetectSteps(const Trace& trace, const StepOptions& options) {
  StepsResult result;
  const HostSliceTable& h = trace.host_slices();

  // 1. ProfilerStep#N on the host.
  std::vector<RowIndex> rows;
  for (size_t i = 0; i < h.size(); ++i)
    if (trace.str(h.name[i]).starts_with(kProfilerStepPrefix))
      rows.push_back(static_cast<RowIndex>(i));
  std::vector<Marker> markers = PickMarkers(trace, rows);
  if (!markers.empty()) {
    result.source = StepSource::kProfilerStep;
    result.steps = StepsFromMarkers(trace, markers);
  }

  // 2. --step-regex over annotations.
  if (result.steps.empty() && !options.step_regex.empty()) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    RE2 re(options.step_regex, re_options);
    if (!re.ok())
      return Error{"--step-regex '" + options.step_regex + "' is not a valid regex: " + re.error()};
    rows.clear();
    std::unordered_map<StringId, bool> matches;
    for (size_t i = 0; i < h.size(); ++i) {
      if (h.kind[i] != HostSliceKind::kUserAnnotation && h.kind[i] != HostSliceKind::kCpuOp &&
          h.kind[i] != HostSliceKind::kDataLoader)
        continue;
      auto [it, inserted] = matches.emplace(h.name[i], false);
      if (inserted) {
        std::string_view n = trace.str(h.name[i]);
        it->second = RE2::PartialMatch(n, re);
      }
      if (it->second) rows.push_back(static_cast<RowIndex>(i));
    }
    markers = PickMarkers(trace, rows);
    if (!markers.empty()) {
      result.source = StepSource::kRegex;
      result.steps = StepsFromMarkers(trace, markers);
    } else {
      result.warnings.push_back("--step-regex '" + options.step_regex + "' matched no annotation");
    }
  }

  // 3. DataLoader iterations: each `__next__` starts a step that lasts until the next one.
  if (result.steps.empty()) {
    rows.clear();
    for (size_t i = 0; i < h.size(); ++i)
      if (IsDataLoaderNext(trace, static_cast<RowIndex>(i)))
        rows.push_back(static_cast<RowIndex>(i));
    markers = PickMarkers(trace, rows);
    // An iteration after which the loop does nothing is not a step: the loader's last
    // `__next__` raises StopIteration (at an epoch's end, or the run's). Only when the other
    // iterations do record work: a trace that records none cannot tell.
    std::vector<char> works(markers.size(), 0);
    for (size_t i = 0; i < markers.size(); ++i)
      works[i] = WorkBetween(trace, h.thread[markers[i].row], markers[i].end,
                             i + 1 < markers.size() ? markers[i + 1].start : INT64_MAX);
    if (std::find(works.begin(), works.end(), 1) != works.end()) {
      size_t kept = 0;
      for (size_t i = 0; i < markers.size(); ++i)
        if (works[i]) markers[kept++] = markers[i];
      markers.resize(kept);
    }
    if (markers.size() >= 2) {
      result.source = StepSource::kDataLoader;
      auto [lo, hi] = ActivityWindow(trace);
      for (size_t i = 0; i < markers.size(); ++i) {
        Step s;
        s.index = static_cast<int>(i);
        s.name = "iteration " + std::to_string(i + 1);
        s.cpu_start = markers[i].start;
        s.cpu_end = i + 1 < markers.size() ? markers[i + 1].start : std::max(hi, markers[i].end);
        s.marker = markers[i].row;
        result.steps.push_back(std::move(s));
      }
      result.warnings.push_back("no ProfilerStep#N annotations: steps are DataLoader iterations");
    }
  }

  // 4. The whole trace.
  if (result.steps.empty()) {
    result.source = StepSource::kWholeTrace;
    auto [lo, hi] = ActivityWindow(trace);
    Step s;
    s.name = "whole trace";
    s.cpu_start = lo;
    s.cpu_end = hi;
    result.steps.push_back(std::move(s));
    result.warnings.push_back(
        "no step markers (ProfilerStep#N, --step-regex, DataLoader iterations): the whole trace "
        "is treated as one step");
  }

  result.gpu_annotations = FindGpuExtents(trace, result.steps);
  SetWindows(result.steps);
  if (result.source != StepSource::kWholeTrace) MarkIncomplete(trace, result);

  std::vector<double> durations;
  for (const Step& s : result.steps)
    if (s.complete) durations.push_back(static_cast<double>(s.duration()) / kNsPerMs);
  result.duration_ms = Summarize(std::move(durations));
  return result;
}

}  // namespace teye
