// What-if replay: the run's dependency graph, re-timed under a proposed change.
//
// The graph is built from the trace over the complete steps. Each host thread that launches
// work on the device is a program of events — kernel launches, synchronizing calls, waits for
// input, and the step markers — separated by host work of the measured length. Device activity
// runs in stream (FIFO) order, no earlier than its launch plus the launch latency, and after any
// activity on another stream it was seen to wait for. A sync waits for the work launched before
// it; a wait for input lasts until the batch was ready; a launch blocks while the stream already
// holds a full launch queue. Replaying the unchanged graph reproduces the measured steps
// closely; replaying it with a change (shorter kernels, no syncs, fewer launches, no input
// waits, ...) gives the step time the change would buy. Steps are replayed together, so work
// that overlaps the next step (the GPU finishing step N while the host waits for batch N+1)
// overlaps in the replay too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "teye/analyzers/gpu_timeline.h"
#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

struct ReplayHostEvent {
  enum class Kind : uint8_t { kLaunch, kSync, kInput, kMarker };
  Kind kind = Kind::kLaunch;
  ThreadIndex thread = kNoThread;
  TimeNs start = 0;  // measured, absolute
  TimeNs end = 0;
  std::vector<int> ops;       // kLaunch: graph ops it launched
  bool blocking = false;      // kLaunch of a copy that makes the host wait (pageable memory)
  int sync_stream = -1;       // kSync: the stream it waits for, or -1 for the whole device
  int queue_pos = -1;         // kLaunch: place in the device's launch queue (launches whose work
                              // ran after the trace ended have no ops but still take a place)
  bool inline_input = false;  // kInput: the iteration loads its batch itself on this thread
                              // (LoaderMode::kInline), so its length is host work, not a wait
  RowIndex slice = kNoRow;
  TimeNs duration() const { return end - start; }
};

struct ReplayOp {
  RowIndex row = kNoRow;  // GpuOpTable row
  int stream = -1;
  TimeNs start = 0;  // measured, absolute
  TimeNs end = 0;
  int launch = -1;              // host event that launched it, or -1 (then it starts as measured)
  int prev_on_stream = -1;      // FIFO predecessor in the graph
  int queue_pos = -1;           // ops launched before the replayed steps: their place in the
                                // device's launch queue (they precede every launch in the graph)
  bool floor_at_start = false;  // cannot start before its measured start (nothing explains it)
  std::vector<int> waits;       // ops on other streams it was seen to wait for
  KernelClass cls = KernelClass::kOther;
  GpuOpKind kind = GpuOpKind::kKernel;
  int step = -1;  // index into StepsResult::steps of the step that launched it
  TimeNs duration() const { return end - start; }
};

struct ReplayGraph {
  int device = -1;
  std::vector<int> steps;             // StepsResult indices of the complete steps replayed
  std::vector<int> step_start_event;  // marker event at each step's start
  int end_event = -1;                 // marker event at the last step's end
  std::vector<ReplayHostEvent> host;  // all threads, by measured start
  std::vector<ReplayOp> ops;          // by measured start
  TimeNs launch_latency = 3000;       // launch end → earliest start on an idle stream
  TimeNs launch_cost = 5000;          // host time of a launch that does not block
  TimeNs sync_cost = 5000;            // host time of a sync that finds the work done
  TimeNs input_cost = 0;              // host time of a worker-fed DataLoader iteration that does
                                      // not wait (the cheapest one measured, at most 1 ms)
  size_t queue_depth = 1024;          // launches the device holds before a launch blocks
  int queue_size = 0;                 // places in the launch queue (external ops + launches)
};

// Builds the graph of the complete steps on one device. Empty when there are no such steps.
ReplayGraph BuildReplayGraph(const Trace& trace, const DeviceTimeline& timeline,
                             const StepsResult& steps, const std::vector<KernelClass>& classes);

// A proposed change, expressed on a graph. Empty vectors mean "unchanged".
struct ReplayChange {
  std::vector<double> duration_scale;  // per op
  std::vector<char> removed;           // per op: the op and its launch disappear
  std::vector<char> sync_removed;      // per host event
  std::vector<char> async_copy;        // per host event: a blocking copy no longer blocks
  std::vector<std::optional<std::vector<int>>> waits;  // per op: replaces its cross-stream waits
  std::vector<char> side_stream;       // per op: runs on a stream of its own (the op after it on
                                       // its stream still waits for it: it needs its data)
  bool remove_input_waits = false;     // worker-fed iterations cost input_cost and never wait
  std::vector<TimeNs> input_duration;  // per host event (kInput): its length, not waiting; < 0
                                       // unchanged
  std::vector<double> host_gap_scale;  // per host event: scales the host work before it
  std::vector<TimeNs> host_gap_cut;    // per host event: host work removed from before it (ns,
                                       // applied before host_gap_scale)
  bool graph_launch = false;  // CUDA graphs: launches in a burst cost nothing, ops ~1 µs apart
};

struct ReplayResult {
  std::vector<TimeNs> step_durations;  // per replayed step, as the host program sees them
  double host_mean_ns = 0;             // mean of step_durations
  double device_bound_ns = 0;          // the device's own pace: the work that ran during the steps,
                                       // packed as tight as stream order and waits allow, per step
  double mean_step_ns = 0;  // the step time: the slower of the two (a pipeline runs at the
                            // pace of its slowest stage when the host runs ahead)
};

ReplayResult Replay(const ReplayGraph& graph, const ReplayChange& change);

}  // namespace teye
