#include "teye/analyzers/replay.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

constexpr TimeNs kGraphNodeGap = 1 * kNsPerUs;    // CUDA graph nodes start about 1 µs apart
constexpr TimeNs kDispatchGap = 100 * kNsPerUs;   // host gaps this short between launches are
                                                  // framework dispatch
constexpr TimeNs kWaitTolerance = 10 * kNsPerUs;  // "started when that op ended"
constexpr TimeNs kUnblocked = 50 * kNsPerUs;      // an op this soon after its launch found the
                                                  // queue empty: its launch did not block

TimeNs Median(std::vector<TimeNs> v, TimeNs fallback) {
  if (v.empty()) return fallback;
  auto mid = v.begin() + static_cast<ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

bool IsPageableCopy(const GpuOpTable& g, RowIndex i) {
  return g.kind[i] == GpuOpKind::kMemcpy &&
         ((g.copy_kind[i] == CopyKind::kHtoD && g.src_memory[i] == MemoryKind::kPageable) ||
          (g.copy_kind[i] == CopyKind::kDtoH && g.dst_memory[i] == MemoryKind::kPageable));
}

}  // namespace

ReplayGraph BuildReplayGraph(const Trace& trace, const DeviceTimeline& timeline,
                             const StepsResult& steps, const std::vector<KernelClass>& classes) {
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  ReplayGraph graph;
  graph.device = timeline.device;
  for (const Step& s : steps.steps)
    if (s.complete) graph.steps.push_back(s.index);
  if (graph.steps.empty()) return graph;
  const Step& first = steps.steps[graph.steps.front()];
  const Step& last = steps.steps[graph.steps.back()];
  const TimeNs cpu_lo = first.cpu_start, cpu_hi = last.cpu_end;

  // Complete steps in time order: the step holding a time is the last to start before it.
  std::vector<TimeNs> step_starts;
  for (int idx : graph.steps)
    step_starts.push_back(steps.steps[idx].cpu_start);
  auto step_of = [&](TimeNs t) {
    auto it = std::upper_bound(step_starts.begin(), step_starts.end(), t);
    if (it == step_starts.begin()) return -1;
    const int idx = graph.steps[static_cast<size_t>(it - step_starts.begin() - 1)];
    return t < steps.steps[idx].cpu_end ? idx : -1;
  };

  // Device work launched inside the replayed steps (or, with no known launch, running in them).
  std::unordered_set<ThreadIndex> launching;
  std::vector<TimeNs> latencies, costs;
  std::unordered_map<int, TimeNs> stream_end;
  for (RowIndex r : timeline.ops) {
    const RowIndex launch = g.launch[r];
    const TimeNs when = launch != kNoRow ? h.start_ns[launch] : g.start_ns[r];
    // Launch latency and unblocked launch cost are measured where the stream was idle.
    if (launch != kNoRow) {
      auto it = stream_end.find(g.stream[r]);
      const bool idle = it == stream_end.end() || it->second <= h.end_ns[launch];
      if (idle) latencies.push_back(std::max<TimeNs>(0, g.start_ns[r] - h.end_ns[launch]));
      if (g.kind[r] == GpuOpKind::kKernel && g.start_ns[r] - h.end_ns[launch] < kUnblocked)
        costs.push_back(h.duration(launch));
    }
    stream_end[g.stream[r]] = std::max(stream_end[g.stream[r]], g.end_ns[r]);
    if (when < cpu_lo || when >= cpu_hi) continue;
    ReplayOp op;
    op.row = r;
    op.stream = g.stream[r];
    op.start = g.start_ns[r];
    op.end = g.end_ns[r];
    op.cls = classes[r];
    op.kind = g.kind[r];
    op.step = step_of(when);
    graph.ops.push_back(op);
    if (launch != kNoRow) launching.insert(h.thread[launch]);
  }
  std::stable_sort(graph.ops.begin(), graph.ops.end(),
                   [](const ReplayOp& a, const ReplayOp& b) { return a.start < b.start; });
  // The ops of each launch call, as linked lists in op order (no container per launch).
  std::vector<int> first_op(h.size(), -1), next_op(graph.ops.size(), -1);
  for (size_t i = graph.ops.size(); i-- > 0;) {
    const RowIndex launch = g.launch[graph.ops[i].row];
    if (launch == kNoRow) continue;
    next_op[i] = first_op[launch];
    first_op[launch] = static_cast<int>(i);
  }
  graph.launch_latency = std::clamp<TimeNs>(Median(latencies, 3000), 500, 50 * kNsPerUs);
  graph.launch_cost = std::max<TimeNs>(500, Median(costs, 5000));

  // Sync records (CUPTI synchronization activity) tell which stream a sync call waited for.
  std::unordered_map<RowIndex, int> sync_stream;
  for (size_t i = 0; i < g.size(); ++i)
    if (g.kind[i] == GpuOpKind::kSync && g.launch[i] != kNoRow && g.stream[i] >= 0)
      sync_stream[g.launch[i]] = g.stream[i];

  // The step markers' thread carries the step boundaries.
  ThreadIndex marker_thread =
      first.marker != kNoRow ? h.thread[first.marker] : timeline.main_launch_thread;
  if (marker_thread != kNoThread) launching.insert(marker_thread);

  TimeNs sync_cost = -1, input_cost = -1;
  for (size_t i = 0; i < h.size(); ++i) {
    const auto r = static_cast<RowIndex>(i);
    if (IsDataLoaderNext(trace, r) && LoaderModeOf(trace, r) == LoaderMode::kWorkers)
      input_cost = input_cost < 0 ? h.duration(i) : std::min(input_cost, h.duration(i));
    if (h.kind[i] != HostSliceKind::kCpuOp && IsSyncCall(trace.str(h.name[i]), h.kind[i]))
      sync_cost = sync_cost < 0 ? h.duration(i) : std::min(sync_cost, h.duration(i));
  }
  // The cheapest iteration is the cost of one that did not wait, unless every one waited.
  graph.input_cost = std::clamp<TimeNs>(input_cost, 0, kNsPerMs);
  graph.sync_cost = std::clamp<TimeNs>(sync_cost < 0 ? 5000 : sync_cost, 500, 20 * kNsPerUs);

  // Host programs.
  for (ThreadIndex t : launching) {
    if (t == kNoThread || t >= threads.size()) continue;
    const RowIndex begin = threads.slice_begin[t];
    const RowIndex end = threads.slice_end[t];
    auto lo = std::lower_bound(h.start_ns.begin() + begin, h.start_ns.begin() + end, cpu_lo);
    std::vector<ReplayHostEvent> events;
    for (auto r = static_cast<RowIndex>(lo - h.start_ns.begin()); r < end && h.start_ns[r] < cpu_hi;
         ++r) {
      ReplayHostEvent e;
      e.thread = t;
      e.start = h.start_ns[r];
      e.end = h.end_ns[r];
      e.slice = r;
      if (first_op[r] >= 0) {
        e.kind = ReplayHostEvent::Kind::kLaunch;
        for (int o = first_op[r]; o >= 0; o = next_op[o])
          e.ops.push_back(o);
        for (int o : e.ops)
          e.blocking |= IsPageableCopy(g, graph.ops[o].row);
      } else if (!timeline.ops.empty() &&
                 (h.kind[r] == HostSliceKind::kRuntime || h.kind[r] == HostSliceKind::kDriver) &&
                 IsLaunchCall(trace.str(h.name[r]))) {
        // Its work ran after the trace ended (or on another device): it still took a place in
        // the launch queue and its host time.
        e.kind = ReplayHostEvent::Kind::kLaunch;
      } else if (!timeline.ops.empty() && h.kind[r] != HostSliceKind::kCpuOp &&
                 IsSyncCall(trace.str(h.name[r]), h.kind[r])) {
        // (Without device work a launch or a sync is host time like any other.)
        e.kind = ReplayHostEvent::Kind::kSync;
        auto s = sync_stream.find(r);
        e.sync_stream = s == sync_stream.end() ? -1 : s->second;
      } else if (IsDataLoaderNext(trace, r)) {
        e.kind = ReplayHostEvent::Kind::kInput;
        e.inline_input = LoaderModeOf(trace, r) == LoaderMode::kInline;
      } else {
        continue;
      }
      events.push_back(std::move(e));
    }
    if (t == marker_thread) {
      for (int idx : graph.steps) {
        ReplayHostEvent m;
        m.kind = ReplayHostEvent::Kind::kMarker;
        m.thread = t;
        m.start = m.end = steps.steps[idx].cpu_start;
        events.push_back(m);
      }
      ReplayHostEvent m;
      m.kind = ReplayHostEvent::Kind::kMarker;
      m.thread = t;
      m.start = m.end = cpu_hi;
      events.push_back(m);
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const ReplayHostEvent& a, const ReplayHostEvent& b) {
                       return a.start < b.start ||
                              (a.start == b.start && a.kind == ReplayHostEvent::Kind::kMarker &&
                               b.kind != ReplayHostEvent::Kind::kMarker);
                     });
    // A thread's events must not overlap: an input range that holds launches or syncs is not
    // a wait, and a range nested in the previous one is part of it. Markers always stay.
    TimeNs busy_until = INT64_MIN;
    for (size_t i = 0; i < events.size(); ++i) {
      ReplayHostEvent& e = events[i];
      if (e.kind == ReplayHostEvent::Kind::kMarker) {
        graph.host.push_back(std::move(e));
        continue;
      }
      if (e.start < busy_until) continue;
      if (e.kind == ReplayHostEvent::Kind::kInput) {
        bool holds_work = false;
        for (size_t j = i + 1; j < events.size() && events[j].start < e.end; ++j)
          holds_work |= events[j].kind != ReplayHostEvent::Kind::kMarker;
        if (holds_work) continue;
      }
      busy_until = e.end;
      graph.host.push_back(std::move(e));
    }
  }
  std::stable_sort(
      graph.host.begin(), graph.host.end(),
      [](const ReplayHostEvent& a, const ReplayHostEvent& b) { return a.start < b.start; });
  // The device's launch queue: work launched before the steps (in measured start order), then
  // every launch in the steps (in call order).
  int queue = 0;
  for (auto& op : graph.ops)
    if (g.launch[op.row] == kNoRow) op.queue_pos = queue++;
  for (auto& ev : graph.host)
    if (ev.kind == ReplayHostEvent::Kind::kLaunch) ev.queue_pos = queue++;
  graph.queue_size = queue;
  for (size_t e = 0; e < graph.host.size(); ++e) {
    const ReplayHostEvent& ev = graph.host[e];
    for (int o : ev.ops)
      graph.ops[o].launch = static_cast<int>(e);
    if (ev.kind == ReplayHostEvent::Kind::kMarker && ev.thread == marker_thread) {
      if (graph.step_start_event.size() < graph.steps.size())
        graph.step_start_event.push_back(static_cast<int>(e));
      else
        graph.end_event = static_cast<int>(e);
    }
  }

  // FIFO predecessors and cross-stream waits. Per stream, ops run in FIFO order, so their ends
  // increase and the op that ended just before a given time is found by binary search.
  // Ops launched before the replayed steps (no launch in the graph) start when their stream
  // frees up if they were seen to start right then; otherwise no earlier than measured.
  std::unordered_map<int, std::vector<int>> by_stream;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    ReplayOp& op = graph.ops[i];
    auto& mine = by_stream[op.stream];
    if (!mine.empty()) op.prev_on_stream = mine.back();
    mine.push_back(static_cast<int>(i));
    if (op.prev_on_stream < 0) {
      op.floor_at_start = op.launch < 0;
      continue;
    }
    const TimeNs launched =
        op.launch >= 0 ? graph.host[op.launch].end + graph.launch_latency : INT64_MIN;
    const TimeNs ready = std::max(launched, graph.ops[op.prev_on_stream].end);
    if (op.start <= ready + kWaitTolerance) continue;  // explained by launch and stream order
    int best = -1;
    for (auto& [stream, list] : by_stream) {
      if (stream == op.stream) continue;
      auto it = std::upper_bound(list.begin(), list.end(), op.start + 1000,
                                 [&](TimeNs t, int j) { return t < graph.ops[j].end; });
      if (it == list.begin()) continue;
      const int j = *(it - 1);
      if (op.start - graph.ops[j].end > kWaitTolerance) continue;
      if (best < 0 || graph.ops[j].end > graph.ops[best].end) best = j;
    }
    if (best >= 0)
      op.waits.push_back(best);
    else if (op.launch < 0)
      op.floor_at_start = true;
  }
  return graph;
}

ReplayResult Replay(const ReplayGraph& graph, const ReplayChange& change) {
  ReplayResult result;
  if (graph.steps.empty() || graph.step_start_event.size() != graph.steps.size()) return result;
  const size_t n_ops = graph.ops.size();
  const size_t n_host = graph.host.size();
  auto scale = [&](size_t i) {
    return change.duration_scale.empty() ? 1.0 : change.duration_scale[i];
  };
  auto removed = [&](size_t i) { return !change.removed.empty() && change.removed[i] != 0; };

  // Items are timed in measured order: ops at their start, host events at their end (a copy
  // that blocks the host at its copy's start; the wait is settled by the thread's next event).
  // Every dependency of an item was measured to finish before that point.
  struct Item {
    TimeNs key;
    int kind;  // 0 op, 1 host
    int index;
  };
  std::vector<Item> items;
  items.reserve(n_ops + n_host);
  for (size_t i = 0; i < n_ops; ++i)
    items.push_back({graph.ops[i].start, 0, static_cast<int>(i)});
  for (size_t e = 0; e < n_host; ++e) {
    const ReplayHostEvent& ev = graph.host[e];
    // A blocking launch goes just before its copy, so that the copy sees when it was issued.
    items.push_back(
        {ev.blocking ? graph.ops[ev.ops.front()].start - 1 : ev.end, 1, static_cast<int>(e)});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.key < b.key || (a.key == b.key && a.kind < b.kind);
  });

  std::vector<TimeNs> op_start(n_ops, 0), op_end(n_ops, 0), launch_end(n_host, 0),
      event_time(n_host, 0);
  std::vector<char> op_done(n_ops, 0);
  // When the work at each place of the launch queue started (INT64_MIN: unknown).
  std::vector<TimeNs> queue_started(static_cast<size_t>(graph.queue_size), INT64_MIN);
  // Launches whose work is all removed take no place in the queue: the places that remain
  // close up.
  std::vector<int> place_of(static_cast<size_t>(graph.queue_size));
  {
    std::vector<char> gone(place_of.size(), 0);
    if (!change.removed.empty()) {
      for (const ReplayHostEvent& ev : graph.host) {
        if (ev.queue_pos < 0 || ev.ops.empty()) continue;
        bool all = true;
        for (int o : ev.ops)
          all = all && removed(static_cast<size_t>(o));
        gone[static_cast<size_t>(ev.queue_pos)] = all;
      }
    }
    int next = 0;
    for (size_t p = 0; p < place_of.size(); ++p)
      place_of[p] = gone[p] ? -1 : next++;
  }
  // Per stream, in FIFO order: measured launch times and the running max of replayed ends, for
  // syncs ("everything launched before me") and the launch queue.
  struct StreamState {
    std::vector<TimeNs> launch_time;
    std::vector<TimeNs> max_end;
    std::vector<int> ops;
  };
  std::unordered_map<int, StreamState> streams;
  struct ThreadState {
    TimeNs last_end = 0;
    TimeNs last_orig_end = 0;
    bool any = false;
    int pending_op = -1;  // a blocking copy whose completion the thread still waits for
    bool prev_launch = false;
  };
  std::unordered_map<ThreadIndex, ThreadState> threads;
  const TimeNs latency = change.graph_launch ? kGraphNodeGap : graph.launch_latency;
  auto settle = [&](ThreadState& t) {
    if (t.pending_op >= 0) {
      t.last_end = std::max(t.last_end, op_end[t.pending_op]);
      t.pending_op = -1;
    }
  };
  auto launched_at = [&](const ReplayOp& op) {
    return op.launch >= 0 ? graph.host[op.launch].start : op.start;
  };

  auto detached = [&](int i) { return !change.side_stream.empty() && change.side_stream[i] != 0; };
  // When an op's stream lets it start: after its FIFO predecessor, and after any predecessors
  // moved to a side stream in between (it still needs their data). A moved op waits for none.
  auto stream_ready = [&](int i, const std::vector<TimeNs>& ends) {
    TimeNs t = INT64_MIN;
    if (detached(i)) return t;
    for (int p = graph.ops[i].prev_on_stream; p >= 0; p = graph.ops[p].prev_on_stream) {
      t = std::max(t, ends[p]);
      if (!detached(p)) break;
    }
    return t;
  };
  auto waits_of = [&](int i) -> const std::vector<int>& {
    return change.waits.empty() || !change.waits[i] ? graph.ops[i].waits : *change.waits[i];
  };

  for (const Item& item : items) {
    if (item.kind == 0) {
      const ReplayOp& op = graph.ops[item.index];
      TimeNs earliest = op.launch >= 0      ? launch_end[op.launch] + latency
                        : op.floor_at_start ? op.start
                                            : INT64_MIN;
      earliest = std::max(earliest, stream_ready(item.index, op_end));
      for (int w : waits_of(item.index))
        if (op_done[w]) earliest = std::max(earliest, op_end[w]);
      const double d =
          removed(item.index) ? 0.0 : static_cast<double>(op.duration()) * scale(item.index);
      op_start[item.index] = earliest;
      op_end[item.index] = earliest + static_cast<TimeNs>(d);
      op_done[item.index] = 1;
      int place = op.launch >= 0 ? graph.host[op.launch].queue_pos : op.queue_pos;
      if (place >= 0) place = place_of[static_cast<size_t>(place)];
      if (place >= 0 && queue_started[place] == INT64_MIN) queue_started[place] = earliest;
      StreamState& s = streams[op.stream];
      s.launch_time.push_back(launched_at(op));
      s.max_end.push_back(
          std::max(s.max_end.empty() ? INT64_MIN : s.max_end.back(), op_end[item.index]));
      s.ops.push_back(item.index);
      continue;
    }
    const ReplayHostEvent& ev = graph.host[item.index];
    ThreadState& t = threads[ev.thread];
    settle(t);
    TimeNs gap = t.any ? ev.start - t.last_orig_end : 0;
    if (!change.host_gap_cut.empty())
      gap = std::max<TimeNs>(0, gap - change.host_gap_cut[item.index]);
    if (!change.host_gap_scale.empty())
      gap = static_cast<TimeNs>(static_cast<double>(gap) * change.host_gap_scale[item.index]);
    const TimeNs base = t.any ? t.last_end : ev.start;
    TimeNs woken_at = INT64_MIN;
    // A thread that resumes after a pause while another launching thread worked was waiting for
    // it (the training thread inside backward() while the autograd thread launches, or that
    // thread waiting for the next backward): it resumes as much earlier or later as that thread
    // ran, plus what it did after that thread's last call.
    if (t.any && gap > kDispatchGap) {
      const ThreadState* waker = nullptr;
      for (const auto& [other, u] : threads) {
        if (other == ev.thread || !u.any || u.last_orig_end > ev.start ||
            u.last_orig_end <= t.last_orig_end)
          continue;
        if (!waker || u.last_orig_end > waker->last_orig_end) waker = &u;
      }
      if (waker) {
        // A waker still held by a blocking copy is free when the copy ends, plus the rest of
        // its call as measured.
        TimeNs free_at = waker->last_end;
        if (waker->pending_op >= 0) {
          const TimeNs tail =
              std::max<TimeNs>(0, waker->last_orig_end - graph.ops[waker->pending_op].end);
          free_at = std::max(free_at, op_end[waker->pending_op] + tail);
        }
        woken_at = free_at + (ev.start - waker->last_orig_end);
      }
    }
    const bool is_launch = ev.kind == ReplayHostEvent::Kind::kLaunch;
    bool all_removed = is_launch;
    for (int o : ev.ops)
      all_removed = all_removed && removed(static_cast<size_t>(o));
    // Framework dispatch before a launch that disappears, or between launches captured in a
    // CUDA graph, disappears with it.
    const bool sync_removed = ev.kind == ReplayHostEvent::Kind::kSync &&
                              !change.sync_removed.empty() && change.sync_removed[item.index];
    // A captured step replays its kernels without running the framework code between their
    // launches at all, however long it took (Python, autograd, the optimizer's loop).
    const bool captured = is_launch && change.graph_launch && t.prev_launch;
    if (captured) woken_at = INT64_MIN;
    if (is_launch && (captured || (gap <= kDispatchGap && all_removed))) gap = 0;
    if (sync_removed && gap <= kDispatchGap) gap = 0;  // the call and its dispatch go too
    const TimeNs start =
        woken_at != INT64_MIN ? std::max(base, woken_at) : base + std::max<TimeNs>(0, gap);
    TimeNs end = start;
    switch (ev.kind) {
      case ReplayHostEvent::Kind::kLaunch: {
        TimeNs cost = all_removed ? 0 : std::min(ev.duration(), graph.launch_cost);
        if (change.graph_launch && t.prev_launch && gap == 0) cost = 0;
        end = start + cost;
        // A full launch queue blocks the call until the work launched `queue_depth` launches
        // earlier has started.
        const int place = ev.queue_pos >= 0 ? place_of[static_cast<size_t>(ev.queue_pos)] : -1;
        const int ahead = place - static_cast<int>(graph.queue_depth);
        if (ahead >= 0 && queue_started[ahead] != INT64_MIN)
          end = std::max(end, queue_started[ahead]);
        launch_end[item.index] = end;
        const bool async = !change.async_copy.empty() && change.async_copy[item.index];
        if (ev.blocking && !async && !all_removed) t.pending_op = ev.ops.front();
        break;
      }
      case ReplayHostEvent::Kind::kSync: {
        if (sync_removed) break;
        end = start + std::min(ev.duration(), graph.sync_cost);
        {
          for (auto& [stream, s] : streams) {
            if (ev.sync_stream >= 0 && stream != ev.sync_stream) continue;
            auto k = std::lower_bound(s.launch_time.begin(), s.launch_time.end(), ev.start) -
                     s.launch_time.begin();
            if (k > 0) end = std::max(end, s.max_end[static_cast<size_t>(k - 1)]);
          }
        }
        break;
      }
      case ReplayHostEvent::Kind::kInput: {
        if (!change.input_duration.empty() && change.input_duration[item.index] >= 0) {
          end = start + change.input_duration[item.index];
          break;
        }
        if (ev.inline_input) {  // loading on this thread: it takes as long wherever it starts
          end = start + ev.duration();
          break;
        }
        end = start + std::min(ev.duration(), graph.input_cost);
        // An iteration that waited (well beyond the cost of one that did not, jitter included)
        // shows when its batch became ready: the workers make batches at their own pace, so it
        // is ready no sooner in the replay. One that did not wait says only that the batch was
        // ready before it asked.
        const bool waited = ev.duration() > 2 * graph.input_cost + 500 * kNsPerUs;
        if (waited && !change.remove_input_waits) end = std::max(end, ev.end);
        break;
      }
      case ReplayHostEvent::Kind::kMarker:
        break;
    }
    event_time[item.index] = start;
    t.last_end = end;
    t.last_orig_end = ev.end;
    t.any = true;
    t.prev_launch = is_launch;
  }

  // Step durations: from one step's start marker to the next; the last ends at the later of its
  // end marker and its device work.
  const size_t n = graph.steps.size();
  std::vector<TimeNs> gpu_end(n, INT64_MIN);
  std::unordered_map<int, size_t> position;
  for (size_t i = 0; i < n; ++i)
    position[graph.steps[i]] = i;
  for (size_t o = 0; o < n_ops; ++o) {
    auto it = position.find(graph.ops[o].step);
    if (it != position.end()) gpu_end[it->second] = std::max(gpu_end[it->second], op_end[o]);
  }
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const TimeNs start = event_time[graph.step_start_event[i]];
    TimeNs end;
    if (i + 1 < n) {
      end = event_time[graph.step_start_event[i + 1]];
    } else {
      end = graph.end_event >= 0 ? event_time[graph.end_event] : start;
      end = std::max(end, gpu_end[i]);
    }
    result.step_durations.push_back(std::max<TimeNs>(0, end - start));
    total += static_cast<double>(result.step_durations.back());
  }
  result.host_mean_ns = total / static_cast<double>(n);

  // The device's own pace: the work that ran during the steps (whoever launched it), each op as
  // early as its stream order and waits allow. When the host runs ahead, the ops it launches run
  // after the trace ends and the host program alone cannot see the device hold it back.
  const TimeNs t0 = graph.host[graph.step_start_event.front()].start;
  const TimeNs t1 = graph.end_event >= 0 ? graph.host[graph.end_event].start : t0;
  std::vector<TimeNs> packed_end(n_ops, INT64_MIN);
  TimeNs packed_last = t0;
  for (size_t i = 0; i < n_ops; ++i) {
    const ReplayOp& op = graph.ops[i];
    const int idx = static_cast<int>(i);
    TimeNs earliest = std::max(t0, stream_ready(idx, packed_end));
    // An unexplained delay (work launched before the trace) keeps its length, not its clock
    // time: it moves with the work before it on its stream.
    if (op.floor_at_start) {
      const int p = op.prev_on_stream;
      earliest = std::max(
          earliest,
          p >= 0 ? packed_end[p] + std::max<TimeNs>(0, op.start - graph.ops[p].end) : op.start);
    }
    for (int w : waits_of(idx))
      earliest = std::max(earliest, packed_end[w]);
    const double d = removed(i) ? 0.0 : static_cast<double>(op.duration()) * scale(i);
    packed_end[i] = earliest + static_cast<TimeNs>(d);
    if (op.start < t1) packed_last = std::max(packed_last, packed_end[i]);
  }
  result.device_bound_ns = static_cast<double>(packed_last - t0) / static_cast<double>(n);
  result.mean_step_ns = std::max(result.host_mean_ns, result.device_bound_ns);
  return result;
}

}  // namespace teye
