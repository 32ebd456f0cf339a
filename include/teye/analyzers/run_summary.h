// The numbers a gate or a diff compares, per run: a per-step series and the kernel totals. Built
// from a fresh analysis (SummarizeRun) or read back from a saved report JSON (reports/
// report_reader.h), so a committed baseline report and a trace judge the same way.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "teye/analyzers/breakdown.h"

namespace teye {

struct TraceAnalysis;

// One complete step of the primary device.
struct StepSample {
  int step = -1;
  double duration_ms = 0;
  double gpu_utilization = 0;                   // 0..1
  std::array<double, kTimeCategoryCount> ms{};  // exclusive breakdown, TimeCategory order
  double Share(TimeCategory c) const {          // of the step, 0..1
    return duration_ms > 0 ? ms[static_cast<size_t>(c)] / duration_ms : 0.0;
  }
};

// Kernel time by class, summed over complete steps. `cls` is the JSON name ("attention").
struct ClassTotal {
  std::string cls;
  int64_t count = 0;
  double total_ms = 0;
};

struct KernelTotal {
  std::string name;
  std::string cls;
  int64_t count = 0;
  double total_ms = 0;  // over complete steps
  double mean_us = 0;
};

struct RunSummary {
  std::string source;  // the file it came from
  std::vector<StepSample> steps;
  double gpu_utilization = 0;  // over all complete steps, as the report prints it
  std::vector<ClassTotal> classes;
  std::vector<KernelTotal> top_kernels;  // the report's top kernels, most time first
  // Bound class shares over all complete steps (input, compute, memory, communication, host),
  // when the analysis classified the run; empty otherwise.
  std::string bound_class;
  std::vector<std::pair<std::string, double>> bound_shares;
  int rank_count = 1;          // ranks in the source; the summary is of the first
  bool host_timeline = false;  // no GPU activity: the steps are the training thread's timeline
};

RunSummary SummarizeRun(const TraceAnalysis& analysis);

// Median of a per-step quantity; 0 for no steps.
double MedianOf(const std::vector<StepSample>& steps, double (*get)(const StepSample&));

}  // namespace teye
