// The PyTorch profiler (Kineto) dialect of Chrome trace JSON, across versions, plus teye's own
// collector categories: what each `cat` means and how names encode copy directions.
#pragma once

#include <string_view>

#include "teye/model/types.h"

namespace teye::import {

enum class EventClass : uint8_t {
  kGpuKernel,
  kGpuMemcpy,
  kGpuMemset,
  kGpuSync,
  kGpuAnnotation,
  kHost,            // see HostKindOf
  kMemoryInstant,   // `cpu_instant_event` / `[memory]`
  kKernelCounters,  // `cuda_profiler_range`: one kernel's hardware counters
};

// Kineto's category for CUPTI range-profiler results (and teye's collector in counter mode).
inline constexpr std::string_view kCounterRangeCategory = "cuda_profiler_range";

struct CategoryInfo {
  EventClass event_class = EventClass::kHost;
  HostSliceKind host_kind = HostSliceKind::kOther;
};

// Case-insensitive. Unknown and empty categories are host slices of kind kOther.
CategoryInfo ClassifyCategory(std::string_view category);
// An event with no category at all, as the PyTorch autograd profiler's own export writes them
// (`prof.export_chrome_trace` of a CPU-only profile: pid "CPU functions"): framework ops by their
// `aten::`/`prim::`/... names, the profiler's `record_function` ranges (ProfilerStep#N,
// enumerate(DataLoader)#…, Optimizer.step#…) as user annotations, the rest kOther.
CategoryInfo ClassifyUncategorized(std::string_view name);

struct CopyDescription {
  CopyKind kind = CopyKind::kUnknown;
  MemoryKind src = MemoryKind::kUnknown;
  MemoryKind dst = MemoryKind::kUnknown;
};

// "Memcpy HtoD (Pageable -> Device)", "Memcpy DtoH (Device -> Pinned)", "Memcpy PtoP (...)".
CopyDescription ParseMemcpyName(std::string_view name);
CopyKind ParseCopyKind(std::string_view text);      // "HtoD", "1", "DtoH", ...
MemoryKind ParseMemoryKind(std::string_view text);  // "Pageable", "pinned", "Device", ...

}  // namespace teye::import
