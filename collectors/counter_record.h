// The record of one kernel's hardware counters (counter mode, cupti_counters.h): written as a
// Kineto-style `cuda_profiler_range` event (docs/trace-format.md).
#pragma once

#include <cstdint>

#include "records.h"

namespace teye::collector {

struct KernelCounterValue {
  uint32_t metric;  // StringTable id of the metric name
  uint32_t pad;
  double value;
};
static_assert(sizeof(KernelCounterValue) == 16);

struct KernelCountersRecord {
  RecordHeader h;        // tid: the thread that launched the kernel
  uint64_t start;        // launch time, CLOCK_REALTIME ns (kFlagTimeNs)
  uint32_t correlation;  // CUPTI correlation id of the launch call
  int32_t device;
  uint32_t name_id;  // kernel name (StringTable), 0 when unknown
  uint16_t count;    // KernelCounterValues that follow the record
  uint16_t pad;
  const KernelCounterValue* values() const {
    return reinterpret_cast<const KernelCounterValue*>(this + 1);
  }
};
static_assert(sizeof(KernelCountersRecord) % 8 == 0);

// At most this many metrics per kernel (the record size field is 16 bits).
inline constexpr uint16_t kMaxCounterMetrics = 64;

}  // namespace teye::collector
