// Hardware counters per kernel (KernelCounterTable: Kineto's `cuda_profiler_range` events, or
// teye's collector in counter mode) turned into work, and matched to the kernels or launches
// they measured.
//
// FLOPs = Σ over f/h/d precision of (add + mul + 2·fma) SASS thread instructions
// (smsp__sass_thread_inst_executed_op_{f,h,d}{add,mul,fma}_pred_on.sum): the FP work of the
// CUDA cores. Tensor Core math is not in these counters. DRAM bytes = dram__bytes_read.sum +
// dram__bytes_write.sum (or dram__bytes.sum) when the trace has them.
#pragma once

#include <string>
#include <vector>

#include "teye/model/trace.h"

namespace teye {

struct CounterWork {
  double flops = 0;
  double dram_bytes = 0;
  bool has_flops = false;  // at least one of the nine SASS FP metrics
  bool has_dram = false;
};

// The work one KernelCounterTable row measured.
CounterWork CounterWorkOf(const Trace& trace, size_t row);

struct CounterMapping {
  // Per KernelCounterTable row: the kernel it measured (GpuOpTable row) or kNoRow; when the trace
  // has no kernel activity, the runtime/driver launch call (HostSliceTable row) instead.
  std::vector<RowIndex> kernel;
  std::vector<RowIndex> launch;
  // How rows were matched: "correlation", "launch order", or why they were not.
  std::string how;
  int64_t matched = 0;
  int64_t name_mismatches = 0;  // launch-order matches whose kernel names differ
};

// Rows that carry a correlation id match the kernel with that id. Kineto's rows carry none:
// they are in launch order, one per kernel launch (HTA's rule), so the i-th row matches the i-th
// kernel by launch, or the i-th kernel launch call when no kernel activity was recorded — only
// when the counts agree.
CounterMapping MapCounterRanges(const Trace& trace);

// Whether a runtime/driver call launches a kernel (cudaLaunchKernel, cuLaunchKernel,
// hipLaunchKernel, ... ).
bool IsKernelLaunchCall(std::string_view name);

}  // namespace teye
