// RunDiff → text (100 columns), JSON (schema teye.diff/1) and Markdown.
#pragma once

#include <string>

#include "teye/analyzers/diff.h"

namespace teye {

inline constexpr std::string_view kDiffSchema = "teye.diff/1";

std::string WriteDiffText(const RunDiff& diff);
std::string WriteDiffJson(const RunDiff& diff);
std::string WriteDiffMarkdown(const RunDiff& diff);

}  // namespace teye
