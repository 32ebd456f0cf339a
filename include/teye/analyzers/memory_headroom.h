// Memory headroom: the allocator's peak against the device's memory, from PyTorch's `[memory]`
// events (profile_memory=True) or teye's own samples.
#pragma once

#include <vector>

#include "teye/model/trace.h"

namespace teye {

struct MemoryHeadroom {
  int device = -1;
  int64_t peak_allocated = 0;  // bytes, the allocator's largest "Total Allocated"
  int64_t peak_reserved = 0;   // bytes, its largest "Total Reserved" (cached by the allocator)
  int64_t total = 0;           // the device's totalGlobalMem, 0 when unknown
  double peak_fraction = 0;    // peak_allocated / total, 0 when total is unknown
  double reserved_fraction = 0;
};

// One entry per device with allocator events.
std::vector<MemoryHeadroom> MeasureMemoryHeadroom(const Trace& trace);

}  // namespace teye
