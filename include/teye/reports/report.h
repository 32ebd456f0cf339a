// The finished report: what every writer renders. Built by the CLI from analyzer results;
// writers only format it (STYLE.md 7).
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/analysis.h"

namespace teye {

inline constexpr std::string_view kReportSchema = "teye.report/1";

struct Report {
  std::string teye_version;
  std::vector<TraceAnalysis> ranks;  // one per input trace, in the order given
};

}  // namespace teye
