#include "trace_writer.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>

#include "clock.h"
#include "nccl_names.h"
#include "raw_io.h"
#include "version.h"

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

std::string_view IoOpName(IoOp op) {
  switch (op) {
    case IoOp::kRead:
      return "read";
    case IoOp::kPread:
      return "pread";
    case IoOp::kReadv:
      return "readv";
    case IoOp::kPreadv:
      return "preadv";
    case IoOp::kRecv:
      return "recv";
    case IoOp::kRecvfrom:
      return "recvfrom";
    case IoOp::kFread:
      return "fread";
    case IoOp::kOpen:
      return "open";
  }
  return "io";
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

struct CounterInfo {
  std::string_view name;
  bool per_device;
};
CounterInfo CounterName(CounterId id) {
  switch (id) {
    case CounterId::kCpuUtilization:
      return {"CPU Utilization (%)", false};
    case CounterId::kHostRss:
      return {"Host Memory RSS (bytes)", false};
    case CounterId::kReadRate:
      return {"Read Rate (bytes/s)", false};
    case CounterId::kWriteRate:
      return {"Write Rate (bytes/s)", false};
    case CounterId::kGpuUtilization:
      return {"GPU Utilization (%)", true};
    case CounterId::kGpuMemoryUsed:
      return {"GPU Memory Used (bytes)", true};
    case CounterId::kGpuSmClock:
      return {"SM Clock (MHz)", true};
    case CounterId::kGpuMemoryUtilization:
      return {"GPU Memory Busy (%)", true};
    case CounterId::kRunQueueWait:
      return {"Run Queue Wait (%)", false};
  }
  return {"Counter", false};
}

std::string_view RangeCategoryName(RangeCategory c) {
  switch (c) {
    case RangeCategory::kNvtx:
      return "nvtx";
    case RangeCategory::kUserAnnotation:
      return "user_annotation";
    case RangeCategory::kDataLoader:
      return "dataloader";
  }
  return "nvtx";
}

constexpr size_t kFlushBytes = size_t{2} << 20;

// Thread ids for NCCL communicator tracks: far above any Linux tid (pid_max <= 2^22).
constexpr int64_t kNcclTrackBase = 1'000'000'000;
constexpr int kNcclLanes = 8;

}  // namespace

std::string TraceFileName(std::string_view host, int pid, int rank) {
  std::string name;
  if (rank >= 0) {
    name.append("rank").append(std::to_string(rank)).push_back('.');
  }
  for (char c : host)
    name.push_back((c == '/' || c == ' ') ? '_' : c);
  if (host.empty()) name.append("host");
  name.push_back('.');
  name.append(std::to_string(pid)).append(".pt.trace.json");
  return name;
}

TraceWriter::TraceWriter(const StringTable& strings, std::string output_dir)
    : strings_(strings), output_dir_(std::move(output_dir)) {}

void TraceWriter::Reset(const ProcessIdentity& id, std::string trace_name) {
  id_ = id;
  trace_name_ = std::move(trace_name);
  out_.clear();
  if (fd_ >= 0) raw::Close(fd_);  // a forked child's copy; the parent's file is untouched
  fd_ = -1;
  failed_ = false;
  events_ = 0;
  io_events_ = 0;
  partial_path_.clear();
  named_threads_.clear();
  gpu_tracks_.clear();
  last_gpu_track_ = ~uint64_t{0};
}

void TraceWriter::SetDevices(const std::vector<DeviceProps>& devices) {
  for (const auto& d : devices) {
    if (d.id < 0 || d.id > 4096) continue;
    if (sms_by_device_.size() <= static_cast<size_t>(d.id)) sms_by_device_.resize(d.id + 1, 0);
    sms_by_device_[d.id] = d.num_sms;
  }
}

std::string_view TraceWriter::Escaped(uint32_t id) {
  if (id == 0) return {};
  if (id >= escaped_.size()) escaped_.resize(static_cast<size_t>(id) + 1024);
  std::string& e = escaped_[id];
  if (e.empty()) {
    std::string_view s = strings_.Get(id);
    if (s.empty()) return {};
    AppendEscaped(e, s);
  }
  return e;
}

// The file always starts with the process_name event (OpenFile), so every event after it is
// comma-separated.
void TraceWriter::BeginEvent() {
  out_.Lit(",\n{");
  ++events_;
}

void TraceWriter::Common(const char* ph, std::string_view cat, std::string_view name_escaped,
                         int64_t pid, int64_t tid, int64_t ts_ns) {
  BeginEvent();
  out_.Lit("\"ph\":\"");
  out_.Raw(ph, std::strlen(ph));
  out_.Lit("\",\"cat\":\"");
  out_.Raw(cat);
  out_.Lit("\",\"name\":\"");
  out_.Raw(name_escaped);
  out_.Lit("\",\"pid\":");
  out_.I64(pid);
  out_.Lit(",\"tid\":");
  out_.I64(tid);
  out_.Lit(",\"ts\":");
  out_.TimeUs(ts_ns);
}

void TraceWriter::WriteMetadata(const char* what, int64_t pid, int64_t tid, std::string_view key,
                                std::string_view value, bool value_is_number) {
  BeginEvent();
  FormatMetadata(out_, what, pid, tid, key, value, value_is_number);
}

void TraceWriter::FormatMetadata(JsonOut& o, const char* what, int64_t pid, int64_t tid,
                                 std::string_view key, std::string_view value,
                                 bool value_is_number) {
  o.Lit("\"name\":\"");
  o.Raw(what, std::strlen(what));
  o.Lit("\",\"ph\":\"M\",\"ts\":0,\"pid\":");
  o.I64(pid);
  o.Lit(",\"tid\":");
  o.I64(tid);
  o.Lit(",\"args\":{\"");
  o.Raw(key);
  o.Lit("\":");
  if (value_is_number) {
    o.Raw(value);
  } else {
    o.String(value);
  }
  o.Lit("}}");
}

void TraceWriter::NameThread(uint32_t tid, std::string_view name) {
  if (!named_threads_.insert(tid).second) return;
  std::string label(name.empty() ? "thread" : name);
  label += " (" + std::to_string(tid) + ")";
  WriteMetadata("thread_name", id_.pid, tid, "name", label);
}

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

void TraceWriter::Write(const RecordHeader& h) {
  // The text buffer stays small (and warm in cache): it goes to the file every few MiB.
  if (out_.size() > kFlushBytes) FlushToFile();
  switch (h.type) {
    case RecordType::kIo:
      return WriteIo(reinterpret_cast<const IoRecord&>(h));
    case RecordType::kRange:
      return WriteRange(reinterpret_cast<const RangeRecord&>(h));
    case RecordType::kCounter:
      return WriteCounter(reinterpret_cast<const CounterRecord&>(h));
    case RecordType::kKernel:
      return WriteKernel(reinterpret_cast<const KernelRecord&>(h));
    case RecordType::kMemcpy:
      return WriteMemcpy(reinterpret_cast<const MemcpyRecord&>(h));
    case RecordType::kMemset:
      return WriteMemset(reinterpret_cast<const MemsetRecord&>(h));
    case RecordType::kSync:
      return WriteSync(reinterpret_cast<const SyncRecord&>(h));
    case RecordType::kApi:
      return WriteApi(reinterpret_cast<const ApiRecord&>(h));
    case RecordType::kOverhead:
      return WriteOverhead(reinterpret_cast<const OverheadRecord&>(h));
    case RecordType::kGraph:
      return WriteGraph(reinterpret_cast<const GraphRecord&>(h));
    case RecordType::kCollective:
      return WriteCollective(reinterpret_cast<const CollectiveRecord&>(h));
    case RecordType::kThreadName:
      return WriteThreadName(reinterpret_cast<const ThreadNameRecord&>(h));
    case RecordType::kKernelCounters:
      return WriteKernelCounters(reinterpret_cast<const KernelCountersRecord&>(h));
  }
}

void TraceWriter::WriteIo(const IoRecord& r) {
  ++io_events_;
  const int64_t start = TickClock::ToNs(r.start);
  const int64_t end = TickClock::ToNs(r.end);
  Common("X", "io", IoOpName(r.op), id_.pid, r.h.tid, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{\"fd\":");
  if (r.op == IoOp::kOpen) {
    out_.I64(r.result);
  } else {
    out_.I64(r.fd);
    out_.Lit(",\"bytes\":");
    out_.I64(r.result > 0 ? r.result : 0);
  }
  if (std::string_view path = Escaped(r.path); !path.empty()) {
    out_.Lit(",\"path\":\"");
    out_.Raw(path);
    out_.Char('"');
  }
  if (r.result < 0) {
    out_.Lit(",\"errno\":");
    out_.I64(r.error);
  }
  out_.Lit("}}");
}

void TraceWriter::WriteRange(const RangeRecord& r) {
  const bool ns = r.h.flags & kFlagTimeNs;
  const int64_t start = ns ? static_cast<int64_t>(r.start) : TickClock::ToNs(r.start);
  const int64_t end = ns ? static_cast<int64_t>(r.end) : TickClock::ToNs(r.end);
  const bool instant = r.range_flags & kRangeInstant;
  BeginEvent();
  out_.Lit("\"ph\":\"");
  out_.Char(instant ? 'i' : 'X');
  out_.Lit("\",\"cat\":\"");
  out_.Raw(RangeCategoryName(r.category));
  out_.Lit("\",\"name\":\"");
  if (r.name_id) {
    out_.Raw(Escaped(r.name_id));
  } else {
    out_.Escaped(std::string_view(r.text(), r.name_len));
  }
  out_.Lit("\",\"pid\":");
  out_.I64(id_.pid);
  out_.Lit(",\"tid\":");
  out_.I64(r.h.tid);
  out_.Lit(",\"ts\":");
  out_.TimeUs(start);
  if (instant) {
    out_.Lit(",\"s\":\"t\"");
  } else {
    out_.Lit(",\"dur\":");
    out_.TimeUs(end > start ? end - start : 0);
  }
  out_.Lit(",\"args\":{");
  bool comma = false;
  auto key = [&](std::string_view k) {
    if (comma) out_.Char(',');
    comma = true;
    out_.Char('"');
    out_.Raw(k);
    out_.Lit("\":");
  };
  if (std::string_view domain = Escaped(r.domain); !domain.empty()) {
    key("domain");
    out_.Char('"');
    out_.Raw(domain);
    out_.Char('"');
  }
  if (r.nvtx_category) {
    key("category");
    out_.U64(r.nvtx_category);
  }
  if (r.range_flags & kRangeHasColor) {
    key("color");
    char buf[12];
    std::snprintf(buf, sizeof buf, "\"#%08x\"", r.color);
    out_.Raw(buf, 11);
  }
  if (r.range_flags & kRangeHasPayload) {
    key("payload");
    switch (r.payload_type) {
      case PayloadType::kU64:
        out_.U64(r.payload);
        break;
      case PayloadType::kI64:
        out_.I64(static_cast<int64_t>(r.payload));
        break;
      case PayloadType::kU32:
        out_.U64(static_cast<uint32_t>(r.payload));
        break;
      case PayloadType::kI32:
        out_.I64(static_cast<int32_t>(r.payload));
        break;
      case PayloadType::kDouble: {
        double d;
        std::memcpy(&d, &r.payload, sizeof d);
        out_.Double(d);
        break;
      }
      case PayloadType::kFloat: {
        float f;
        uint32_t bits = static_cast<uint32_t>(r.payload);
        std::memcpy(&f, &bits, sizeof f);
        out_.Double(f);
        break;
      }
      case PayloadType::kNone:
        out_.Lit("null");
        break;
    }
  }
  if (r.range_flags & kRangeStartEnd) {
    key("start_end");
    out_.Lit("true");
  }
  if (r.range_flags & kRangeUnclosed) {
    key("unclosed");
    out_.Lit("true");
  }
  if (r.nccl != NcclPayloadKind::kNone) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "\"0x%016llx\"", static_cast<unsigned long long>(r.comm));
    key("comm");
    out_.Raw(hex, std::strlen(hex));
    std::string_view name =
        r.name_id ? strings_.Get(r.name_id) : std::string_view(r.text(), r.name_len);
    if (r.nccl == NcclPayloadKind::kCommInit) {
      key("rank");
      out_.I64(r.rank);
      key("nranks");
      out_.I64(r.nranks);
      key("cuda device");
      out_.I64(r.aux);
    } else {
      key("bytes");
      out_.I64(r.bytes);
      if (!nccl_plugin_active_) {
        if (std::string_view coll = TorchCollectiveName(name); !coll.empty()) {
          key("Collective name");
          out_.String(coll);
        }
      }
      if (r.nranks > 0) {
        key("Group size");
        out_.I64(r.nranks);
      }
      if (r.rank >= 0) {
        key("rank");
        out_.I64(r.rank);
      }
      if (r.nccl == NcclPayloadKind::kP2p) {
        key("peer");
        out_.I64(r.aux);
      } else if (r.aux >= 0) {
        const std::string_view coll = TorchCollectiveName(name);
        if (coll == "broadcast") {
          key("root");
          out_.I64(r.aux);
        } else if (!coll.empty()) {
          key("op");
          out_.String(NcclRedOpName(r.aux));
        }
      }
    }
  }
  out_.Lit("}}");
}

void TraceWriter::WriteCounter(const CounterRecord& r) {
  const CounterInfo info = CounterName(r.id);
  BeginEvent();
  out_.Lit("\"ph\":\"C\",\"name\":\"");
  out_.Raw(info.name);
  out_.Lit("\",\"pid\":");
  out_.I64(info.per_device ? r.device : id_.pid);
  out_.Lit(",\"tid\":0,\"ts\":");
  out_.TimeUs(static_cast<int64_t>(r.time));
  out_.Lit(",\"args\":{\"value\":");
  out_.Double(r.value);
  out_.Lit("}}");
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

void TraceWriter::WriteCollective(const CollectiveRecord& r) {
  const int64_t start = TickClock::ToNs(r.start);
  const int64_t end = TickClock::ToNs(r.end);
  const std::string_view func = strings_.Get(r.func);
  std::string_view label = NcclAnnotationName(func);
  std::string fallback;
  if (label.empty()) {
    fallback = "nccl:" + std::string(func.empty() ? "unknown" : func);
    label = fallback;
  }
  const int64_t tid =
      kNcclTrackBase + static_cast<int64_t>(r.comm_index) * kNcclLanes + (r.lane % kNcclLanes);
  if (named_threads_.insert(static_cast<uint32_t>(tid)).second) {
    char track[96];
    std::string_view comm_name = strings_.Get(r.comm_name);
    std::snprintf(track, sizeof track, "NCCL %.*s%s0x%016llx rank %d/%d lane %u",
                  static_cast<int>(comm_name.size()), comm_name.data(),
                  comm_name.empty() ? "" : " ", static_cast<unsigned long long>(r.comm_hash),
                  r.rank, r.nranks, static_cast<unsigned>(r.lane));
    WriteMetadata("thread_name", id_.pid, tid, "name", track);
  }
  std::string escaped_label;
  AppendEscaped(escaped_label, label);
  Common("X", "user_annotation", escaped_label, id_.pid, tid, start);
  out_.Lit(",\"dur\":");
  out_.TimeUs(end > start ? end - start : 0);
  out_.Lit(",\"args\":{");
  std::string_view coll = TorchCollectiveName(func);
  out_.Lit("\"Collective name\":");
  out_.String(coll.empty() ? func : coll);
  int64_t in_elems, out_elems;
  NcclMessageElements(func, r.count, r.nranks, in_elems, out_elems);
  out_.Lit(",\"In msg nelems\":");
  out_.I64(in_elems);
  out_.Lit(",\"Out msg nelems\":");
  out_.I64(out_elems);
  std::string_view dtype_raw = strings_.Get(r.dtype);
  std::string_view dtype = TorchDtypeName(dtype_raw);
  out_.Lit(",\"dtype\":");
  out_.String(dtype.empty() ? dtype_raw : dtype);
  out_.Lit(",\"Group size\":");
  out_.I64(r.nranks);
  out_.Lit(",\"Process Group Name\":");
  if (std::string_view cn = strings_.Get(r.comm_name); !cn.empty()) {
    out_.String(cn);
  } else {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(r.comm_hash));
    out_.String(hex);
  }
  char hex[24];
  std::snprintf(hex, sizeof hex, "\"0x%016llx\"", static_cast<unsigned long long>(r.comm_hash));
  out_.Lit(",\"comm\":");
  out_.Raw(hex, std::strlen(hex));
  out_.Lit(",\"rank\":");
  out_.I64(r.rank);
  if (r.is_p2p) {
    out_.Lit(",\"peer\":");
    out_.I64(r.peer);
  } else {
    out_.Lit(",\"seq\":");
    out_.U64(r.seq);
    out_.Lit(",\"root\":");
    out_.I64(r.root);
    out_.Lit(",\"algorithm\":");
    out_.String(strings_.Get(r.algo));
    out_.Lit(",\"protocol\":");
    out_.String(strings_.Get(r.proto));
    out_.Lit(",\"nWarps\":");
    out_.U64(r.nwarps);
  }
  out_.Lit(",\"channels\":");
  out_.U64(r.nchannels);
  out_.Lit("}}");
}

void TraceWriter::WriteThreadName(const ThreadNameRecord& r) {
  const std::string_view name(r.text(), r.name_len);
  if (r.h.tid >= 1'000'000'000u) {  // the collector's own tracks carry their full name
    if (named_threads_.insert(r.h.tid).second)
      WriteMetadata("thread_name", id_.pid, r.h.tid, "name", name);
    return;
  }
  named_threads_.erase(r.h.tid);  // an explicit name wins over the one read from the OS
  NameThread(r.h.tid, name);
}

bool TraceWriter::OpenFile() {
  if (!raw::MakeDirs(output_dir_)) return false;
  partial_path_ = output_dir_ + "/" + TraceFileName(id_.host, id_.pid, rank_) + ".partial";
  fd_ = raw::Open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd_ < 0) return false;
  // The process's names come first, so a file cut off later still labels its tracks.
  JsonOut header;
  header.Lit("{\"schemaVersion\":1,\"displayTimeUnit\":\"ms\",\"traceName\":");
  header.String(trace_name_.empty() ? id_.command : trace_name_);
  header.Lit(",\"traceEvents\":[\n{");
  FormatMetadata(header, "process_name", id_.pid, 0, "name",
                 id_.exe.empty() ? std::string_view("process") : std::string_view(id_.exe), false);
  header.Lit(",\n{");
  FormatMetadata(header, "process_labels", id_.pid, 0, "labels", id_.command, false);
  events_ += 2;
  if (!header.ok() || !raw::WriteAll(fd_, header.view().data(), header.size())) {
    raw::Close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool TraceWriter::FlushToFile() {
  if (failed_ || !out_.ok()) {
    failed_ = true;
    out_.clear();
    return false;
  }
  if (out_.size() == 0) return true;
  if (fd_ < 0 && !OpenFile()) {
    failed_ = true;
    out_.clear();
    return false;
  }
  const bool ok = raw::WriteAll(fd_, out_.view().data(), out_.size());
  out_.clear();
  if (!ok) failed_ = true;
  return ok;
}

bool TraceWriter::Finish(const Footer& f, std::string* final_path) {
  // GPU tracks get Kineto-style names: "GPU N" processes, "stream N" threads.
  std::vector<int32_t> devices;
  for (uint64_t key : gpu_tracks_) {
    const auto device = static_cast<int32_t>(key >> 32);
    const auto stream = static_cast<uint32_t>(key);
    bool seen = false;
    for (int32_t d : devices)
      seen |= d == device;
    if (!seen) {
      devices.push_back(device);
      std::string label = "GPU " + std::to_string(device);
      WriteMetadata("process_name", device, 0, "name", label);
      WriteMetadata("process_labels", device, 0, "labels", label);
      WriteMetadata("process_sort_index", device, 0, "sort_index", std::to_string(5000000 + device),
                    true);
    }
    WriteMetadata("thread_name", device, stream, "name", "stream " + std::to_string(stream));
  }
  if (!FlushToFile() || fd_ < 0) {
    if (fd_ >= 0) raw::Close(fd_);
    fd_ = -1;
    return false;
  }
  JsonOut tail;
  tail.Lit("\n]");
  if (!f.devices.empty()) {
    tail.Lit(",\"deviceProperties\":[");
    for (size_t i = 0; i < f.devices.size(); ++i) {
      const DeviceProps& d = f.devices[i];
      if (i) tail.Char(',');
      tail.Lit("{\"id\":");
      tail.I64(d.id);
      tail.Lit(",\"name\":");
      tail.String(d.name);
      tail.Lit(",\"totalGlobalMem\":");
      tail.U64(d.total_global_mem);
      tail.Lit(",\"computeMajor\":");
      tail.I64(d.compute_major);
      tail.Lit(",\"computeMinor\":");
      tail.I64(d.compute_minor);
      tail.Lit(",\"maxThreadsPerBlock\":");
      tail.I64(d.max_threads_per_block);
      tail.Lit(",\"maxThreadsPerMultiprocessor\":");
      tail.I64(d.max_threads_per_sm);
      tail.Lit(",\"regsPerBlock\":");
      tail.I64(d.regs_per_block);
      tail.Lit(",\"warpSize\":");
      tail.I64(d.warp_size);
      tail.Lit(",\"sharedMemPerBlock\":");
      tail.I64(d.shared_mem_per_block);
      tail.Lit(",\"numSms\":");
      tail.I64(d.num_sms);
      tail.Lit(",\"sharedMemPerMultiprocessor\":");
      tail.I64(d.shared_mem_per_sm);
      tail.Lit(",\"l2CacheSize\":");
      tail.I64(d.l2_cache_size);
      if (d.regs_per_sm) {
        tail.Lit(",\"regsPerMultiprocessor\":");
        tail.I64(d.regs_per_sm);
      }
      if (d.max_blocks_per_sm) {
        tail.Lit(",\"maxBlocksPerMultiprocessor\":");
        tail.I64(d.max_blocks_per_sm);
      }
      if (d.clock_khz) {
        tail.Lit(",\"clockRate\":");
        tail.I64(d.clock_khz);
      }
      if (d.memory_bandwidth) {
        tail.Lit(",\"memoryBandwidthKBps\":");
        tail.U64(d.memory_bandwidth);
      }
      if (d.has_uuid) {
        char uuid[48];
        const uint8_t* u = d.uuid;
        std::snprintf(uuid, sizeof uuid,
                      "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                      u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                      u[12], u[13], u[14], u[15]);
        tail.Lit(",\"uuid\":");
        tail.String(uuid);
      }
      tail.Char('}');
    }
    tail.Char(']');
  }
  if (f.rank >= 0) {
    tail.Lit(",\"distributedInfo\":{\"rank\":");
    tail.I64(f.rank);
    tail.Lit(",\"world_size\":");
    tail.I64(f.world_size);
    if (!f.backend.empty()) {
      tail.Lit(",\"backend\":");
      tail.String(f.backend);
    }
    tail.Char('}');
  }
  tail.Lit(",\"teye\":{\"version\":");
  tail.String(kCollectorVersion);
  tail.Lit(",\"producer\":\"libteye_collector\",\"rank\":");
  tail.I64(f.rank);
  tail.Lit(",\"world_size\":");
  tail.I64(f.world_size);
  tail.Lit(",\"pid\":");
  tail.I64(id_.pid);
  tail.Lit(",\"ppid\":");
  tail.I64(id_.ppid);
  if (f.forked_from) {
    tail.Lit(",\"forked_from\":");
    tail.I64(f.forked_from);
  }
  tail.Lit(",\"host\":");
  tail.String(id_.host);
  if (id_.cpus > 0) {
    tail.Lit(",\"cpus\":");
    tail.I64(id_.cpus);
  }
  tail.Lit(",\"command\":");
  tail.String(id_.command);
  tail.Lit(",\"complete\":true,\"end_reason\":");
  tail.String(f.end_reason);
  tail.Lit(",\"start_ns\":");
  tail.I64(f.start_ns);
  tail.Lit(",\"events\":");
  tail.U64(events_);
  tail.Lit(",\"dropped_records\":");
  tail.U64(f.dropped_records);
  tail.Lit(",\"dropped_strings\":");
  tail.U64(f.dropped_strings);
  tail.Lit(",\"buffer_bytes\":");
  tail.U64(f.buffer_bytes);
  tail.Lit(",\"clock\":");
  tail.String(f.clock);
  tail.Lit(",\"cupti\":");
  tail.String(f.cupti_status);
  tail.Lit(",\"nvml\":");
  tail.String(f.nvml_status);
  if (const Stats* s = f.stats) {
    auto stat = [&](const char* key, const std::atomic<uint64_t>& v) {
      tail.Lit(",\"");
      tail.Raw(key, std::strlen(key));
      tail.Lit("\":");
      tail.U64(v.load(std::memory_order_relaxed));
    };
    stat("cupti_records", s->cupti_records);
    stat("cupti_dropped_records", s->cupti_dropped);
    stat("cupti_invalid_records", s->cupti_invalid);
    stat("cupti_unknown_records", s->cupti_unknown_kind);
    stat("cupti_filtered_api_calls", s->cupti_filtered);
    stat("cupti_buffers", s->cupti_buffers);
    stat("cupti_buffers_refused", s->cupti_buffers_refused);
    stat("nvtx_unmatched_pops", s->nvtx_unmatched_pops);
    stat("nvtx_unmatched_ends", s->nvtx_unmatched_ends);
    stat("nvtx_stack_overflows", s->nvtx_stack_overflow);
    stat("nvtx_unclosed_ranges", s->nvtx_unclosed);
    stat("nccl_events", s->nccl_events);
    stat("nccl_events_dropped", s->nccl_events_dropped);
    tail.Lit(",\"io_events\":");
    tail.U64(io_events_);
  }
  tail.Lit("}}\n");
  const bool ok = tail.ok() && raw::WriteAll(fd_, tail.view().data(), tail.size());
  ::fsync(fd_);
  raw::Close(fd_);
  fd_ = -1;
  if (!ok) return false;
  std::string final = output_dir_ + "/" + TraceFileName(id_.host, id_.pid, f.rank);
  if (raw::Rename(partial_path_.c_str(), final.c_str()) != 0) return false;
  if (final_path) *final_path = final;
  return true;
}

}  // namespace teye::collector
