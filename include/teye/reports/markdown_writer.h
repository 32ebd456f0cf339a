// Report → GitHub-flavoured Markdown short enough for a pull-request comment: the headline
// numbers, where a step goes, the top recommendations and the top kernels.
#pragma once

#include <string>

#include "teye/reports/report.h"

namespace teye {

std::string WriteMarkdownReport(const Report& report);

// Makes text safe inside a Markdown table cell.
std::string MarkdownCell(std::string_view text);

}  // namespace teye
