// Loads one run for the gate or diff: a trace (read and analysed) or a saved report JSON.
#pragma once

#include <string>

#include "teye/analyzers/run_summary.h"
#include "teye/model/result.h"

namespace teye::cli {

struct RunLoadOptions {
  std::string step_regex;
  unsigned threads = 0;
};

Result<RunSummary> LoadRun(const std::string& path, const RunLoadOptions& options);

}  // namespace teye::cli
