// The HTML report's inline SVG charts: the representative step's timeline and the per-step
// breakdown bars. Colours are CSS classes defined by the page (html_writer.cpp): c<N> kernel
// classes, t<kind> other timeline kinds, b<N> breakdown categories.
#pragma once

#include <string>

#include "teye/analyzers/analysis.h"

namespace teye {

void HtmlTimeline(std::string& out, const StepTimeline& timeline);
void HtmlBreakdownBars(std::string& out, const TraceAnalysis& analysis);

}  // namespace teye
