// The HTML report's "Resources and input" section: the four-number view, a small time chart per
// resource (inline SVG), the input cause with its predicted fix, and the I/O profile per process.
#pragma once

#include <string>

#include "teye/analyzers/analysis.h"

namespace teye {

void HtmlResources(std::string& out, const TraceAnalysis& analysis);

}  // namespace teye
