// The cross-rank section of the report, for the JSON and text writers (formatting only).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "teye/analyzers/cross_rank.h"
#include "teye/reports/text_writer.h"

namespace teye {

nlohmann::ordered_json CrossRankJson(const CrossRankResult& x);
// Lines of at most options.width columns, ending with an empty line.
std::string CrossRankText(const CrossRankResult& x, const TextOptions& options);

}  // namespace teye
