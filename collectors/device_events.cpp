// TraceWriter: device activity (kernels, copies, memsets, synchronization, CUDA API calls,
// overhead, graphs) and the launch -> kernel flows, with Kineto's names and args.
#include <cstdio>
#include <cstring>

#include "nccl_names.h"
#include "trace_writer.h"

namespace teye::collector {
namespace {

// Kineto's spellings, indexed by CUPTI's copy and memory kind numbers.
constexpr std::string_view kCopyKinds[] = {"Unknown", "HtoD", "DtoH", "HtoA", "AtoH", "AtoA",
                                           "AtoD",    "DtoA", "DtoD", "HtoH", "PtoP"};
constexpr std::string_view kMemoryKinds[] = {"Unknown",       "Pageable",      "Pinned",
                                             "Device",        "Array",         "Managed",
                                             "Device Static", "Managed Static"};
constexpr std::string_view kMemoryKindArgs[] = {"unknown",       "pageable",      "pinned",
                                                "device",        "array",         "managed",
                                                "device_static", "managed_static"};

std::string_view CopyKindName(uint8_t k) {
  return k < std::size(kCopyKinds) ? kCopyKinds[k] : "Unknown";
}
std::string_view MemoryKindName(unsigned k) {
  return k < std::size(kMemoryKinds) ? kMemoryKinds[k] : "Unknown";
}
std::string_view MemoryKindArg(unsigned k) {
  return k < std::size(kMemoryKindArgs) ? kMemoryKindArgs[k] : "unknown";
}

std::string_view SyncName(SyncType t) {
  switch (t) {
    case SyncType::kEvent:
      return "Event Sync";
    case SyncType::kStreamWaitEvent:
      return "Stream Wait Event";
    case SyncType::kStream:
      return "Stream Sync";
    case SyncType::kContext:
      return "Context Sync";
    case SyncType::kUnknown:
      break;
  }
  return "Unknown Sync";
}

std::string_view OverheadName(uint32_t kind) {
  switch (kind) {
    case 1:
      return "Driver Compiler";
    case 1u << 16:
      return "CUPTI Buffer Flush";
    case 2u << 16:
      return "CUPTI Instrumentation";
    case 3u << 16:
      return "CUPTI Resource";
    case 4u << 16:
      return "Runtime Triggered Module Loading";
    case 5u << 16:
      return "Lazy Function Loading";
    case 6u << 16:
      return "Command Buffer Full";
    case 7u << 16:
      return "Activity Buffer Request";
    case 8u << 16:
      return "UVM Activity Init";
    default:
      return "Overhead";
  }
}

}  // namespace

void TraceWriter::NoteGpuTrack(int32_t device, uint32_t stream) {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(device)) << 32) | stream;
  if (key == last_gpu_track_) return;
  last_gpu_track_ = key;
  gpu_tracks_.insert(key);
}

void TraceWriter::FlowEnd(uint32_t correlation, int32_t device, uint32_t stream, int64_t ts_ns) {
  if (correlation == 0) return;
  BeginEvent();
  out_.Lit("\"ph\":\"f\",\"id\":");
  out_.U64(correlation);
  out_.Lit(",\"pid\":");
  out_.I64(device);
  out_.Lit(",\"tid\":");
  out_.I64(stream);
  out_.Lit(",\"ts\":");
  out_.TimeUs(ts_ns);
  out_.Lit(",\"cat\":\"ac2g\",\"name\":\"ac2g\",\"bp\":\"e\"}");
}

// The args every device activity carries, as PyTorch's profiler writes them.
void TraceWriter::DeviceOpArgs(int32_t device, uint64_t context, uint64_t stream,
                               uint64_t correlation, uint64_t external_id) {
  out_.Lit("\"device\":");
  out_.I64(device);
  out_.Lit(",\"context\":");
  out_.U64(context);
  out_.Lit(",\"stream\":");
  out_.U64(stream);
  out_.Lit(",\"correlation\":");
  out_.U64(correlation);
  if (external_id) {
    out_.Lit(",\"External id\":");
    out_.U64(external_id);
  }
}

// A copy's or memset's size and achieved bandwidth (bytes per ns = GB/s).
void TraceWriter::BytesArgs(uint64_t bytes, int64_t start, int64_t end) {
  out_.Lit(",\"bytes\":");
  out_.U64(bytes);
  if (end > start) {
    out_.Lit(",\"memory bandwidth (GB/s)\":");
    out_.Double(static_cast<double>(bytes) / static_cast<double>(end - start));
  }
}

void TraceWriter::WriteKernel(const KernelRecord& r) {
  ++counts_.gpu_events;
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  NoteGpuTrack(r.device, r.stream);
  std::string_view name = Escaped(r.name_id);
  Common("X", "kernel", name.empty() ? std::string_view("<unknown kernel>") : name, r.device,
         r.stream, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{");
  if (r.queued) {
    out_.Lit("\"queued\":");
    out_.U64(r.queued);
    out_.Char(',');
  }
  DeviceOpArgs(r.device, r.context, r.stream, r.correlation, r.external_id);
  out_.Lit(",\"registers per thread\":");
  out_.U64(r.registers);
  out_.Lit(",\"shared memory\":");
  out_.I64(static_cast<int64_t>(r.static_shared) + r.dynamic_shared);
  const int64_t blocks = static_cast<int64_t>(r.grid[0]) * r.grid[1] * r.grid[2];
  const int64_t threads = static_cast<int64_t>(r.block[0]) * r.block[1] * r.block[2];
  if (r.device >= 0 && static_cast<size_t>(r.device) < sms_by_device_.size() &&
      sms_by_device_[r.device] > 0) {
    const double sms = sms_by_device_[r.device];
    out_.Lit(",\"blocks per SM\":");
    out_.Double(static_cast<double>(blocks) / sms);
    out_.Lit(",\"warps per SM\":");
    out_.Double(static_cast<double>(blocks) * static_cast<double>((threads + 31) / 32) / sms);
  }
  out_.Lit(",\"grid\":[");
  out_.I64(r.grid[0]);
  out_.Char(',');
  out_.I64(r.grid[1]);
  out_.Char(',');
  out_.I64(r.grid[2]);
  out_.Lit("],\"block\":[");
  out_.I64(r.block[0]);
  out_.Char(',');
  out_.I64(r.block[1]);
  out_.Char(',');
  out_.I64(r.block[2]);
  out_.Char(']');
  if (r.graph_id) {
    out_.Lit(",\"graph id\":");
    out_.U64(r.graph_id);
    out_.Lit(",\"graph node id\":");
    out_.U64(r.graph_node_id);
  }
  if (name.size() > 4 && name[0] == 'n' && name.substr(0, 4) == "nccl") {
    NcclKernelInfo info;
    if (ParseNcclKernelName(strings_.Get(r.name_id), info)) {
      if (!info.collective.empty()) {
        out_.Lit(",\"Collective name\":\"");
        out_.Raw(info.collective);
        out_.Char('"');
      }
      if (!info.dtype.empty()) {
        out_.Lit(",\"dtype\":\"");
        out_.Raw(info.dtype);
        out_.Char('"');
      }
      if (!info.algorithm.empty()) {
        out_.Lit(",\"algorithm\":\"");
        out_.Raw(info.algorithm);
        out_.Char('"');
      }
      if (!info.protocol.empty()) {
        out_.Lit(",\"protocol\":\"");
        out_.Raw(info.protocol);
        out_.Char('"');
      }
    }
  }
  out_.Lit("}}");
  FlowEnd(r.correlation, r.device, r.stream, start);
}

void TraceWriter::WriteMemcpy(const MemcpyRecord& r) {
  ++counts_.gpu_events;
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  NoteGpuTrack(r.device, r.stream);
  char name[96];
  int n = std::snprintf(
      name, sizeof name, "Memcpy %.*s (%.*s -> %.*s)",
      static_cast<int>(CopyKindName(r.copy_kind).size()), CopyKindName(r.copy_kind).data(),
      static_cast<int>(MemoryKindName(r.src_kind).size()), MemoryKindName(r.src_kind).data(),
      static_cast<int>(MemoryKindName(r.dst_kind).size()), MemoryKindName(r.dst_kind).data());
  Common("X", "gpu_memcpy", std::string_view(name, n > 0 ? static_cast<size_t>(n) : 0), r.device,
         r.stream, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{");
  DeviceOpArgs(r.device, r.context, r.stream, r.correlation, r.external_id);
  BytesArgs(r.bytes, start, end);
  out_.Lit(",\"copy_kind\":\"");
  out_.Raw(CopyKindName(r.copy_kind));
  out_.Lit("\",\"src_kind\":\"");
  out_.Raw(MemoryKindArg(r.src_kind));
  out_.Lit("\",\"dst_kind\":\"");
  out_.Raw(MemoryKindArg(r.dst_kind));
  out_.Lit("\",\"async\":");
  out_.Raw(r.async ? std::string_view("true") : std::string_view("false"));
  if (r.src_device >= 0) {
    out_.Lit(",\"src_device\":");
    out_.I64(r.src_device);
    out_.Lit(",\"dst_device\":");
    out_.I64(r.dst_device);
  }
  if (r.graph_id) {
    out_.Lit(",\"graph id\":");
    out_.U64(r.graph_id);
  }
  out_.Lit("}}");
  FlowEnd(r.correlation, r.device, r.stream, start);
}

void TraceWriter::WriteMemset(const MemsetRecord& r) {
  ++counts_.gpu_events;
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  NoteGpuTrack(r.device, r.stream);
  char name[48];
  int n = std::snprintf(name, sizeof name, "Memset (%.*s)",
                        static_cast<int>(MemoryKindName(r.memory_kind).size()),
                        MemoryKindName(r.memory_kind).data());
  Common("X", "gpu_memset", std::string_view(name, n > 0 ? static_cast<size_t>(n) : 0), r.device,
         r.stream, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{");
  DeviceOpArgs(r.device, r.context, r.stream, r.correlation, r.external_id);
  BytesArgs(r.bytes, start, end);
  out_.Lit(",\"memory_kind\":\"");
  out_.Raw(MemoryKindArg(r.memory_kind));
  out_.Lit("\",\"value\":");
  out_.U64(r.value);
  out_.Lit(",\"async\":");
  out_.Raw(r.async ? std::string_view("true") : std::string_view("false"));
  out_.Lit("}}");
  FlowEnd(r.correlation, r.device, r.stream, start);
}

void TraceWriter::WriteSync(const SyncRecord& r) {
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  const bool has_stream = r.stream != kNoStream;
  const int32_t device = r.device >= 0 ? r.device : 0;
  if (has_stream) NoteGpuTrack(device, r.stream);
  const std::string_view name = SyncName(r.type);
  Common("X", "cuda_sync", name, device, has_stream ? r.stream : 0, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{\"cuda_sync_kind\":\"");
  out_.Raw(name);
  out_.Lit("\",\"device\":");
  out_.I64(device);
  out_.Lit(",\"context\":");
  out_.U64(r.context);
  out_.Lit(",\"stream\":");
  out_.I64(has_stream ? static_cast<int64_t>(r.stream) : -1);
  out_.Lit(",\"correlation\":");
  out_.U64(r.correlation);
  if (r.type == SyncType::kEvent || r.type == SyncType::kStreamWaitEvent) {
    out_.Lit(",\"wait_on_cuda_event_id\":");
    out_.U64(r.event_id);
  }
  out_.Lit("}}");
}

void TraceWriter::WriteApi(const ApiRecord& r) {
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  std::string_view name = Escaped(r.name_id);
  Common("X", r.domain == ApiDomain::kRuntime ? "cuda_runtime" : "cuda_driver",
         name.empty() ? std::string_view("<unknown api>") : name, id_.pid, r.h.tid, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{\"cbid\":");
  out_.U64(r.cbid);
  out_.Lit(",\"correlation\":");
  out_.U64(r.correlation);
  if (r.external_id) {
    out_.Lit(",\"External id\":");
    out_.U64(r.external_id);
  }
  if (r.return_value) {
    out_.Lit(",\"return\":");
    out_.U64(r.return_value);
  }
  out_.Lit("}}");
  if (r.launches_work && r.correlation) {
    BeginEvent();
    out_.Lit("\"ph\":\"s\",\"id\":");
    out_.U64(r.correlation);
    out_.Lit(",\"pid\":");
    out_.I64(id_.pid);
    out_.Lit(",\"tid\":");
    out_.I64(r.h.tid);
    out_.Lit(",\"ts\":");
    out_.TimeUs(start);
    out_.Lit(",\"cat\":\"ac2g\",\"name\":\"ac2g\"}");
  }
}

void TraceWriter::WriteOverhead(const OverheadRecord& r) {
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  Common("X", "overhead", OverheadName(r.kind), id_.pid, r.h.tid ? r.h.tid : id_.pid, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{\"overhead kind\":");
  out_.U64(r.kind);
  if (r.device >= 0) {
    out_.Lit(",\"device\":");
    out_.I64(r.device);
  }
  out_.Lit("}}");
}

void TraceWriter::WriteGraph(const GraphRecord& r) {
  const auto start = static_cast<int64_t>(r.start);
  const auto end = static_cast<int64_t>(r.end);
  NoteGpuTrack(r.device, r.stream);
  char name[48];
  int n = std::snprintf(name, sizeof name, "CUDA Graph #%u", r.graph_id);
  Common("X", "gpu_user_annotation", std::string_view(name, n > 0 ? static_cast<size_t>(n) : 0),
         r.device, r.stream, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{\"graph id\":");
  out_.U64(r.graph_id);
  out_.Lit(",\"device\":");
  out_.I64(r.device);
  out_.Lit(",\"context\":");
  out_.U64(r.context);
  out_.Lit(",\"stream\":");
  out_.U64(r.stream);
  out_.Lit(",\"correlation\":");
  out_.U64(r.correlation);
  out_.Lit("}}");
}

}  // namespace teye::collector
