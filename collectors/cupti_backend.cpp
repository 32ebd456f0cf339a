// CUPTI activity → teye records. Everything that knows a CUPTI type is in this file and
// cupti_api.h.
#include "cupti_backend.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <mutex>
#include <new>
#include <string_view>
#include <unordered_map>

#include "clock.h"
#include "collector.h"
#include "cupti_api.h"
#include "log.h"
#include "signal_safe_lock.h"

#ifndef TEYE_CUPTI_DEFAULT_PATH
#define TEYE_CUPTI_DEFAULT_PATH ""
#endif

namespace teye::collector {
namespace {

// ---- Converter ----------------------------------------------------------------------------

enum class ApiDecision : uint8_t { kUnknown, kDrop, kKeep, kKeepLaunch };

class Converter {
 public:
  Converter(Collector& c, const CuptiApi& api, int64_t offset_ns)
      : c_(c), api_(api), offset_ns_(offset_ns) {
    ext_.resize(kExtSlots);
  }

  void ProcessBuffer(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t valid_size) {
    SignalSafeLock lock(mutex_);  // the end of the trace may wait for it (signal_safe_lock.h)
    c_.stats().cupti_buffers.fetch_add(1, std::memory_order_relaxed);
    ts_ = c_.Thread();
    if (buffer && valid_size && api_.activity_get_next_record) {
      CUpti_Activity* record = nullptr;
      for (;;) {
        CUptiResult status = api_.activity_get_next_record(buffer, valid_size, &record);
        if (status != CUPTI_SUCCESS) break;  // CUPTI_ERROR_MAX_LIMIT_REACHED: end of buffer
        if (!record) break;
        c_.stats().cupti_records.fetch_add(1, std::memory_order_relaxed);
        if (ts_) Convert(*record);
      }
    }
    size_t dropped = 0;
    if (api_.activity_get_num_dropped_records &&
        api_.activity_get_num_dropped_records(context, stream_id, &dropped) == CUPTI_SUCCESS &&
        dropped > 0) {
      c_.stats().cupti_dropped.fetch_add(dropped, std::memory_order_relaxed);
      TEYE_LOG_ONCE("CUPTI dropped activity records (buffers full); raise TEYE_CUPTI_BUFFER_KB");
    }
  }

 private:
  static constexpr size_t kExtSlots = 1 << 16;
  struct ExtEntry {
    uint32_t correlation = 0;
    uint64_t external_id = 0;
  };

  int64_t Ns(uint64_t cupti_ns) const { return static_cast<int64_t>(cupti_ns) + offset_ns_; }

  bool ValidSpan(uint64_t start, uint64_t end) {
    if (start == 0 || end < start || end - start > uint64_t{3600} * 1000000000) {
      c_.stats().cupti_invalid.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  template <typename R>
  R* Begin(RecordType type, uint32_t tid = 0) {
    constexpr size_t size = RecordSize(sizeof(R));
    auto* r = static_cast<R*>(c_.Begin(ts_, type, size, tid, kFlagTimeNs));
    if (r)
      std::memset(reinterpret_cast<char*>(r) + sizeof(RecordHeader), 0,
                  sizeof(R) - sizeof(RecordHeader));
    return r;
  }
  template <typename R>
  void Commit() {
    c_.Commit(ts_, RecordSize(sizeof(R)));
  }

  uint64_t ExternalId(uint32_t correlation) const {
    const ExtEntry& e = ext_[correlation % kExtSlots];
    return e.correlation == correlation ? e.external_id : 0;
  }

  int32_t DeviceOfContext(uint32_t context) const {
    auto it = context_device_.find(context);
    return it == context_device_.end() ? -1 : it->second;
  }
  void NoteContext(uint32_t context, uint32_t device) {
    if (context_device_.size() < 4096) context_device_[context] = static_cast<int32_t>(device);
  }

  uint32_t KernelName(const char* name) {
    if (!name) return 0;
    if (auto it = kernel_names_.find(name); it != kernel_names_.end()) return it->second;
    const size_t len = strnlen(name, 1 << 16);
    uint32_t id = 0;
    // Demangle C++ names; keep the raw name when it is not mangled, fails, or is huge.
    if (len > 2 && name[0] == '_' && name[1] == 'Z' && len < 4096) {
      int status = 0;
      char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
      if (status == 0 && demangled) id = c_.strings().Intern(demangled);
      std::free(demangled);
    }
    if (!id) id = c_.strings().Intern(std::string_view(name, len));
    if (kernel_names_.size() < (1 << 20)) kernel_names_.emplace(name, id);
    return id;
  }

  ApiDecision Decide(CUpti_ActivityKind kind, uint32_t cbid, uint32_t& name_id) {
    const bool runtime = kind == CUPTI_ACTIVITY_KIND_RUNTIME;
    auto& decisions = runtime ? runtime_decisions_ : driver_decisions_;
    auto& names = runtime ? runtime_names_ : driver_names_;
    if (cbid >= std::size(decisions)) {
      name_id = 0;
      return ApiDecision::kKeep;
    }
    if (decisions[cbid] != ApiDecision::kUnknown) {
      name_id = names[cbid];
      return decisions[cbid];
    }
    const char* raw = nullptr;
    if (api_.get_callback_name)
      api_.get_callback_name(runtime ? CUPTI_CB_DOMAIN_RUNTIME_API : CUPTI_CB_DOMAIN_DRIVER_API,
                             cbid, &raw);
    std::string_view name = raw ? std::string_view(raw) : std::string_view();
    // CUPTI appends the API version ("cudaLaunchKernel_v7000"); Kineto and users use the name.
    if (size_t v = name.rfind("_v");
        v != std::string_view::npos && v + 2 < name.size() &&
        name.find_first_not_of("0123456789", v + 2) == std::string_view::npos)
      name = name.substr(0, v);
    std::string fallback;
    if (name.empty()) {
      fallback = (runtime ? "cudaRuntimeApi#" : "cuDriverApi#") + std::to_string(cbid);
      name = fallback;
    }
    auto starts = [&](std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
    const bool launches = starts("cudaLaunch") || starts("cudaMemcpy") || starts("cudaMemset") ||
                          starts("cudaGraphLaunch") || starts("cuLaunch") || starts("cuMemcpy") ||
                          starts("cuMemset") || starts("cuGraphLaunch");
    ApiDecision d = launches ? ApiDecision::kKeepLaunch : ApiDecision::kKeep;
    const Config& cfg = c_.config();
    if (runtime && cfg.cupti_runtime == RuntimeApiMode::kFiltered) {
      static constexpr std::string_view kNoise[] = {
          "cudaGetDevice",
          "cudaSetDevice",
          "cudaGetLastError",
          "cudaPeekAtLastError",
          "cudaDeviceGetAttribute",
          "cudaFuncGetAttributes",
          "cudaStreamIsCapturing",
          "cudaStreamGetCaptureInfo",
          "cudaGetDeviceCount",
          "cudaPointerGetAttributes",
          "cudaGetDeviceProperties",
          "cudaDriverGetVersion",
          "cudaRuntimeGetVersion",
          "cudaThreadExchangeStreamCaptureMode",
          "cudaGetFuncBySymbol",
          "cudaGetDriverEntryPoint",
          "cudaGetSymbolAddress",
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor",
          "cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags",
          "cudaGetExportTable"};
      for (std::string_view noise : kNoise)
        if (name == noise) d = ApiDecision::kDrop;
    }
    if (!runtime && cfg.cupti_driver == DriverApiMode::kLaunch && !launches) d = ApiDecision::kDrop;
    names[cbid] = c_.strings().Intern(name);
    decisions[cbid] = d;
    name_id = names[cbid];
    return d;
  }

  void Convert(const CUpti_Activity& a) {
    switch (a.kind) {
      case CUPTI_ACTIVITY_KIND_KERNEL:
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        return Kernel(reinterpret_cast<const CUpti_ActivityKernel10&>(a));
      case CUPTI_ACTIVITY_KIND_MEMCPY:
        return Memcpy(reinterpret_cast<const CUpti_ActivityMemcpy6&>(a));
      case CUPTI_ACTIVITY_KIND_MEMCPY2:
        return MemcpyPeer(reinterpret_cast<const CUpti_ActivityMemcpyPtoP4&>(a));
      case CUPTI_ACTIVITY_KIND_MEMSET:
        return Memset(reinterpret_cast<const CUpti_ActivityMemset4&>(a));
      case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
        return Sync(reinterpret_cast<const CUpti_ActivitySynchronization2&>(a));
      case CUPTI_ACTIVITY_KIND_RUNTIME:
      case CUPTI_ACTIVITY_KIND_DRIVER:
        return Api(reinterpret_cast<const CUpti_ActivityAPI&>(a));
      case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        const auto& e = reinterpret_cast<const CUpti_ActivityExternalCorrelation&>(a);
        ext_[e.correlationId % kExtSlots] = ExtEntry{e.correlationId, e.externalId};
        return;
      }
      case CUPTI_ACTIVITY_KIND_OVERHEAD:
        return Overhead(reinterpret_cast<const CUpti_ActivityOverhead3&>(a));
      case CUPTI_ACTIVITY_KIND_DEVICE:
        return Device(reinterpret_cast<const CUpti_ActivityDevice5&>(a));
      case CUPTI_ACTIVITY_KIND_CONTEXT: {
        const auto& ctx = reinterpret_cast<const CUpti_ActivityContext3&>(a);
        NoteContext(ctx.contextId, ctx.deviceId);
        return;
      }
      case CUPTI_ACTIVITY_KIND_MARKER:
        return Marker(reinterpret_cast<const CUpti_ActivityMarker2&>(a));
      case CUPTI_ACTIVITY_KIND_MARKER_DATA:
        return;  // colours/payloads of markers: not kept
      case CUPTI_ACTIVITY_KIND_GRAPH_TRACE:
        return Graph(reinterpret_cast<const CUpti_ActivityGraphTrace2&>(a));
      default:
        c_.stats().cupti_unknown_kind.fetch_add(1, std::memory_order_relaxed);
        return;
    }
  }

  void Kernel(const CUpti_ActivityKernel10& k) {
    if (!ValidSpan(k.start, k.end)) return;
    NoteContext(k.contextId, k.deviceId);
    auto* r = Begin<KernelRecord>(RecordType::kKernel);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(k.start));
    r->end = static_cast<uint64_t>(Ns(k.end));
    r->queued = k.queued ? static_cast<uint64_t>(Ns(k.queued)) : 0;
    r->graph_node_id = k.graphNodeId;
    r->external_id = ExternalId(k.correlationId);
    r->name_id = KernelName(k.name);
    r->device = static_cast<int32_t>(k.deviceId);
    r->context = k.contextId;
    r->stream = k.streamId;
    r->correlation = k.correlationId;
    r->grid[0] = k.gridX;
    r->grid[1] = k.gridY;
    r->grid[2] = k.gridZ;
    r->block[0] = k.blockX;
    r->block[1] = k.blockY;
    r->block[2] = k.blockZ;
    r->static_shared = k.staticSharedMemory;
    r->dynamic_shared = k.dynamicSharedMemory;
    r->graph_id = k.graphId;
    r->registers = k.registersPerThread;
    r->launch_type = k.launchType;
    Commit<KernelRecord>();
  }

  void Memcpy(const CUpti_ActivityMemcpy6& m) {
    if (!ValidSpan(m.start, m.end)) return;
    NoteContext(m.contextId, m.deviceId);
    auto* r = Begin<MemcpyRecord>(RecordType::kMemcpy);
    if (!r) return;
    FillMemcpy(m, r);
    r->src_device = r->dst_device = -1;
    Commit<MemcpyRecord>();
  }

  void MemcpyPeer(const CUpti_ActivityMemcpyPtoP4& m) {
    if (!ValidSpan(m.start, m.end)) return;
    auto* r = Begin<MemcpyRecord>(RecordType::kMemcpy);
    if (!r) return;
    FillMemcpy(m, r);
    r->src_device = static_cast<int32_t>(m.srcDeviceId);
    r->dst_device = static_cast<int32_t>(m.dstDeviceId);
    Commit<MemcpyRecord>();
  }

  // The fields CUPTI's memcpy and peer-to-peer memcpy records share.
  template <typename CuptiMemcpy>
  void FillMemcpy(const CuptiMemcpy& m, MemcpyRecord* r) {
    r->start = static_cast<uint64_t>(Ns(m.start));
    r->end = static_cast<uint64_t>(Ns(m.end));
    r->bytes = m.bytes;
    r->external_id = ExternalId(m.correlationId);
    r->device = static_cast<int32_t>(m.deviceId);
    r->context = m.contextId;
    r->stream = m.streamId;
    r->correlation = m.correlationId;
    r->graph_id = m.graphId;
    r->copy_kind = m.copyKind;
    r->src_kind = m.srcKind;
    r->dst_kind = m.dstKind;
    r->async = (m.flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC) != 0;
  }

  void Memset(const CUpti_ActivityMemset4& m) {
    if (!ValidSpan(m.start, m.end)) return;
    NoteContext(m.contextId, m.deviceId);
    auto* r = Begin<MemsetRecord>(RecordType::kMemset);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(m.start));
    r->end = static_cast<uint64_t>(Ns(m.end));
    r->bytes = m.bytes;
    r->external_id = ExternalId(m.correlationId);
    r->device = static_cast<int32_t>(m.deviceId);
    r->context = m.contextId;
    r->stream = m.streamId;
    r->correlation = m.correlationId;
    r->value = m.value;
    r->graph_id = m.graphId;
    r->memory_kind = m.memoryKind;
    r->async = (m.flags & CUPTI_ACTIVITY_FLAG_MEMSET_ASYNC) != 0;
    Commit<MemsetRecord>();
  }

  void Sync(const CUpti_ActivitySynchronization2& s) {
    if (!ValidSpan(s.start, s.end)) return;
    auto* r = Begin<SyncRecord>(RecordType::kSync);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(s.start));
    r->end = static_cast<uint64_t>(Ns(s.end));
    r->device = DeviceOfContext(s.contextId);
    r->context = s.contextId;
    r->stream = s.streamId;  // CUPTI_SYNCHRONIZATION_INVALID_VALUE (0xffffffff) for context syncs
    r->correlation = s.correlationId;
    r->event_id = s.cudaEventId;
    switch (s.type) {
      case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE:
        r->type = SyncType::kEvent;
        break;
      case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT:
        r->type = SyncType::kStreamWaitEvent;
        break;
      case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE:
        r->type = SyncType::kStream;
        break;
      case CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE:
        r->type = SyncType::kContext;
        break;
      default:
        r->type = SyncType::kUnknown;
    }
    Commit<SyncRecord>();
  }

  void Api(const CUpti_ActivityAPI& a) {
    if (!ValidSpan(a.start, a.end)) return;
    uint32_t name_id = 0;
    const ApiDecision d = Decide(a.kind, a.cbid, name_id);
    if (d == ApiDecision::kDrop) {
      c_.stats().cupti_filtered.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto* r = Begin<ApiRecord>(RecordType::kApi, a.threadId);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(a.start));
    r->end = static_cast<uint64_t>(Ns(a.end));
    r->external_id = ExternalId(a.correlationId);
    r->name_id = name_id;
    r->correlation = a.correlationId;
    r->cbid = a.cbid;
    r->return_value = a.returnValue;
    r->domain = a.kind == CUPTI_ACTIVITY_KIND_RUNTIME ? ApiDomain::kRuntime : ApiDomain::kDriver;
    r->launches_work = d == ApiDecision::kKeepLaunch;
    Commit<ApiRecord>();
  }

  void Overhead(const CUpti_ActivityOverhead3& o) {
    if (!ValidSpan(o.start, o.end)) return;
    uint32_t tid = 0;
    int32_t device = -1;
    if (o.objectKind == CUPTI_ACTIVITY_OBJECT_THREAD ||
        o.objectKind == CUPTI_ACTIVITY_OBJECT_PROCESS)
      tid = o.objectId.pt.threadId;
    else if (o.objectKind == CUPTI_ACTIVITY_OBJECT_DEVICE ||
             o.objectKind == CUPTI_ACTIVITY_OBJECT_CONTEXT ||
             o.objectKind == CUPTI_ACTIVITY_OBJECT_STREAM)
      device = static_cast<int32_t>(o.objectId.dcs.deviceId);
    auto* r = Begin<OverheadRecord>(RecordType::kOverhead, tid);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(o.start));
    r->end = static_cast<uint64_t>(Ns(o.end));
    r->kind = static_cast<uint32_t>(o.overheadKind);
    r->device = device;
    Commit<OverheadRecord>();
  }

  void Graph(const CUpti_ActivityGraphTrace2& g) {
    if (!ValidSpan(g.start, g.end)) return;
    auto* r = Begin<GraphRecord>(RecordType::kGraph);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(g.start));
    r->end = static_cast<uint64_t>(Ns(g.end));
    r->device = static_cast<int32_t>(g.deviceId);
    r->graph_id = g.graphId;
    r->context = g.contextId;
    r->stream = g.streamId;
    r->correlation = g.correlationId;
    Commit<GraphRecord>();
  }

  void Device(const CUpti_ActivityDevice5& d) {
    DeviceProps p;
    p.id = static_cast<int>(d.id);
    p.name = d.name ? std::string(d.name, strnlen(d.name, 256)) : std::string();
    p.total_global_mem = d.globalMemorySize;
    p.compute_major = static_cast<int>(d.computeCapabilityMajor);
    p.compute_minor = static_cast<int>(d.computeCapabilityMinor);
    p.num_sms = static_cast<int>(d.numMultiprocessors);
    p.warp_size = static_cast<int>(d.numThreadsPerWarp);
    p.max_threads_per_sm = static_cast<int>(d.maxWarpsPerMultiprocessor * d.numThreadsPerWarp);
    p.max_threads_per_block = static_cast<int>(d.maxThreadsPerBlock);
    p.regs_per_block = static_cast<int>(d.maxRegistersPerBlock);
    p.shared_mem_per_block = static_cast<int>(d.maxSharedMemoryPerBlock);
    p.shared_mem_per_sm = static_cast<int>(d.maxSharedMemoryPerMultiprocessor);
    p.l2_cache_size = static_cast<int>(d.l2CacheSize);
    p.memory_bandwidth = d.globalMemoryBandwidth;
    static_assert(sizeof(d.uuid) == sizeof(p.uuid));
    std::memcpy(p.uuid, &d.uuid, sizeof p.uuid);
    p.has_uuid = true;
    c_.NoteDevice(p);
  }

  // CUPTI markers (NVTX seen by CUPTI when another tool made CUPTI the NVTX injection): written
  // like the collector's own NVTX ranges. Start/end pairs meet by id.
  void Marker(const CUpti_ActivityMarker2& m) {
    if (m.timestamp == 0) {
      c_.stats().cupti_invalid.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const uint32_t tid = m.objectKind == CUPTI_ACTIVITY_OBJECT_THREAD ? m.objectId.pt.threadId : 0;
    if (m.flags & CUPTI_ACTIVITY_FLAG_MARKER_START) {
      if (open_markers_.size() < 65536)
        open_markers_[m.id] = OpenMarker{m.timestamp, Intern(m.name), Intern(m.domain), tid};
      return;
    }
    uint64_t start = m.timestamp;
    uint32_t name = Intern(m.name), domain = Intern(m.domain), start_tid = tid;
    uint8_t flags = kRangeInstant;
    if (m.flags & CUPTI_ACTIVITY_FLAG_MARKER_END) {
      auto it = open_markers_.find(m.id);
      if (it == open_markers_.end()) {
        c_.stats().nvtx_unmatched_ends.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      start = it->second.start;
      name = it->second.name;
      domain = it->second.domain;
      start_tid = it->second.tid;
      flags = 0;
      open_markers_.erase(it);
    } else if (!(m.flags & CUPTI_ACTIVITY_FLAG_MARKER_INSTANTANEOUS)) {
      return;  // synchronisation markers
    }
    auto* r = Begin<RangeRecord>(RecordType::kRange, start_tid);
    if (!r) return;
    r->start = static_cast<uint64_t>(Ns(start));
    r->end = static_cast<uint64_t>(Ns(m.timestamp));
    r->domain = domain;
    r->name_id = name;
    r->category = RangeCategory::kNvtx;
    r->range_flags = flags;
    r->rank = -1;
    r->aux = -1;
    Commit<RangeRecord>();
  }

  uint32_t Intern(const char* s) {
    return s ? c_.strings().Intern(std::string_view(s, strnlen(s, kMaxInlineText))) : 0;
  }

  struct OpenMarker {
    uint64_t start;
    uint32_t name;
    uint32_t domain;
    uint32_t tid;
  };

  Collector& c_;
  const CuptiApi api_;
  const int64_t offset_ns_;
  std::mutex mutex_;
  ThreadState* ts_ = nullptr;
  std::vector<ExtEntry> ext_;
  std::unordered_map<const char*, uint32_t> kernel_names_;
  std::unordered_map<uint32_t, int32_t> context_device_;
  std::unordered_map<uint32_t, OpenMarker> open_markers_;
  ApiDecision runtime_decisions_[2048] = {};
  ApiDecision driver_decisions_[2048] = {};
  uint32_t runtime_names_[2048] = {};
  uint32_t driver_names_[2048] = {};
};

std::atomic<Converter*> g_converter{nullptr};
CuptiApi g_api;
std::atomic<int> g_outstanding_buffers{0};
std::atomic<bool> g_usable{false};  // CUPTI may be called (not in forked children)
size_t g_buffer_bytes = 4 << 20;
int g_max_buffers = 64;

// ---- Loading ------------------------------------------------------------------------------

std::string FindLoadedCupti() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libcupti.so")) {
          *static_cast<std::string*>(data) = info->dlpi_name;
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn& out, bool required, std::string& error) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!out && required) {
    error = std::string(name) + " is missing";
    return false;
  }
  return true;
}

// ---- Callbacks ----------------------------------------------------------------------------

void CUPTIAPI OnResourceCallback(void*, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                                 const void*) {
  // A context is going away: its records must be flushed while it still exists.
  if (domain == CUPTI_CB_DOMAIN_RESOURCE && cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING &&
      g_usable.load() && g_api.activity_flush_all)
    g_api.activity_flush_all(0);
}

class CuptiSource : public Source {
 public:
  void OnFlush(bool final) override {
    if (!g_usable.load() || !g_api.activity_flush_all) return;
    g_api.activity_flush_all(final ? CUPTI_ACTIVITY_FLAG_FLUSH_FORCED : 0);
  }
  void OnForkChild() override { g_usable.store(false); }  // never touch CUDA after fork
};

std::string ResultString(CUptiResult r) {
  const char* s = nullptr;
  if (g_api.get_result_string) g_api.get_result_string(r, &s);
  return std::to_string(static_cast<int>(r)) + (s ? std::string(" ") + s : std::string());
}

}  // namespace

bool LoadCuptiApi(CuptiApi& api, std::string& where, std::string& error) {
  std::string candidates[8];
  size_t n = 0;
  if (const char* env = std::getenv("TEYE_CUPTI_LIBRARY"); env && *env) candidates[n++] = env;
  if (std::string loaded = FindLoadedCupti(); !loaded.empty()) candidates[n++] = loaded;
  candidates[n++] = "libcupti.so.13";
  candidates[n++] = "libcupti.so.12";
  candidates[n++] = "libcupti.so";
  if (const char* home = std::getenv("CUDA_HOME"); home && *home)
    candidates[n++] = std::string(home) + "/lib64/libcupti.so";
  if (*TEYE_CUPTI_DEFAULT_PATH) candidates[n++] = TEYE_CUPTI_DEFAULT_PATH;
  candidates[n++] = "/usr/local/cuda/lib64/libcupti.so";
  void* lib = nullptr;
  for (size_t i = 0; i < n && !lib; ++i) {
    lib = dlopen(candidates[i].c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (lib) where = candidates[i];
  }
  if (!lib) {
    error = "libcupti.so not found (set TEYE_CUPTI_LIBRARY)";
    return false;
  }
  return Resolve(lib, "cuptiActivityRegisterCallbacks", api.activity_register_callbacks, true,
                 error) &&
         Resolve(lib, "cuptiActivityEnable", api.activity_enable, true, error) &&
         Resolve(lib, "cuptiActivityDisable", api.activity_disable, false, error) &&
         Resolve(lib, "cuptiActivityGetNextRecord", api.activity_get_next_record, true, error) &&
         Resolve(lib, "cuptiActivityGetNumDroppedRecords", api.activity_get_num_dropped_records,
                 true, error) &&
         Resolve(lib, "cuptiActivityFlushAll", api.activity_flush_all, true, error) &&
         Resolve(lib, "cuptiGetTimestamp", api.get_timestamp, true, error) &&
         Resolve(lib, "cuptiGetResultString", api.get_result_string, false, error) &&
         Resolve(lib, "cuptiGetCallbackName", api.get_callback_name, false, error) &&
         Resolve(lib, "cuptiSubscribe", api.subscribe, false, error) &&
         Resolve(lib, "cuptiEnableCallback", api.enable_callback, false, error) &&
         Resolve(lib, "cuptiGetVersion", api.get_version, false, error);
}

namespace cupti {

void CUPTIAPI OnBufferRequested(uint8_t** buffer, size_t* size, size_t* max_num_records) {
  if (max_num_records) *max_num_records = 0;
  if (!buffer || !size) return;
  *buffer = nullptr;
  *size = 0;
  Collector* c = Collector::Active();
  if (g_outstanding_buffers.load() >= g_max_buffers) {
    if (c) c->stats().cupti_buffers_refused.fetch_add(1, std::memory_order_relaxed);
    return;  // CUPTI drops records and counts them
  }
  void* mem = std::aligned_alloc(8, g_buffer_bytes);
  if (!mem) return;
  g_outstanding_buffers.fetch_add(1);
  *buffer = static_cast<uint8_t*>(mem);
  *size = g_buffer_bytes;
}

void CUPTIAPI OnBufferCompleted(CUcontext context, uint32_t stream_id, uint8_t* buffer,
                                size_t /*size*/, size_t valid_size) {
  Converter* conv = g_converter.load(std::memory_order_acquire);
  if (conv) {
    try {
      conv->ProcessBuffer(context, stream_id, buffer, valid_size);
    } catch (...) {
      // Out of memory while converting: the buffer's remaining records are lost, the job is not.
    }
  }
  std::free(buffer);
  if (g_outstanding_buffers.load() > 0) g_outstanding_buffers.fetch_sub(1);
}

void InstallForTest(Collector& c, const CuptiApi& api, int64_t offset_ns) {
  g_api = api;
  delete g_converter.exchange(new Converter(c, api, offset_ns));
}

}  // namespace cupti

bool CuptiBuiltIn() {
  return true;
}

bool CuptiStart(Collector& c, const char* trigger) {
  static std::atomic<bool> started{false};
  if (started.exchange(true)) return g_usable.load();
  if (c.is_forked_child()) return false;
  const char* impact =
      "GPU kernels, copies and CUDA API calls are not recorded; NVTX ranges, I/O and CPU samples "
      "still are";
  std::string where, error;
  CuptiApi api;
  if (!LoadCuptiApi(api, where, error)) {
    c.SetCuptiStatus("unavailable: " + error);
    Log("CUPTI is not available (%s): %s", error.c_str(), impact);
    return false;
  }
  g_api = api;
  g_buffer_bytes = static_cast<size_t>(c.config().cupti_buffer_kb) << 10;
  g_max_buffers = static_cast<int>(c.config().cupti_max_buffers);

  // CUPTI and host timestamps are both CLOCK_REALTIME here; measure the offset anyway.
  uint64_t cupti_now = 0;
  int64_t offset = 0;
  const int64_t before = RealtimeNs();
  if (api.get_timestamp(&cupti_now) == CUPTI_SUCCESS && cupti_now) {
    const int64_t after = RealtimeNs();
    offset = before + (after - before) / 2 - static_cast<int64_t>(cupti_now);
    if (offset > -1000000 && offset < 1000000) offset = 0;  // same clock: keep exact values
  }
  auto* conv = new (std::nothrow) Converter(c, api, offset);
  if (!conv) return false;
  g_converter.store(conv, std::memory_order_release);

  CUptiResult r =
      api.activity_register_callbacks(cupti::OnBufferRequested, cupti::OnBufferCompleted);
  if (r == CUPTI_SUCCESS) r = api.activity_enable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  if (r != CUPTI_SUCCESS) {
    const std::string reason =
        ResultString(r) + (r == CUPTI_ERROR_UNKNOWN ? " (no GPU or driver?)" : "");
    c.SetCuptiStatus("unavailable: cuptiActivityEnable failed: " + reason);
    Log("CUPTI is not available (cuptiActivityEnable: %s, %s): %s", reason.c_str(), where.c_str(),
        impact);
    return false;
  }
  std::string missing;
  auto enable = [&](CUpti_ActivityKind kind, const char* name) {
    if (api.activity_enable(kind) != CUPTI_SUCCESS)
      missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  enable(CUPTI_ACTIVITY_KIND_MEMCPY, "memcpy");
  enable(CUPTI_ACTIVITY_KIND_MEMCPY2, "peer memcpy");
  enable(CUPTI_ACTIVITY_KIND_MEMSET, "memset");
  enable(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, "synchronization");
  if (c.config().cupti_runtime != RuntimeApiMode::kOff)
    enable(CUPTI_ACTIVITY_KIND_RUNTIME, "runtime API");
  if (c.config().cupti_driver != DriverApiMode::kOff)
    enable(CUPTI_ACTIVITY_KIND_DRIVER, "driver API");
  enable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION, "external correlation");
  enable(CUPTI_ACTIVITY_KIND_OVERHEAD, "overhead");
  enable(CUPTI_ACTIVITY_KIND_CONTEXT, "context");
  if (c.config().cupti_graph_trace) enable(CUPTI_ACTIVITY_KIND_GRAPH_TRACE, "graph trace");
  api.activity_enable(CUPTI_ACTIVITY_KIND_DEVICE);  // not enableable on every CUPTI: fine

  if (api.subscribe && api.enable_callback) {
    CUpti_SubscriberHandle subscriber = nullptr;
    CUptiResult s = api.subscribe(
        &subscriber, reinterpret_cast<CUpti_CallbackFunc>(OnResourceCallback), nullptr);
    if (s == CUPTI_SUCCESS) {
      api.enable_callback(1, subscriber, CUPTI_CB_DOMAIN_RESOURCE,
                          CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING);
    } else if (s == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
      Log("another CUPTI client is attached (Nsight, or the PyTorch profiler?): teye records "
          "activity but cannot flush at context teardown");
    }
  }
  g_usable.store(true);
  c.AddSource(new CuptiSource);  // lives as long as the process, like the collector
  c.SetCuptiStatus(missing.empty() ? "recording" : "recording (not available: " + missing + ")");
  (void)trigger;
  return true;
}

}  // namespace teye::collector
