// Kernel time by class and the top kernels, over the complete steps.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/step_windows.h"
#include "teye/model/trace.h"

namespace teye {

struct KernelStat {
  std::string name;
  KernelClass cls = KernelClass::kOther;
  int64_t count = 0;
  TimeNs total_ns = 0;
  TimeNs min_ns = 0;
  TimeNs max_ns = 0;
  double mean_ns() const { return count ? static_cast<double>(total_ns) / count : 0.0; }
};

struct ClassStat {
  KernelClass cls = KernelClass::kOther;
  int64_t count = 0;
  TimeNs total_ns = 0;  // sum of kernel durations (overlaps on several streams count twice)
  double share = 0;     // of all kernel time
};

struct KernelSummary {
  int64_t count = 0;
  TimeNs total_ns = 0;
  std::vector<ClassStat> classes;     // classes that ran, most time first
  std::vector<KernelStat> top;        // by total time
  std::vector<KernelStat> top_other;  // the biggest kernels no rule classified
};

KernelSummary SummarizeKernels(const Trace& trace, const std::vector<KernelClass>& classes,
                               const StepWindows& windows, size_t top_n = 10);

}  // namespace teye
