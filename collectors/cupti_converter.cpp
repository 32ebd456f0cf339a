// CUPTI activity records → teye records (see cupti_converter.h).
#include "cupti_converter.h"

#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <new>
#include <string>
#include <string_view>

#include "clock.h"
#include "collector.h"
#include "cupti_api.h"
#include "cupti_multiplex.h"
#include "log.h"
#include "signal_safe_lock.h"

namespace teye::collector::cupti {

uint32_t InternKernelName(StringTable& strings, const char* name) {
  const size_t len = strnlen(name, 1 << 16);
  if (len > 2 && name[0] == '_' && name[1] == 'Z' && len < 4096) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    const uint32_t id = status == 0 && demangled ? strings.Intern(demangled) : 0;
    std::free(demangled);
    if (id) return id;
  }
  return strings.Intern(std::string_view(name, len));
}

std::string_view ApiBaseName(std::string_view name) {
  // CUPTI appends the API version ("cudaLaunchKernel_v7000"); Kineto and users use the name.
  if (size_t v = name.rfind("_v");
      v != std::string_view::npos && v + 2 < name.size() &&
      name.find_first_not_of("0123456789", v + 2) == std::string_view::npos)
    return name.substr(0, v);
  return name;
}

bool IsLaunchApi(std::string_view name) {
  for (std::string_view prefix : {"cudaLaunch", "cudaMemcpy", "cudaMemset", "cudaGraphLaunch",
                                  "cuLaunch", "cuMemcpy", "cuMemset", "cuGraphLaunch"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

bool IsNoisyRuntimeApi(std::string_view name) {
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
    if (name == noise) return true;
  return false;
}

enum class ApiDecision : uint8_t { kUnknown, kDrop, kKeep, kKeepLaunch };

class ConverterImpl final : public Converter {
 public:
  ConverterImpl(Collector& c, const CuptiApi& api, int64_t offset_ns)
      : c_(c), api_(api), offset_ns_(offset_ns) {
    ext_.resize(kExtSlots);
  }

  void ProcessBuffer(CUcontext context, uint32_t stream_id, uint8_t* buffer,
                     size_t valid_size) override {
    SignalSafeLock lock(mutex_);  // the end of the trace may wait for it (signal_safe_lock.h)
    UpdateClock();
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

  // CUPTI's timestamps are CLOCK_REALTIME ns, unless the job's profiler registered its own
  // clock (Kineto registers the TSC): then they are mapped through clock_.
  int64_t Ns(uint64_t cupti_ts) const {
    if (clock_.mapped)
      return clock_.realtime0 + static_cast<int64_t>(static_cast<double>(static_cast<int64_t>(
                                                         cupti_ts - clock_.ticks0)) *
                                                     clock_.ns_per_tick);
    return static_cast<int64_t>(cupti_ts) + offset_ns_;
  }

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
    const uint32_t id = InternKernelName(c_.strings(), name);
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
    name = ApiBaseName(name);
    std::string fallback;
    if (name.empty()) {
      fallback = (runtime ? "cudaRuntimeApi#" : "cuDriverApi#") + std::to_string(cbid);
      name = fallback;
    }
    const bool launches = IsLaunchApi(name);
    ApiDecision d = launches ? ApiDecision::kKeepLaunch : ApiDecision::kKeep;
    const Config& cfg = c_.config();
    if (runtime && cfg.cupti_runtime == RuntimeApiMode::kFiltered) {
      if (IsNoisyRuntimeApi(name)) d = ApiDecision::kDrop;
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

  // The fields CUPTI's memcpy, peer-to-peer memcpy and memset records share.
  template <typename CuptiRecord, typename Record>
  void FillStreamOp(const CuptiRecord& m, Record* r) {
    r->start = static_cast<uint64_t>(Ns(m.start));
    r->end = static_cast<uint64_t>(Ns(m.end));
    r->bytes = m.bytes;
    r->external_id = ExternalId(m.correlationId);
    r->device = static_cast<int32_t>(m.deviceId);
    r->context = m.contextId;
    r->stream = m.streamId;
    r->correlation = m.correlationId;
    r->graph_id = m.graphId;
  }

  template <typename CuptiMemcpy>
  void FillMemcpy(const CuptiMemcpy& m, MemcpyRecord* r) {
    FillStreamOp(m, r);
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
    FillStreamOp(m, r);
    r->value = m.value;
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
    p.regs_per_sm = static_cast<int>(d.maxRegistersPerMultiprocessor);
    p.max_blocks_per_sm = static_cast<int>(d.maxBlocksPerMultiprocessor);
    p.clock_khz = static_cast<int>(d.coreClockRate);
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

  // Follows the timestamp source the job registered: the first sample of each new source is
  // the origin, a 200 µs pair of samples the first rate, every later buffer a longer baseline.
  void UpdateClock() {
    uint32_t generation = 0;
    CUpti_TimestampCallbackFunc source = JobTimestampSource(&generation);
    if (!source) {
      clock_.mapped = false;
      return;
    }
    const uint64_t ticks = source();
    const int64_t now = RealtimeNs();
    if (!clock_.mapped || generation != clock_.generation) {
      clock_ = ClockMap{};
      clock_.generation = generation;
      clock_.ticks0 = ticks;
      clock_.realtime0 = now;
      uint64_t t2 = ticks;
      int64_t r2 = now;
      while (r2 - now < 200000) {
        t2 = source();
        r2 = RealtimeNs();
      }
      if (t2 > ticks) clock_.ns_per_tick = static_cast<double>(r2 - now) / (t2 - ticks);
      clock_.mapped = true;
      return;
    }
    if (ticks > clock_.ticks0 && now - clock_.realtime0 > 1000000)
      clock_.ns_per_tick = static_cast<double>(now - clock_.realtime0) / (ticks - clock_.ticks0);
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

  struct ClockMap {
    bool mapped = false;
    uint32_t generation = 0;
    uint64_t ticks0 = 0;
    int64_t realtime0 = 0;
    double ns_per_tick = 1.0;
  };

  Collector& c_;
  const CuptiApi api_;
  const int64_t offset_ns_;
  ClockMap clock_;
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

Converter* NewConverter(Collector& c, const CuptiApi& api, int64_t offset_ns) {
  return new (std::nothrow) ConverterImpl(c, api, offset_ns);
}

}  // namespace teye::collector::cupti
