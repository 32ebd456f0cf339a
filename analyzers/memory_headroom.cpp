#include "teye/analyzers/memory_headroom.h"

#include <algorithm>
#include <map>

namespace teye {

std::vector<MemoryHeadroom> MeasureMemoryHeadroom(const Trace& trace) {
  const MemoryEventTable& m = trace.memory_events();
  std::map<int, MemoryHeadroom> by_device;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.device[i] < 0) continue;  // host memory
    MemoryHeadroom& h = by_device[m.device[i]];
    h.device = m.device[i];
    h.peak_allocated = std::max(h.peak_allocated, m.total_allocated[i]);
    h.peak_reserved = std::max(h.peak_reserved, m.total_reserved[i]);
  }
  std::vector<MemoryHeadroom> out;
  for (auto& [device, h] : by_device) {
    if (const DeviceInfo* d = trace.FindDevice(device)) h.total = d->total_global_mem;
    if (h.total > 0) {
      h.peak_fraction = static_cast<double>(h.peak_allocated) / static_cast<double>(h.total);
      h.reserved_fraction = static_cast<double>(h.peak_reserved) / static_cast<double>(h.total);
    }
    out.push_back(h);
  }
  return out;
}

}  // namespace teye
