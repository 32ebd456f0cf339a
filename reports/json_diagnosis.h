// The diagnosis part of a rank's JSON report: bound class, recommendations, periodic stalls and
// memory headroom.
#pragma once

#include "teye/analyzers/analysis.h"

#include "json_numbers.h"

namespace teye::json {

void AddDiagnosis(const TraceAnalysis& a, Json& rank);

}  // namespace teye::json
