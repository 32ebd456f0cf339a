// Report → GitHub-flavoured Markdown short enough for a pull-request comment: the headline
// numbers, where a step goes, the top recommendations and the top kernels.
#pragma once

#include <string>

#include "teye/reports/report.h"

namespace teye {

std::string WriteMarkdownReport(const Report& report);

// Makes text safe inside a Markdown table cell: `|` escaped, backquotes and control characters
// replaced, and `<` `>` written as entities so a trace's strings cannot open HTML tags.
std::string MarkdownCell(std::string_view text);
// The same for text inside a code span (`…`), where entities would show literally and `<` is
// inert: no entities.
std::string MarkdownCodeCell(std::string_view text);

}  // namespace teye
