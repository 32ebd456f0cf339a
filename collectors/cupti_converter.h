// CUPTI activity records → teye records: the one place that reads CUPTI's record layouts
// (CUDA 13: CUpti_ActivityKernel10, Memcpy6, Memset4, API, Synchronization2, Overhead3,
// GraphTrace2, Device5, Marker2, ExternalCorrelation). Timestamps become CLOCK_REALTIME ns, API
// calls get their names without CUPTI's version suffix, and the calls the configuration leaves
// out are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cupti.h>
#include <string_view>

namespace teye::collector {

class Collector;
class StringTable;
struct CuptiApi;

namespace cupti {

class Converter {
 public:
  virtual ~Converter() = default;
  // Reads every record of a completed activity buffer into the collector.
  virtual void ProcessBuffer(CUcontext context, uint32_t stream_id, uint8_t* buffer,
                             size_t valid_size) = 0;
};

// CUPTI time + offset_ns = host time (while CUPTI's own clock is in use); nullptr when out of
// memory.
Converter* NewConverter(Collector& c, const CuptiApi& api, int64_t offset_ns);

// A kernel's symbol as a person reads it, interned: C++ names demangled; the raw name when it is
// not mangled, demangling fails, or it is huge. Allocates (not for signal handlers).
uint32_t InternKernelName(StringTable& strings, const char* name);

// "cudaLaunchKernel_v7000" → "cudaLaunchKernel".
std::string_view ApiBaseName(std::string_view name);
// Calls that put work on a stream: launches, copies, memsets, graph launches (runtime or driver).
bool IsLaunchApi(std::string_view name);
// Runtime queries PyTorch makes around every op (cudaGetDevice, cudaStreamIsCapturing, …): left
// out of the trace by TEYE_CUPTI_RUNTIME=filtered.
bool IsNoisyRuntimeApi(std::string_view name);

}  // namespace cupti
}  // namespace teye::collector
