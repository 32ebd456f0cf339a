// NCCL's profiler-plugin ABI (ncclProfiler_v5 for NCCL 2.28, ncclProfiler_v4 for 2.25-2.27),
// declared here: the plugin headers are not part of the CUDA toolkit. Layouts follow NCCL's
// src/include/plugin/profiler/profiler_v{4,5}.h; only the collective and p2p descriptors are read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teye::collector::nccl {

using Result = int;  // ncclResult_t; ncclSuccess = 0
inline constexpr Result kSuccess = 0;
using DebugLogger = void (*)(int level, unsigned long flags, const char* file, int line,
                             const char* fmt, ...);
using EventState = int;  // ncclProfilerEventState_t

inline constexpr uint64_t kProfileGroup = 1 << 0;
inline constexpr uint64_t kProfileColl = 1 << 1;
inline constexpr uint64_t kProfileP2p = 1 << 2;

struct CollDescr {  // descriptor union member `coll`
  uint64_t seq_number;
  const char* func;
  const void* send_buff;
  void* recv_buff;
  size_t count;
  int root;
  const char* datatype;
  uint8_t n_channels;
  uint8_t n_warps;
  const char* algo;
  const char* proto;
};
struct P2pDescr {  // descriptor union member `p2p`
  const char* func;
  void* buff;
  const char* datatype;
  size_t count;
  int peer;
  uint8_t n_channels;
};

struct EventDescrV5 {
  uint64_t type;
  void* parent_obj;
  int rank;
  union {
    CollDescr coll;
    P2pDescr p2p;
    uint8_t reserved[128];  // other event kinds, never read
  };
};
struct EventDescrV4 {
  uint8_t type;
  void* parent_obj;
  int rank;
  union {
    CollDescr coll;
    P2pDescr p2p;
    uint8_t reserved[128];
  };
};

struct __attribute__((visibility("default"))) ProfilerV5 {
  const char* name;
  Result (*init)(void** context, uint64_t comm_id, int* activation_mask, const char* comm_name,
                 int n_nodes, int nranks, int rank, DebugLogger logfn);
  Result (*start_event)(void* context, void** handle, EventDescrV5* descr);
  Result (*stop_event)(void* handle);
  Result (*record_event_state)(void* handle, EventState state, void* args);
  Result (*finalize)(void* context);
};
struct __attribute__((visibility("default"))) ProfilerV4 {
  const char* name;
  Result (*init)(void** context, int* activation_mask, const char* comm_name, uint64_t comm_hash,
                 int n_nodes, int nranks, int rank, DebugLogger logfn);
  Result (*start_event)(void* context, void** handle, EventDescrV4* descr);
  Result (*stop_event)(void* handle);
  Result (*record_event_state)(void* handle, EventState state, void* args);
  Result (*finalize)(void* context);
};

static_assert(offsetof(EventDescrV5, coll) == 24);
static_assert(offsetof(CollDescr, datatype) == 48 && offsetof(CollDescr, algo) == 64);
static_assert(offsetof(EventDescrV4, coll) == 24);

}  // namespace teye::collector::nccl

// The plugin's entry points (exported by libteye_collector.so).
extern "C" {
extern __attribute__((visibility("default")))
const teye::collector::nccl::ProfilerV5 ncclProfiler_v5;
extern __attribute__((visibility("default")))
const teye::collector::nccl::ProfilerV4 ncclProfiler_v4;
}
