// Step detection (DESIGN.md §5): ProfilerStep#N annotations, else user/NVTX ranges matching
// --step-regex, else DataLoader iteration boundaries, else the whole trace as one step.
#pragma once

#include <string>
#include <vector>

#include "teye/model/result.h"
#include "teye/model/trace.h"

namespace teye {

enum class StepSource : uint8_t { kProfilerStep, kRegex, kDataLoader, kWholeTrace };
std::string_view ToString(StepSource source);

struct StepOptions {
  std::string step_regex;  // ECMAScript, searched in annotation names; empty = not used
};

struct Step {
  int index = 0;        // 0-based position among detected steps
  int64_t number = -1;  // N of ProfilerStep#N when known
  std::string name;
  TimeNs cpu_start = 0;  // the host range that marks the step
  TimeNs cpu_end = 0;
  TimeNs gpu_end = 0;        // end of the last GPU activity launched inside [cpu_start, cpu_end)
  bool complete = true;      // false: cut short by the profiler stopping; left out of statistics
  RowIndex marker = kNoRow;  // HostSliceTable row of the marker range, when there is one
  TimeNs start() const { return cpu_start; }
  TimeNs end() const { return std::max(cpu_end, gpu_end); }
  TimeNs duration() const { return end() - start(); }
};

struct DistributionStats {
  int count = 0;
  double mean = 0, median = 0, p90 = 0, min = 0, max = 0, stddev = 0;
};
// Linear interpolation between closest ranks for quantiles (numpy's default).
DistributionStats Summarize(std::vector<double> values);

struct StepsResult {
  StepSource source = StepSource::kWholeTrace;
  std::vector<Step> steps;
  std::vector<std::string> warnings;
  DistributionStats duration_ms;  // over complete steps

  std::vector<const Step*> CompleteSteps() const;
};

// Fails only for a step regex that does not compile.
Result<StepsResult> DetectSteps(const Trace& trace, const StepOptions& options);

}  // namespace teye
