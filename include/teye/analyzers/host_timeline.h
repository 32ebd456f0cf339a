// The breakdown of a run with no GPU activity (a CPU-only job, or a rank recorded without CUDA
// activities), from its training thread's host timeline (DESIGN.md §5, docs/metrics.md).
//
// Each instant of a step on the training thread goes to the first of these that applies, so the
// parts sum to the step time:
//   input     — inside an input range (DataLoader iteration, I/O, batch-loading annotation);
//   sync      — blocked in a synchronizing runtime call;
//   communication — inside a collective (gloo/NCCL annotation, c10d op, record_param_comms);
//   other_cpu — inside a range named for input preprocessing (transforms, decode, collate, …);
//   compute   — inside a framework op (`cpu_op`: forward, backward, optimizer); when the trace
//               records no framework op on that thread (teye's collector without the PyTorch
//               profiler), any instant that is none of the above: the thread runs the job;
//   communication — none of the above while a collective runs on another thread of the
//               process (gloo and NCCL work threads): the thread waits for it;
//   other_cpu — anything else (Python between framework ops, other annotations).
// The result is a DeviceBreakdown of the pseudo-device kHostTimelineDevice, so the bound class,
// the gate, the diff and the input rules read it as they read a GPU's.
#pragma once

#include "teye/analyzers/breakdown.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

inline constexpr int kHostTimelineDevice = -2;

// The thread that runs the training loop: the one carrying the step markers, else the one with
// the most framework-op time, else the most recorded time. kNoThread when nothing is recorded.
ThreadIndex TrainingThread(const Trace& trace, const StepsResult& steps);

// The host-timeline breakdown of the complete steps on `thread` (device kHostTimelineDevice).
// Idle gaps are stretches that are not compute: input, sync or other CPU.
DeviceBreakdown ComputeHostBreakdown(const Trace& trace, const StepsResult& steps,
                                     ThreadIndex thread, const BreakdownOptions& options = {});

}  // namespace teye
