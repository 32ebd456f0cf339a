// The replay engine on hand-built graphs whose answers can be worked out by hand. Times in µs.
#include "teye/analyzers/replay.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

constexpr TimeNs kUs = 1000;

// One host thread; `steps` steps of `period` µs. In each: a launch at +10 (5 µs), its kernel at
// +18 for `kernel` µs on stream 7, then (optionally) a sync that waits for it, then host work
// until the next step.
class GraphMaker {
 public:
  GraphMaker(int steps, TimeNs period, TimeNs kernel, bool sync) {
    g_.device = 0;
    g_.launch_latency = 3 * kUs;
    g_.launch_cost = 5 * kUs;
    g_.sync_cost = 5 * kUs;
    for (int s = 0; s < steps; ++s) {
      const TimeNs t = s * period * kUs;
      g_.steps.push_back(s);
      g_.step_start_event.push_back(Host(ReplayHostEvent::Kind::kMarker, t, t));
      const int launch = Host(ReplayHostEvent::Kind::kLaunch, t + 10 * kUs, t + 15 * kUs);
      const int op = Op(7, t + 18 * kUs, t + (18 + kernel) * kUs, launch, s);
      g_.host[launch].ops.push_back(op);
      g_.host[launch].queue_pos = g_.queue_size++;
      if (sync) {
        Host(ReplayHostEvent::Kind::kSync, t + 16 * kUs, t + (18 + kernel) * kUs);
        g_.host.back().sync_stream = 7;
      }
    }
    g_.end_event = Host(ReplayHostEvent::Kind::kMarker, steps * period * kUs, steps * period * kUs);
  }
  int Host(ReplayHostEvent::Kind kind, TimeNs start, TimeNs end) {
    ReplayHostEvent e;
    e.kind = kind;
    e.thread = 0;
    e.start = start;
    e.end = end;
    g_.host.push_back(e);
    return static_cast<int>(g_.host.size() - 1);
  }
  int Op(int stream, TimeNs start, TimeNs end, int launch, int step) {
    ReplayOp op;
    op.stream = stream;
    op.start = start;
    op.end = end;
    op.launch = launch;
    op.step = step;
    op.cls = KernelClass::kGemmSimt;
    for (int i = static_cast<int>(g_.ops.size()) - 1; i >= 0; --i)
      if (g_.ops[i].stream == stream) {
        op.prev_on_stream = i;
        break;
      }
    g_.ops.push_back(op);
    return static_cast<int>(g_.ops.size() - 1);
  }
  ReplayGraph& graph() { return g_; }

 private:
  ReplayGraph g_;
};

double MeanStepUs(const ReplayResult& r) {
  return r.mean_step_ns / kUs;
}

TEST(Replay, UnchangedGraphReproducesTheMeasuredSteps) {
  GraphMaker m(4, 1000, 800, /*sync=*/true);
  const ReplayResult r = Replay(m.graph(), {});
  ASSERT_EQ(r.step_durations.size(), 4u);
  for (TimeNs d : r.step_durations)
    EXPECT_EQ(d, 1000 * kUs);
  EXPECT_DOUBLE_EQ(MeanStepUs(r), 1000);
}

TEST(Replay, FasterKernelsShortenASyncedStepByTheirSaving) {
  // The host waits for the kernel, then works 182 µs: halving the kernel (800 → 400 µs) saves
  // 400 µs of every step.
  GraphMaker m(4, 1000, 800, /*sync=*/true);
  ReplayChange c;
  c.duration_scale.assign(m.graph().ops.size(), 0.5);
  EXPECT_NEAR(MeanStepUs(Replay(m.graph(), c)), 600, 1);
}

TEST(Replay, WithoutASyncTheHostAndDeviceOverlap) {
  // Without the sync the host program takes 1000 µs less the wait (782 µs): host 16 + 182 µs of
  // work per step, the device 800 µs: the device sets the pace.
  GraphMaker m(6, 1000, 800, /*sync=*/true);
  ReplayChange c;
  c.sync_removed.assign(m.graph().host.size(), 0);
  for (size_t e = 0; e < m.graph().host.size(); ++e)
    c.sync_removed[e] = m.graph().host[e].kind == ReplayHostEvent::Kind::kSync;
  const ReplayResult r = Replay(m.graph(), c);
  EXPECT_NEAR(r.device_bound_ns / kUs, 800, 5);
  EXPECT_NEAR(MeanStepUs(r), 800, 5);
}

TEST(Replay, RemovedOpsAndTheirLaunchesDisappear) {
  GraphMaker m(4, 1000, 800, /*sync=*/true);
  ReplayChange c;
  c.removed.assign(m.graph().ops.size(), 1);
  // Only the host's own work remains: the 10 µs of dispatch before the launch and the launch go,
  // the sync finds nothing to wait for (5 µs): 1 + 5 + 182 µs per step.
  EXPECT_NEAR(MeanStepUs(Replay(m.graph(), c)), 188, 1);
}

TEST(Replay, InputWaitsAreCutToTheCostOfAnIterationThatDidNotWait) {
  GraphMaker m(4, 1000, 100, /*sync=*/true);
  ReplayGraph& g = m.graph();
  g.input_cost = 50 * kUs;
  // An 800 µs DataLoader wait at +150 in every step (well beyond 2 × 50 µs + 500 µs: a wait).
  for (int s = 0; s < 4; ++s) {
    ReplayHostEvent e;
    e.kind = ReplayHostEvent::Kind::kInput;
    e.thread = 0;
    e.start = (s * 1000 + 150) * kUs;
    e.end = (s * 1000 + 950) * kUs;
    g.host.push_back(e);
  }
  std::stable_sort(
      g.host.begin(), g.host.end(),
      [](const ReplayHostEvent& a, const ReplayHostEvent& b) { return a.start < b.start; });
  // Re-point indices after sorting.
  g.step_start_event.clear();
  for (size_t e = 0; e < g.host.size(); ++e) {
    if (g.host[e].kind == ReplayHostEvent::Kind::kMarker) {
      if (g.step_start_event.size() < 4)
        g.step_start_event.push_back(static_cast<int>(e));
      else
        g.end_event = static_cast<int>(e);
    }
    for (int o : g.host[e].ops)
      g.ops[o].launch = static_cast<int>(e);
  }
  EXPECT_NEAR(MeanStepUs(Replay(g, {})), 1000, 1);
  ReplayChange c;
  c.remove_input_waits = true;
  EXPECT_NEAR(MeanStepUs(Replay(g, c)), 1000 - 750, 2);
}

TEST(Replay, CrossStreamWaitsMoveWithTheWorkTheyWaitFor) {
  // Stream 7: kernel A (launched by the step); stream 9: kernel B that waited for A.
  GraphMaker m(1, 2000, 800, /*sync=*/false);
  ReplayGraph& g = m.graph();
  const int launch = m.Host(ReplayHostEvent::Kind::kLaunch, 20 * kUs, 25 * kUs);
  const int b = m.Op(9, 818 * kUs, 1318 * kUs, launch, 0);
  g.host[launch].ops.push_back(b);
  g.host[launch].queue_pos = g.queue_size++;
  g.ops[b].waits.push_back(0);
  std::swap(g.host[g.end_event], g.host.back());  // keep the end marker last
  std::swap(g.end_event, g.ops[b].launch);
  g.host[g.ops[b].launch].ops = {b};
  ReplayChange c;
  c.duration_scale.assign(g.ops.size(), 1.0);
  c.duration_scale[0] = 0.5;  // A: 800 → 400 µs, so B starts 400 µs earlier
  const ReplayResult base = Replay(g, {});
  const ReplayResult faster = Replay(g, c);
  EXPECT_NEAR((base.device_bound_ns - faster.device_bound_ns) / kUs, 400, 2);
}

// A graph built event by event, in time order, on several host threads.
class FreeGraph {
 public:
  FreeGraph() {
    g_.device = 0;
    g_.launch_latency = 3 * kUs;
    g_.launch_cost = 5 * kUs;
    g_.sync_cost = 5 * kUs;
  }
  void Marker(TimeNs t) {
    const int e = Host(ReplayHostEvent::Kind::kMarker, 0, t, t);
    if (g_.step_start_event.size() < g_.steps.size() + 1 && pending_step_) {
      g_.steps.push_back(static_cast<int>(g_.steps.size()));
      g_.step_start_event.push_back(e);
    } else {
      g_.end_event = e;
    }
  }
  // A launch on `thread` from `start` to `end` µs whose op runs on stream 7 from `op_start` for
  // `op_us`; `blocking` for a copy that holds the host until it ends.
  int Launch(ThreadIndex thread, TimeNs start, TimeNs end, TimeNs op_start, TimeNs op_us,
             bool blocking = false) {
    const int e = Host(ReplayHostEvent::Kind::kLaunch, thread, start * kUs, end * kUs);
    ReplayOp op;
    op.stream = 7;
    op.start = op_start * kUs;
    op.end = (op_start + op_us) * kUs;
    op.launch = e;
    op.step = static_cast<int>(g_.steps.size()) - 1;
    op.kind = blocking ? GpuOpKind::kMemcpy : GpuOpKind::kKernel;
    if (last_op_ >= 0) op.prev_on_stream = last_op_;
    g_.ops.push_back(op);
    last_op_ = static_cast<int>(g_.ops.size() - 1);
    g_.host[e].ops.push_back(last_op_);
    g_.host[e].blocking = blocking;
    g_.host[e].queue_pos = g_.queue_size++;
    return e;
  }
  void StepAt(TimeNs t_us) {
    pending_step_ = true;
    Marker(t_us * kUs);
  }
  void EndAt(TimeNs t_us) {
    pending_step_ = false;
    Marker(t_us * kUs);
  }
  ReplayGraph& graph() { return g_; }

 private:
  int Host(ReplayHostEvent::Kind kind, ThreadIndex thread, TimeNs start, TimeNs end) {
    ReplayHostEvent e;
    e.kind = kind;
    e.thread = thread;
    e.start = start;
    e.end = end;
    g_.host.push_back(e);
    return static_cast<int>(g_.host.size() - 1);
  }
  ReplayGraph g_;
  int last_op_ = -1;
  bool pending_step_ = false;
};

TEST(Replay, AThreadWaitingForAnotherMovesWithIt) {
  // Per 1000 µs step: the training thread (0) launches a 100 µs kernel at +10; the autograd
  // thread (1) then issues a blocking pageable copy at +120 that holds it until +518 (the copy
  // runs +128..+508); the training thread, which waited for that thread, resumes at +600 (82 µs
  // after thread 1's call) with a 90 µs kernel, then works 395 µs until the next step. Made async
  // (and twice as fast), the copy frees thread 1 after its 5 µs call, at +125, and the training
  // thread resumes 82 µs later, at +207: the step ends 5 + 395 µs after that, at +607.
  FreeGraph f;
  for (int s = 0; s < 4; ++s) {
    const TimeNs t = s * 1000;
    f.StepAt(t);
    f.Launch(0, t + 10, t + 15, t + 18, 100);
    f.Launch(1, t + 120, t + 518, t + 128, 380, /*blocking=*/true);
    f.Launch(0, t + 600, t + 605, t + 610, 90);
  }
  f.EndAt(4000);
  ReplayGraph& g = f.graph();
  EXPECT_NEAR(MeanStepUs(Replay(g, {})), 1000, 1);
  ReplayChange c;
  c.async_copy.assign(g.host.size(), 0);
  c.duration_scale.assign(g.ops.size(), 1.0);
  for (size_t e = 0; e < g.host.size(); ++e)
    if (g.host[e].blocking) {
      c.async_copy[e] = 1;
      c.duration_scale[static_cast<size_t>(g.host[e].ops.front())] = 0.5;
    }
  EXPECT_NEAR(MeanStepUs(Replay(g, c)), 607, 2);
}

TEST(Replay, ACapturedStepRunsNoneOfTheHostWorkBetweenItsLaunches) {
  // Three 50 µs kernels per 1000 µs step, launched at +10, +400 and +800 with host work (Python,
  // autograd) between them, then 195 µs of work after the last launch. Captured as one graph,
  // the step is the first launch's 10 µs of dispatch, its 5 µs call and the 195 µs after the
  // last: 210 µs (the device needs only 3 × 50 µs).
  FreeGraph f;
  for (int s = 0; s < 4; ++s) {
    const TimeNs t = s * 1000;
    f.StepAt(t);
    f.Launch(0, t + 10, t + 15, t + 18, 50);
    f.Launch(0, t + 400, t + 405, t + 408, 50);
    f.Launch(0, t + 800, t + 805, t + 808, 50);
  }
  f.EndAt(4000);
  EXPECT_NEAR(MeanStepUs(Replay(f.graph(), {})), 1000, 1);
  ReplayChange c;
  c.graph_launch = true;
  const ReplayResult r = Replay(f.graph(), c);
  EXPECT_NEAR(MeanStepUs(r), 210, 2);
  EXPECT_LT(r.device_bound_ns / kUs, 160);
}

}  // namespace
}  // namespace teye
