// Rank summaries → JSON (`teye analyze --summary-only`), read back by ReadRankSummaries
// (teye/import/read_summary.h). Every number is written exactly, so a merge of summaries gives
// the same cross-rank report as analysing the traces together.
#pragma once

#include <string>
#include <vector>

#include "teye/model/rank_summary.h"

namespace teye {

std::string WriteRankSummaries(const std::vector<RankSummary>& ranks,
                               std::string_view teye_version);

}  // namespace teye
