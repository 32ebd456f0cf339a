// The micro-architecture part of a rank's JSON report: `roofline` and `occupancy`
// (docs/metrics.md, "Micro-architecture").
#pragma once

#include "teye/analyzers/analysis.h"

#include "json_numbers.h"

namespace teye::json {

// The ops and kernels listed, most GPU time first (every one counts in the totals).
inline constexpr size_t kMicroArchListed = 50;

void AddMicroArch(const TraceAnalysis& a, Json& rank);

}  // namespace teye::json
