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

// A step's window is its host range extended over its GPU work: [cpu_start, max(cpu_end,
// gpu_end)). When the GPU runs behind the host, a window overlaps the next step's; the two are
// split where the next step's GPU work begins, so every marked step stays a step and no instant
// is counted twice.
struct Step {
  int index = 0;        // 0-based position among detected steps
  int64_t number = -1;  // N of ProfilerStep#N when known
  std::string name;
  TimeNs cpu_start = 0;  // the host range that marks the step
  TimeNs cpu_end = 0;
  // The step's GPU extent: its `gpu_user_annotation` range when the trace has one, else the GPU
  // activity launched inside [cpu_start, cpu_end). gpu_start > gpu_end when it has none.
  TimeNs gpu_start = INT64_MAX;
  TimeNs gpu_end = INT64_MIN;
  TimeNs window_start = 0;  // the step's share of the timeline (set by DetectSteps)
  TimeNs window_end = 0;
  bool complete = true;      // false: cut short by the profiler stopping; left out of statistics
  RowIndex marker = kNoRow;  // HostSliceTable row of the marker range, when there is one
  bool has_gpu_extent() const { return gpu_start <= gpu_end; }
  TimeNs start() const { return window_start; }
  TimeNs end() const { return window_end; }
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
  bool gpu_annotations = false;  // GPU extents came from `gpu_user_annotation` step ranges
  std::vector<std::string> warnings;
  DistributionStats duration_ms;  // over complete steps

  std::vector<const Step*> CompleteSteps() const;
};

// Fails only for a step regex that does not compile.
Result<StepsResult> DetectSteps(const Trace& trace, const StepOptions& options);

}  // namespace teye
