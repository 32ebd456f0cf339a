// Memory copies by direction (with the host side's memory kind) and collectives by operation,
// over the complete steps.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/step_windows.h"
#include "teye/model/trace.h"

namespace teye {

struct CopyStat {
  CopyKind kind = CopyKind::kUnknown;
  MemoryKind host_memory = MemoryKind::kUnknown;  // HtoD source / DtoH destination
  int64_t count = 0;
  int64_t bytes = 0;
  TimeNs total_ns = 0;
  double gb_per_s() const { return total_ns ? static_cast<double>(bytes) / total_ns : 0.0; }
};

struct MemcpySummary {
  std::vector<CopyStat> copies;  // one row per (direction, host memory kind), most time first
  int64_t memset_count = 0;
  int64_t memset_bytes = 0;
  TimeNs memset_ns = 0;
};

MemcpySummary SummarizeMemcpy(const Trace& trace, const StepWindows& windows);

struct CollectiveStat {
  std::string op;  // "allreduce", "AllGather", ... as the trace names it
  int64_t count = 0;
  TimeNs total_ns = 0;
  int64_t bytes = 0;  // from collective arguments; 0 when the trace does not say
};

struct CommSummary {
  int64_t kernel_count = 0;
  TimeNs kernel_ns = 0;                     // sum of communication kernel durations
  std::vector<CollectiveStat> collectives;  // most time first
};

CommSummary SummarizeCommunication(const Trace& trace, const std::vector<KernelClass>& classes,
                                   const StepWindows& windows);

// "ncclDevKernel_AllReduce_Sum_f32_RING_LL(...)" → "AllReduce"; other names unchanged up to '('.
std::string CollectiveFromKernelName(std::string_view name);

}  // namespace teye
