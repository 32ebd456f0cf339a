// Basic vocabulary of the trace model: time, ids and the closed sets of event kinds.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace teye {

// All times in the model are int64 nanoseconds on one clock (the trace's own, usually
// CLOCK_REALTIME since the epoch). Durations are int64 nanoseconds too.
using TimeNs = int64_t;
inline constexpr TimeNs kNsPerUs = 1000;
inline constexpr TimeNs kNsPerMs = 1000 * 1000;
inline constexpr TimeNs kNsPerSec = 1000 * 1000 * 1000;

// Index of an interned string in a StringPool. Id 0 is always the empty string.
using StringId = uint32_t;
inline constexpr StringId kEmptyString = 0;

// Index of a row in the thread table.
using ThreadIndex = uint32_t;
inline constexpr ThreadIndex kNoThread = std::numeric_limits<ThreadIndex>::max();

// Row index in a table; kNoRow marks a missing link.
using RowIndex = int32_t;
inline constexpr RowIndex kNoRow = -1;

// Activities that run on a device timeline.
enum class GpuOpKind : uint8_t {
  kKernel,
  kMemcpy,
  kMemset,
  kSync,  // CUPTI synchronization record (Kineto `cuda_sync`: Stream/Event/Context Sync, Wait)
};

// Host-side ranges.
enum class HostSliceKind : uint8_t {
  kCpuOp,           // `cpu_op`, `Operator`
  kUserAnnotation,  // `user_annotation`, NVTX ranges, `record_function`
  kPythonFunction,  // `python_function`
  kRuntime,         // `cuda_runtime`, `Runtime`, HIP runtime
  kDriver,          // `cuda_driver`
  kDataLoader,      // teye collector: DataLoader `__next__` ranges
  kIo,              // teye collector: read/pread/readv/recv/open
  kOverhead,        // profiler overhead (`overhead`)
  kProfilerSpan,    // `Trace` category: the profiler's own window
  kOther,
};

enum class CopyKind : uint8_t { kUnknown, kHtoD, kDtoH, kDtoD, kHtoH, kPtoP };
enum class MemoryKind : uint8_t { kUnknown, kPageable, kPinned, kDevice, kManaged };

enum class GpuVendor : uint8_t { kUnknown, kNvidia, kAmd };

std::string_view ToString(GpuOpKind kind);
std::string_view ToString(HostSliceKind kind);
std::string_view ToString(CopyKind kind);
std::string_view ToString(MemoryKind kind);
std::string_view ToString(GpuVendor vendor);

}  // namespace teye
