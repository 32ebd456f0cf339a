// The timeline of one representative step, aggregated for drawing: a lane per CUDA stream and per
// host thread, with neighbouring events of the same kind merged until each box is at least
// 1/resolution of the step wide. Its size is bounded by lanes × kinds × resolution, whatever the
// trace's size, so an HTML report of a 1 GB trace stays small.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

enum class TimelineKind : uint8_t {
  kKernel,         // a compute or memory kernel; see TimelineBox::cls
  kCommunication,  // NCCL/RCCL kernels
  kMemcpy,
  kMemset,
  kGpuSync,  // CUPTI synchronization records on a stream
  kCpu,      // outermost framework ops on a host thread
  kLaunch,   // kernel/memcpy launch calls
  kSync,     // host blocked in a synchronizing call
  kInput,    // DataLoader, I/O, batch loading
};
std::string_view ToString(TimelineKind k);

struct TimelineBox {
  TimeNs start = 0;  // relative to the step's start
  TimeNs end = 0;
  TimelineKind kind = TimelineKind::kKernel;
  KernelClass cls = KernelClass::kOther;  // kernels only
  std::string label;                      // the longest event merged into the box
  int32_t events = 1;                     // events merged into the box
};

struct TimelineLane {
  bool gpu = true;  // a CUDA stream; false: a host thread
  int device = -1;
  int stream = -1;
  ThreadIndex thread = kNoThread;
  std::string name;                // "GPU 0 stream 7", "thread 1234 (python)"
  std::vector<TimelineBox> boxes;  // in drawing order (host: cpu, launch, sync, input)
  int64_t events = 0;              // events of the step on this lane before merging
};

struct StepTimelineOptions {
  int resolution = 1000;  // boxes narrower than step/resolution are merged
  size_t max_stream_lanes = 16;
  size_t max_thread_lanes = 6;  // the host threads with the most activity in the step
};

struct StepTimeline {
  bool valid = false;  // false without complete steps
  int step = -1;       // index into StepsResult::steps
  std::string step_name;
  TimeNs start = 0;  // absolute, ns
  TimeNs duration = 0;
  std::string why;                  // how the step was chosen
  std::vector<TimelineLane> lanes;  // streams by (device, stream), then threads
  int64_t events = 0;               // events drawn, before merging
  int64_t boxes = 0;
  int lanes_dropped = 0;  // lanes over the limits, left out
};

// The representative step is the complete step whose duration is closest to the median.
StepTimeline BuildStepTimeline(const Trace& trace, const StepsResult& steps,
                               const std::vector<KernelClass>& classes,
                               const StepTimelineOptions& options = {});

}  // namespace teye
