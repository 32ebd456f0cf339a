// teye's own record types: what the collector keeps in memory between an event and the writer.
//
// Every source (interposed I/O, NVTX, CUPTI, NCCL, samplers) converts its events into these at
// once, so CUPTI/NVTX/NCCL types never travel further than the file that receives them. Records
// are plain bytes in per-thread chunks: a header, a fixed body and, for some, inline text. All
// sizes are multiples of 8 so bodies stay aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teye::collector {

enum class RecordType : uint8_t {
  kIo,          // IoRecord
  kRange,       // RangeRecord: NVTX ranges and marks, shim ranges, CUPTI markers
  kCounter,     // CounterRecord
  kKernel,      // KernelRecord
  kMemcpy,      // MemcpyRecord
  kMemset,      // MemsetRecord
  kSync,        // SyncRecord
  kApi,         // ApiRecord: CUDA runtime/driver calls
  kOverhead,    // OverheadRecord
  kGraph,       // GraphRecord
  kCollective,  // CollectiveRecord: NCCL profiler plugin
  kThreadName,  // ThreadNameRecord
  // KernelCountersRecord (counter_record.h): counter mode
  kKernelCounters,
};

// Header flags.
inline constexpr uint8_t kFlagTimeNs = 1;  // times are CLOCK_REALTIME ns, not ticks (clock.h)

struct RecordHeader {
  RecordType type;
  uint8_t flags;
  uint16_t size;  // bytes including this header, a multiple of 8
  uint32_t tid;   // host thread that the event belongs to
};
static_assert(sizeof(RecordHeader) == 8);

inline constexpr size_t kMaxInlineText = 2048;  // longer names are cut (with "...")

constexpr uint16_t RecordSize(size_t body_and_text) {
  return static_cast<uint16_t>((body_and_text + 7) & ~size_t{7});
}

enum class IoOp : uint8_t { kRead, kPread, kReadv, kPreadv, kRecv, kRecvfrom, kFread, kOpen };

struct IoRecord {
  RecordHeader h;
  uint64_t start;  // ticks
  uint64_t end;
  int64_t result;  // bytes, or the fd for open; -1 on error
  int32_t fd;
  uint32_t path;  // StringTable id, 0 unknown
  int32_t error;  // errno when result < 0
  IoOp op;
  uint8_t pad[3];
};

enum class RangeCategory : uint8_t {
  kNvtx,            // NVTX range/mark from the job, PyTorch or NCCL ("nvtx")
  kUserAnnotation,  // shim ranges such as Optimizer.step ("user_annotation")
  kDataLoader,      // shim DataLoader __next__ ranges ("dataloader")
};

enum class NcclPayloadKind : uint8_t { kNone, kCollective, kP2p, kCommInit };

// Range flags.
inline constexpr uint8_t kRangeInstant = 1;   // a mark: end == start
inline constexpr uint8_t kRangeUnclosed = 2;  // still open when the trace ended
inline constexpr uint8_t kRangeStartEnd = 4;  // nvtxRangeStart/End (may cross threads)
inline constexpr uint8_t kRangeHasColor = 8;
inline constexpr uint8_t kRangeHasPayload = 16;

enum class PayloadType : uint8_t { kNone, kU64, kI64, kDouble, kU32, kI32, kFloat };

struct RangeRecord {
  RecordHeader h;
  uint64_t start;  // ticks, or ns with kFlagTimeNs
  uint64_t end;
  uint32_t domain;   // StringTable id of the NVTX domain name, 0 = default domain
  uint32_t name_id;  // StringTable id, or 0 when the name is inline text
  RangeCategory category;
  uint8_t range_flags;
  PayloadType payload_type;
  NcclPayloadKind nccl;
  uint32_t color;          // ARGB
  uint32_t nvtx_category;  // NVTX category id, 0 none
  uint16_t name_len;       // inline text length
  uint16_t pad0;
  uint64_t payload;  // raw bits of the NVTX payload
  // NCCL NVTX payload (nccl != kNone)
  uint64_t comm;
  int64_t bytes;
  int32_t aux;     // reduction op, root or peer (see nccl_names.h)
  int32_t rank;    // communicator rank, -1 unknown
  int32_t nranks;  // communicator size, 0 unknown
  int32_t pad1;
  // char name[name_len] follows
  const char* text() const { return reinterpret_cast<const char*>(this + 1); }
};

enum class CounterId : uint16_t {
  kCpuUtilization,        // process CPU %, 100 = one core
  kHostRss,               // bytes
  kReadRate,              // bytes/s read by the process (rchar)
  kWriteRate,             // bytes/s written (wchar)
  kGpuUtilization,        // % (NVML), per device
  kGpuMemoryUsed,         // bytes (NVML), per device
  kGpuSmClock,            // MHz (NVML), per device
  kGpuMemoryUtilization,  // % of time the memory controller was busy (NVML)
  kRunQueueWait,          // % of the interval the main thread was runnable but not running
};

struct CounterRecord {
  RecordHeader h;
  uint64_t time;  // ns
  CounterId id;
  int16_t device;  // -1 for host counters
  uint32_t pad;
  double value;
};

struct KernelRecord {
  RecordHeader h;
  uint64_t start;  // ns
  uint64_t end;
  uint64_t queued;  // 0 unknown
  uint64_t graph_node_id;
  uint64_t external_id;
  uint32_t name_id;
  int32_t device;
  uint32_t context;
  uint32_t stream;
  uint32_t correlation;
  int32_t grid[3];
  int32_t block[3];
  int32_t static_shared;
  int32_t dynamic_shared;
  uint32_t graph_id;
  uint16_t registers;
  uint8_t launch_type;
  uint8_t pad[5];
};

struct MemcpyRecord {
  RecordHeader h;
  uint64_t start;  // ns
  uint64_t end;
  uint64_t bytes;
  uint64_t external_id;
  int32_t device;
  uint32_t context;
  uint32_t stream;
  uint32_t correlation;
  int32_t src_device;  // peer copies, else -1
  int32_t dst_device;
  uint32_t graph_id;
  uint8_t copy_kind;  // CUPTI copy kind numbering (1 HtoD, 2 DtoH, 8 DtoD, 10 PtoP, ...)
  uint8_t src_kind;   // CUPTI memory kind numbering (1 pageable, 2 pinned, 3 device, 5 managed)
  uint8_t dst_kind;
  uint8_t async;
};

struct MemsetRecord {
  RecordHeader h;
  uint64_t start;  // ns
  uint64_t end;
  uint64_t bytes;
  uint64_t external_id;
  int32_t device;
  uint32_t context;
  uint32_t stream;
  uint32_t correlation;
  uint32_t value;
  uint32_t graph_id;
  uint16_t memory_kind;
  uint8_t async;
  uint8_t pad[5];
};

enum class SyncType : uint8_t { kUnknown, kEvent, kStreamWaitEvent, kStream, kContext };

struct SyncRecord {
  RecordHeader h;
  uint64_t start;  // ns
  uint64_t end;
  int32_t device;
  uint32_t context;
  uint32_t stream;  // kNoStream for context-wide waits
  uint32_t correlation;
  uint32_t event_id;
  SyncType type;
  uint8_t pad[3];
};
inline constexpr uint32_t kNoStream = 0xffffffffu;

enum class ApiDomain : uint8_t { kRuntime, kDriver };

struct ApiRecord {
  RecordHeader h;  // tid = the calling thread
  uint64_t start;  // ns
  uint64_t end;
  uint64_t external_id;
  uint32_t name_id;
  uint32_t correlation;
  uint32_t cbid;
  uint32_t return_value;
  ApiDomain domain;
  uint8_t launches_work;  // writes the start of an ac2g flow
  uint8_t pad[6];
};

struct OverheadRecord {
  RecordHeader h;  // tid = the thread it was charged to, or 0
  uint64_t start;  // ns
  uint64_t end;
  uint32_t kind;   // CUPTI overhead kind
  int32_t device;  // device objects, else -1
  uint8_t pad[8];
};

struct GraphRecord {
  RecordHeader h;
  uint64_t start;  // ns
  uint64_t end;
  int32_t device;
  uint32_t graph_id;
  uint32_t context;
  uint32_t stream;
  uint32_t correlation;
  uint32_t pad;
};

struct CollectiveRecord {
  RecordHeader h;  // tid = the thread that started the event
  uint64_t start;  // ticks
  uint64_t end;
  uint64_t comm_hash;
  uint64_t seq;
  uint64_t count;  // elements
  uint32_t func;   // StringTable ids (NCCL's own spellings)
  uint32_t dtype;
  uint32_t algo;
  uint32_t proto;
  uint32_t comm_name;
  int32_t rank;
  int32_t nranks;
  int32_t root;
  int32_t peer;         // p2p, else -1
  uint16_t comm_index;  // small per-process number of the communicator (track id)
  uint8_t nchannels;
  uint8_t nwarps;
  uint8_t is_p2p;
  uint8_t lane;  // overlapping collectives of one communicator go to separate lanes
  uint8_t pad[6];
};

struct ThreadNameRecord {
  RecordHeader h;  // tid = the named thread
  uint16_t name_len;
  uint8_t pad[6];
  const char* text() const { return reinterpret_cast<const char*>(this + 1); }
};

}  // namespace teye::collector
