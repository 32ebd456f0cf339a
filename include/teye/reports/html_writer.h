// Report → one self-contained HTML page: no scripts, no network fetches, inline SVG charts,
// printable. Headline, a timeline of one representative step, per-step breakdown bars,
// recommendations, top kernels and what the reader skipped.
#pragma once

#include <string>

#include "teye/reports/report.h"

namespace teye {

std::string WriteHtmlReport(const Report& report);

}  // namespace teye
