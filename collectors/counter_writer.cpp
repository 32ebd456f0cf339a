// Counter-mode records as Kineto writes CUPTI range-profiler results: a `cuda_profiler_range`
// event per kernel whose args are the metric values, plus the launch's correlation id (which
// Kineto's lack) so the reader matches each to its kernel (docs/trace-format.md).
#include "counter_record.h"
#include "trace_writer.h"

namespace teye::collector {

void TraceWriter::WriteKernelCounters(const KernelCountersRecord& r) {
  std::string_view name = Escaped(r.name_id);
  if (name.empty()) name = "__missing__";
  Common("X", "cuda_profiler_range", name, r.device, 0, static_cast<int64_t>(r.start));
  out_.Lit(",\"dur\":0,\"args\":{\"correlation\":");
  out_.U64(r.correlation);
  out_.Lit(",\"device\":");
  out_.I64(r.device);
  const KernelCounterValue* values = r.values();
  for (uint16_t i = 0; i < r.count; ++i) {
    const std::string_view metric = Escaped(values[i].metric);
    if (metric.empty()) continue;
    out_.Lit(",\"");
    out_.Raw(metric);
    out_.Lit("\":");
    out_.Double(values[i].value);
  }
  out_.Lit("}}");
}

}  // namespace teye::collector
