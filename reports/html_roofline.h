// The HTML report's micro-architecture section: an inline SVG roofline (log-log: arithmetic
// intensity against achieved TFLOP/s, the device's roof and ridge, one dot per op sized by its
// GPU time), the op table behind it, and occupancy per kernel.
#pragma once

#include <string>

#include "teye/analyzers/analysis.h"

namespace teye {

void HtmlMicroArch(std::string& out, const TraceAnalysis& analysis);

}  // namespace teye
