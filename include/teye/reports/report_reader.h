// Reads a saved `teye analyze --format json` report (schema teye.report/1) back into the values
// the gate and diff compare, so a committed baseline report works like a trace.
#pragma once

#include <string>
#include <string_view>

#include "teye/analyzers/run_summary.h"
#include "teye/model/result.h"

namespace teye {

// True when the first bytes of a file are a teye report rather than a trace.
bool LooksLikeReport(std::string_view head);

// Summarizes the first rank. Errors name the file and say what is missing or malformed.
Result<RunSummary> ReadReportSummary(std::string_view json_text, const std::string& path);

}  // namespace teye
