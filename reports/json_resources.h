// The resource profile, I/O profile and input cause of a rank's JSON report (docs/metrics.md,
// "Resources", "I/O", "Input cause"). Each key is present only when the trace holds its data.
#pragma once

#include "teye/analyzers/analysis.h"

#include "json_numbers.h"

namespace teye::json {

void AddResources(const TraceAnalysis& a, Json& rank);

}  // namespace teye::json
