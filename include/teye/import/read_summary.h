// Reading rank summaries written by `teye analyze --summary-only` (teye/reports/summary_writer.h).
#pragma once

#include <string>
#include <vector>

#include "teye/model/rank_summary.h"
#include "teye/model/result.h"

namespace teye {

// Every rank summary in the file, in file order. A file that is not a summary is an Error.
Result<std::vector<RankSummary>> ReadRankSummaries(const std::string& path);

}  // namespace teye
