// HTA-compatible temporal breakdown, so users moving from Holistic Trace Analysis can check
// numbers they know. It follows HTA's own rules (see docs/metrics.md), which differ from teye's
// step-based breakdown: HTA measures the span from the first to the last GPU event.
#pragma once

#include "teye/model/trace.h"

namespace teye {

struct TemporalBreakdown {
  bool has_gpu_events = false;
  bool dropped_last_step = false;  // HTA drops the last ProfilerStep when there are >= 2
  int64_t events = 0;              // GPU events counted
  // In the file's own time unit (µs for PyTorch traces), as HTA reports them.
  double span = 0, idle = 0, compute = 0, non_compute = 0;
  double idle_pct = 0, compute_pct = 0, non_compute_pct = 0;
};

TemporalBreakdown ComputeHtaTemporal(const Trace& trace);

}  // namespace teye
