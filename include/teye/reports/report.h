// The finished report: what every writer renders. Built by the CLI from analyzer results;
// writers only format it (STYLE.md 7).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "teye/analyzers/analysis.h"
#include "teye/analyzers/cross_rank.h"

namespace teye {

inline constexpr std::string_view kReportSchema = "teye.report/1";

struct Report {
  std::string teye_version;
  std::vector<TraceAnalysis> ranks;  // one per input trace, in the order given
  // Only with two or more ranks; `teye merge` fills this alone, from rank summaries.
  std::optional<CrossRankResult> cross_rank;
};

}  // namespace teye
