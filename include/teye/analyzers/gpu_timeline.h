// Per-device unions of GPU activity by kind, built once per trace: the raw material of
// utilization, the exclusive breakdown and exposed communication.
#pragma once

#include <vector>

#include "teye/analyzers/interval_set.h"
#include "teye/analyzers/kernel_classes.h"
#include "teye/model/trace.h"

namespace teye {

struct DeviceTimeline {
  int device = -1;
  IntervalSet compute;        // kernels whose class has the compute role
  IntervalSet memory_bound;   // kernels whose class has the memory role
  IntervalSet communication;  // communication kernels
  IntervalSet memcpy;
  IntervalSet memcpy_h2d;  // host-to-device copies: the input's way onto the GPU
  IntervalSet memset;
  IntervalSet kernels;        // all kernels
  IntervalSet busy;           // kernels, memcpy and memset
  std::vector<RowIndex> ops;  // GpuOpTable rows on this device (no sync records), by start
  ThreadIndex main_launch_thread = kNoThread;  // host thread that launched most of its work
  int64_t kernel_count = 0;
};

// One entry per device that ran a kernel, memcpy or memset, ordered by device id. A kernel is
// compute or memory-bound by its class's role, unless `memory_bound` (per GpuOpTable row: 1
// memory, 0 compute, -1 no evidence; the roofline's verdict) says otherwise.
std::vector<DeviceTimeline> BuildDeviceTimelines(const Trace& trace,
                                                 const std::vector<KernelClass>& classes,
                                                 const std::vector<int8_t>* memory_bound = nullptr);

}  // namespace teye
