// The roofline of a rank (DESIGN.md §5, docs/metrics.md "Roofline"): each operator's work —
// FLOPs and bytes from its recorded shapes (op_work.h), or from hardware counters when the trace
// has them (kernel_counters.h) — over the GPU time of the kernels it launched gives its achieved
// TFLOP/s and GB/s; against the device's peaks (device_peaks.h) its arithmetic intensity places
// it under the memory roof or the compute roof.
//
// A kernel belongs to the nearest enclosing cpu_op of its launch that has a work formula, so
// linear → addmm or matmul → bmm count once, at the op that ran. Ops are grouped by name, shape
// and element type.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/device_peaks.h"
#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/kernel_counters.h"
#include "teye/analyzers/op_work.h"
#include "teye/analyzers/step_windows.h"
#include "teye/model/trace.h"

namespace teye {

struct RooflineOp {
  std::string name;   // "aten::addmm"
  std::string shape;  // OpWork::shape, empty when only counters describe it
  std::string kind;   // ToString(OpKind), or "unknown" for ops known only by counters
  DataType dtype = DataType::kUnknown;
  bool matrix = false;       // runs on Tensor Cores / Matrix Cores
  bool tensor_core = false;  // its kernels are Tensor Core kernels (FP32 then means TF32)
  std::string flops_source;  // "shapes" or "counters"
  std::string bytes_source;
  bool assumed_dtype = false;  // tensor-list elements taken as 4 bytes
  int64_t calls = 0;           // op calls
  int64_t kernels = 0;         // kernels they launched
  double flops = 0;            // in all calls
  double bytes = 0;
  TimeNs gpu_ns = 0;  // their kernels' GPU time (0: the trace has no kernel activity)
  // Rates: 0 when gpu_ns is 0.
  double achieved_tflops = 0;
  double achieved_gbps = 0;
  double intensity = 0;    // FLOP per byte; 0 when bytes is 0
  double peak_tflops = 0;  // its compute roof; 0 unknown
  double roof_ms = 0;      // time at the roof: max(flops / peak, bytes / bandwidth)
  double efficiency = 0;   // roof_ms / GPU ms: the fraction of its roof it reached
  double lost_ms = 0;      // GPU ms − roof_ms, ≥ 0
  // "memory" below the ridge, "compute" at or above it, "unknown" without peaks.
  std::string bound = "unknown";
  // Moved its compulsory bytes faster than DRAM can: its data was (partly) in the L2 cache.
  bool above_memory_roof = false;
  double gpu_ms() const { return static_cast<double>(gpu_ns) / kNsPerMs; }
};

struct RooflineResult {
  bool valid = false;  // at least one op with work
  int device = -1;
  DevicePeakMatch peaks;
  std::string source = "none";          // "shapes", "counters", "counters+shapes"
  DataType dtype = DataType::kUnknown;  // of the matrix ops with the most GPU time
  double peak_tflops = 0;               // the compute roof for dtype
  double peak_gbps = 0;
  double ridge = 0;  // FLOP/byte where the roofs meet: peak_tflops·1000 / peak_gbps
  // Counters (present when the trace has KernelCounterTable rows).
  bool has_counters = false;
  int64_t counter_ranges = 0;
  double counter_flops = 0;       // Σ over every range
  double counter_dram_bytes = 0;  // Σ over ranges with DRAM metrics
  bool counter_has_dram = false;
  CounterMapping counter_mapping;
  // Coverage: kernel time in the analysed steps, and the part inside ops with work.
  TimeNs kernel_ns = 0;
  TimeNs attributed_ns = 0;
  std::vector<RooflineOp> ops;  // every group, most GPU time first
  // Per GpuOpTable row: the ops index it belongs to, or -1. (AnalyzeTrace releases it once the
  // breakdown and the rules have used it.)
  std::vector<int32_t> op_of_kernel;
  std::vector<std::string> notes;

  double coverage() const {
    return kernel_ns > 0 ? static_cast<double>(attributed_ns) / static_cast<double>(kernel_ns)
                         : 0.0;
  }
  // Per GpuOpTable row: 1 when its op is under the memory roof, 0 under the compute roof, -1
  // without roofline evidence.
  int MemoryBound(size_t gpu_op_row) const;
};

RooflineResult ComputeRoofline(const Trace& trace, const std::vector<KernelClass>& classes,
                               const StepWindows& windows, int device,
                               const DevicePeakTable& table);

}  // namespace teye
