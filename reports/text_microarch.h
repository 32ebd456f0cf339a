// The MICRO-ARCH section of the text report: the roofline's roofs and top ops, SM efficiency and
// occupancy (docs/metrics.md, "Micro-architecture").
#pragma once

#include <string>

#include "teye/analyzers/analysis.h"
#include "teye/reports/text_writer.h"

namespace teye {

// Lines for `a`, each ending in '\n'; empty when the trace gives no micro-architecture evidence.
std::string MicroArchText(const TraceAnalysis& a, const TextOptions& options);

}  // namespace teye
