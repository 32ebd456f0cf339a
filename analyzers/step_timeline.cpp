#include "teye/analyzers/step_timeline.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

struct RawEvent {
  TimeNs start;
  TimeNs end;
  TimelineKind kind;
  KernelClass cls;
  StringId name;
};

// Merges events of the same (kind, class) whose gap is below min_width. Each output box is
// followed by a gap of at least min_width on its key, so a key yields at most
// duration / min_width boxes.
std::vector<TimelineBox> Merge(std::vector<RawEvent> events, TimeNs min_width, TimeNs origin,
                               const Trace& trace) {
  std::stable_sort(events.begin(), events.end(), [](const RawEvent& a, const RawEvent& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.cls != b.cls) return a.cls < b.cls;
    return a.start < b.start;
  });
  std::vector<TimelineBox> out;
  TimeNs longest = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    const RawEvent& e = events[i];
    const bool same_key =
        !out.empty() && i > 0 && events[i - 1].kind == e.kind && events[i - 1].cls == e.cls;
    if (same_key && e.start - origin - out.back().end < min_width) {
      TimelineBox& b = out.back();
      b.end = std::max(b.end, e.end - origin);
      ++b.events;
      if (e.end - e.start > longest) {
        longest = e.end - e.start;
        b.label = std::string(trace.str(e.name));
      }
      continue;
    }
    out.push_back(
        {e.start - origin, e.end - origin, e.kind, e.cls, std::string(trace.str(e.name)), 1});
    longest = e.end - e.start;
  }
  return out;
}

TimelineKind GpuKind(const GpuOpTable& g, size_t row, KernelClass cls) {
  switch (g.kind[row]) {
    case GpuOpKind::kKernel:
      return cls == KernelClass::kCommunication ? TimelineKind::kCommunication
                                                : TimelineKind::kKernel;
    case GpuOpKind::kMemcpy:
      return TimelineKind::kMemcpy;
    case GpuOpKind::kMemset:
      return TimelineKind::kMemset;
    case GpuOpKind::kSync:
      return TimelineKind::kGpuSync;
  }
  return TimelineKind::kKernel;
}

// What a host slice shows as, or false when it is not drawn (nested framework ops, annotations).
bool HostKind(const Trace& trace, RowIndex row, TimelineKind* kind) {
  const HostSliceTable& h = trace.host_slices();
  const std::string_view name = trace.str(h.name[row]);
  if (IsInputSlice(trace, row)) {
    *kind = TimelineKind::kInput;
  } else if (IsSyncCall(name, h.kind[row])) {
    *kind = TimelineKind::kSync;
  } else if (IsLaunchCall(name)) {
    *kind = TimelineKind::kLaunch;
  } else if (h.kind[row] == HostSliceKind::kCpuOp) {
    const RowIndex p = h.parent[row];
    if (p != kNoRow && h.kind[p] == HostSliceKind::kCpuOp) return false;  // outermost ops only
    *kind = TimelineKind::kCpu;
  } else {
    return false;
  }
  return true;
}

std::string ThreadName(const Trace& trace, ThreadIndex t) {
  const ThreadTable& th = trace.threads();
  const std::string tid = th.tid_label[t] != kEmptyString ? std::string(trace.str(th.tid_label[t]))
                                                          : std::to_string(th.tid[t]);
  const std::string name(trace.str(th.thread_name[t]));
  if (name.empty()) return "thread " + tid;
  // Kineto names threads "thread 1234 (python)" already.
  if (name.find(tid) != std::string::npos) return name;
  return "thread " + tid + " (" + name + ")";
}

const Step* Representative(const StepsResult& steps) {
  const Step* best = nullptr;
  double best_gap = 0;
  const double median_ns = steps.duration_ms.median * kNsPerMs;
  for (const Step* s : steps.CompleteSteps()) {
    const double gap = std::fabs(static_cast<double>(s->duration()) - median_ns);
    if (!best || gap < best_gap) {
      best = s;
      best_gap = gap;
    }
  }
  return best;
}

}  // namespace

std::string_view ToString(TimelineKind k) {
  switch (k) {
    case TimelineKind::kKernel:
      return "kernel";
    case TimelineKind::kCommunication:
      return "communication";
    case TimelineKind::kMemcpy:
      return "memcpy";
    case TimelineKind::kMemset:
      return "memset";
    case TimelineKind::kGpuSync:
      return "gpu_sync";
    case TimelineKind::kCpu:
      return "cpu";
    case TimelineKind::kLaunch:
      return "launch";
    case TimelineKind::kSync:
      return "sync";
    case TimelineKind::kInput:
      return "input";
  }
  return "?";
}

StepTimeline BuildStepTimeline(const Trace& trace, const StepsResult& steps,
                               const std::vector<KernelClass>& classes,
                               const StepTimelineOptions& options) {
  StepTimeline out;
  const Step* step = Representative(steps);
  if (!step || step->duration() <= 0) return out;
  out.valid = true;
  out.step = step->index;
  out.step_name = step->name;
  out.start = step->start();
  out.duration = step->duration();
  out.why = "the complete step whose duration is closest to the median";
  const TimeNs begin = step->start(), end = step->end();
  const TimeNs min_width = std::max<TimeNs>(1, out.duration / std::max(1, options.resolution));

  // GPU streams. Ops are sorted by start: scan those that start inside the step.
  const GpuOpTable& g = trace.gpu_ops();
  std::map<std::pair<int, int>, std::vector<RawEvent>> streams;
  auto first = std::lower_bound(g.start_ns.begin(), g.start_ns.end(), begin);
  for (size_t i = static_cast<size_t>(first - g.start_ns.begin()); i < g.size(); ++i) {
    if (g.start_ns[i] >= end) break;
    const KernelClass cls = i < classes.size() ? classes[i] : KernelClass::kOther;
    streams[{g.device[i], g.stream[i]}].push_back(
        {g.start_ns[i], std::min(g.end_ns[i], end), GpuKind(g, i, cls), cls, g.name[i]});
  }
  for (auto& [key, events] : streams) {
    if (out.lanes.size() >= options.max_stream_lanes) {
      ++out.lanes_dropped;
      continue;
    }
    TimelineLane lane;
    lane.device = key.first;
    lane.stream = key.second;
    lane.name = "GPU " + std::to_string(key.first) +
                (key.second >= 0 ? " stream " + std::to_string(key.second) : " (no stream)");
    lane.events = static_cast<int64_t>(events.size());
    lane.boxes = Merge(std::move(events), min_width, begin, trace);
    out.lanes.push_back(std::move(lane));
  }

  // Host threads: input, sync and launch calls at any depth, and the outermost framework ops.
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& th = trace.threads();
  struct ThreadEvents {
    ThreadIndex thread;
    TimeNs covered = 0;
    std::vector<RawEvent> events;
  };
  std::vector<ThreadEvents> threads;
  for (ThreadIndex t = 0; t < th.size(); ++t) {
    ThreadEvents te{t};
    for (RowIndex r = th.slice_begin[t]; r < th.slice_end[t]; ++r) {
      if (h.start_ns[r] >= end || h.end_ns[r] <= begin) continue;
      TimelineKind kind;
      if (!HostKind(trace, r, &kind)) continue;
      const TimeNs s = std::max(h.start_ns[r], begin), e = std::min(h.end_ns[r], end);
      te.events.push_back({s, e, kind, KernelClass::kOther, h.name[r]});
      if (kind == TimelineKind::kCpu || kind == TimelineKind::kInput) te.covered += e - s;
    }
    if (!te.events.empty()) threads.push_back(std::move(te));
  }
  std::stable_sort(
      threads.begin(), threads.end(), [](const ThreadEvents& a, const ThreadEvents& b) {
        return a.events.size() + a.covered / kNsPerUs > b.events.size() + b.covered / kNsPerUs;
      });
  if (threads.size() > options.max_thread_lanes) {
    out.lanes_dropped += static_cast<int>(threads.size() - options.max_thread_lanes);
    threads.resize(options.max_thread_lanes);
  }
  std::sort(threads.begin(), threads.end(),
            [](const ThreadEvents& a, const ThreadEvents& b) { return a.thread < b.thread; });
  for (ThreadEvents& te : threads) {
    TimelineLane lane;
    lane.gpu = false;
    lane.thread = te.thread;
    lane.name = ThreadName(trace, te.thread);
    lane.events = static_cast<int64_t>(te.events.size());
    lane.boxes = Merge(std::move(te.events), min_width, begin, trace);
    out.lanes.push_back(std::move(lane));
  }
  for (const TimelineLane& l : out.lanes) {
    out.events += l.events;
    out.boxes += static_cast<int64_t>(l.boxes.size());
  }
  return out;
}

}  // namespace teye
