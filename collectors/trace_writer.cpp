// TraceWriter's core: the text buffer, record dispatch, metadata events, the file and the end.
// Events are formatted in host_events.cpp and device_events.cpp; the footer in trace_footer.cpp.
#include "trace_writer.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>

#include "trace_footer.h"
#include "version.h"

namespace teye::collector {
namespace {

constexpr size_t kFlushBytes = size_t{2} << 20;

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
  file_.Abandon();  // a forked child's copy; the parent's file is untouched
  header_written_ = false;
  failed_ = false;
  counts_ = WrittenCounts{};
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
  ++counts_.events;
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

bool TraceWriter::OpenFile() {
  if (!file_.is_open() && !file_.Create(output_dir_, TraceFileName(id_.host, id_.pid, rank_)))
    return false;
  // The process's names come first, so a file cut off later still labels its tracks.
  // "teye_collector" first: a file cut off before its footer still says who wrote it.
  JsonOut header;
  header.Lit("{\"teye_collector\":");
  header.String(kCollectorVersion);
  header.Lit(",\"schemaVersion\":1,\"displayTimeUnit\":\"ms\",\"traceName\":");
  header.String(trace_name_.empty() ? id_.command : trace_name_);
  header.Lit(",\"traceEvents\":[\n{");
  FormatMetadata(header, "process_name", id_.pid, 0, "name",
                 id_.exe.empty() ? std::string_view("process") : std::string_view(id_.exe), false);
  header.Lit(",\n{");
  FormatMetadata(header, "process_labels", id_.pid, 0, "labels", id_.command, false);
  counts_.events += 2;
  if (!header.ok() || !file_.Write(header.view().data(), header.size())) {
    file_.Abandon();
    return false;
  }
  header_written_ = true;
  return true;
}

bool TraceWriter::FlushToFile() {
  if (failed_ || !out_.ok()) {
    failed_ = true;
    out_.clear();
    return false;
  }
  if (out_.size() == 0) return true;
  if (!header_written_ && !OpenFile()) {
    failed_ = true;
    out_.clear();
    return false;
  }
  const bool ok = file_.Write(out_.view().data(), out_.size());
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
  if (!FlushToFile() || !header_written_) {
    file_.Abandon();
    return false;
  }
  JsonOut tail;
  tail.Lit("\n]");
  AppendFooter(tail, f, id_, counts_);
  if (!tail.ok() || !file_.Write(tail.view().data(), tail.size())) {
    file_.Abandon();
    return false;
  }
  return file_.Commit(TraceFileName(id_.host, id_.pid, f.rank), final_path);
}

}  // namespace teye::collector
