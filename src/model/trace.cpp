#include "teye/model/trace.h"

namespace teye {
namespace {
template <typename Table>
size_t TableBytes(const Table& table) {
  size_t bytes = 0;
  const_cast<Table&>(table).ForEachColumn(
      [&](auto& column) { bytes += column.capacity() * sizeof(column[0]); });
  return bytes;
}
}  // namespace

Trace::Trace() = default;
Trace::Trace(Trace&&) noexcept = default;
Trace& Trace::operator=(Trace&&) noexcept = default;
Trace::~Trace() = default;

const DeviceInfo* Trace::FindDevice(int id) const {
  for (const auto& d : devices_)
    if (d.id == id) return &d;
  return nullptr;
}

size_t Trace::MemoryBytes() const {
  return strings_.MemoryBytes() + TableBytes(threads_) + TableBytes(gpu_ops_) +
         TableBytes(host_slices_) + TableBytes(gpu_annotations_) + TableBytes(collectives_) +
         TableBytes(counters_) + TableBytes(memory_events_) + TableBytes(instants_) +
         TableBytes(flows_) + TableBytes(op_shapes_) + TableBytes(kernel_counters_) +
         TableBytes(kernel_counter_values_);
}

}  // namespace teye
