// TraceWriter: host-side events (interposed I/O, NVTX and shim ranges, counters, NCCL plugin
// collectives, thread names) as the PyTorch profiler's dialect writes them.
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "nccl_names.h"
#include "trace_writer.h"

namespace teye::collector {
namespace {

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

// Thread ids for NCCL communicator tracks: far above any Linux tid (pid_max <= 2^22).
constexpr int64_t kNcclTrackBase = 1'000'000'000;
constexpr int kNcclLanes = 8;

}  // namespace

void TraceWriter::WriteIo(const IoRecord& r) {
  ++counts_.io;
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
  switch (r.category) {
    case RangeCategory::kNvtx:
      ++counts_.nvtx_ranges;
      break;
    case RangeCategory::kUserAnnotation:
      ++counts_.annotation_ranges;
      break;
    case RangeCategory::kDataLoader:
      ++counts_.dataloader_ranges;
      break;
  }
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

}  // namespace teye::collector
