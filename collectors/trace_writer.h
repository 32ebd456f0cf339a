// Streams records to one Chrome-trace JSON file (PyTorch-profiler dialect) without building a
// document: a header when the first records arrive, events as they are drained, and the top-level
// objects that are only known at the end (deviceProperties, distributedInfo, teye) as a footer.
// The file is written under "<name>.partial" and renamed when the footer is on disk, so a file
// without that suffix is always whole (trace_file.h). Field-by-field description:
// docs/trace-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "facts.h"
#include "json_out.h"
#include "records.h"
#include "string_table.h"
#include "trace_file.h"

namespace teye::collector {

struct KernelCountersRecord;

// <rank<R>.>host.pid.pt.trace.json: sorts by rank, unique per process.
std::string TraceFileName(std::string_view host, int pid, int rank);

struct Footer {
  std::vector<DeviceProps> devices;
  int rank = -1;
  int world_size = 0;
  std::string backend;
  std::string end_reason;  // "exit", "_exit", "SIGTERM", "duration", ...
  std::string cupti_status;
  std::string nvml_status;
  std::string clock;
  int forked_from = 0;
  uint64_t dropped_records = 0;
  uint64_t dropped_strings = 0;
  uint64_t buffer_bytes = 0;
  const Stats* stats = nullptr;
  int64_t start_ns = 0;
};

// What the writer wrote, by kind, for the footer (counted here, not on the recording path).
struct WrittenCounts {
  uint64_t events = 0;
  uint64_t io = 0;
  uint64_t nvtx_ranges = 0;        // NVTX ranges and marks
  uint64_t annotation_ranges = 0;  // user_annotation ranges (Python shim steps, ProfilerStep#N)
  uint64_t dataloader_ranges = 0;
  uint64_t gpu_events = 0;  // kernels, copies, memsets
};

class TraceWriter {
 public:
  TraceWriter(const StringTable& strings, std::string output_dir);

  // A fresh file for a new process (after fork): forgets the old one without touching it.
  void Reset(const ProcessIdentity& id, std::string trace_name);

  // Device facts used while formatting kernels (blocks/warps per SM).
  void SetDevices(const std::vector<DeviceProps>& devices);
  // NVTX NCCL ranges carry "Collective name" only when the NCCL profiler plugin does not.
  void SetNcclPluginActive(bool active) { nccl_plugin_active_ = active; }
  // Rank known so far (names the temporary file).
  void SetRank(int rank) { rank_ = rank; }

  // Formats one record into the buffer.
  void Write(const RecordHeader& h);
  // Names a thread once (`thread_name` metadata).
  void NameThread(uint32_t tid, std::string_view name);
  // Buffer → file, opening it (and writing the header) on first use. False on I/O failure (the
  // collector then stops writing and says so once, with error()).
  bool FlushToFile();
  // errno of the failure that stopped the writer (mkdir, open, write).
  int error() const { return file_.error(); }
  // Benchmarks: the trace goes to `fd` (e.g. /dev/null); no file is created.
  void UseSink(int fd) { file_.UseSink(fd); }
  // Writes the footer, closes, renames to the final name. The final path is returned when a file
  // was written; a process that recorded nothing leaves no file.
  bool Finish(const Footer& footer, std::string* final_path);

  bool has_file() const { return file_.is_open(); }
  uint64_t events_written() const { return counts_.events; }
  const std::string& partial_path() const { return file_.partial_path(); }

 private:
  std::string_view Escaped(uint32_t id);
  void BeginEvent();
  void Common(const char* ph, std::string_view cat, std::string_view name_escaped, int64_t pid,
              int64_t tid, int64_t ts_ns);
  void NoteGpuTrack(int32_t device, uint32_t stream);
  void WriteIo(const IoRecord& r);
  void WriteRange(const RangeRecord& r);
  void WriteCounter(const CounterRecord& r);
  void WriteKernel(const KernelRecord& r);
  void WriteMemcpy(const MemcpyRecord& r);
  void WriteMemset(const MemsetRecord& r);
  void WriteSync(const SyncRecord& r);
  void WriteApi(const ApiRecord& r);
  void WriteOverhead(const OverheadRecord& r);
  void WriteGraph(const GraphRecord& r);
  void WriteCollective(const CollectiveRecord& r);
  void WriteThreadName(const ThreadNameRecord& r);
  void WriteKernelCounters(const KernelCountersRecord& r);  // counter_writer.cpp
  void DeviceOpArgs(int32_t device, uint64_t context, uint64_t stream, uint64_t correlation,
                    uint64_t external_id);
  void BytesArgs(uint64_t bytes, int64_t start, int64_t end);
  void FlowEnd(uint32_t correlation, int32_t device, uint32_t stream, int64_t ts_ns);
  void WriteMetadata(const char* what, int64_t pid, int64_t tid, std::string_view key,
                     std::string_view value, bool value_is_number = false);
  static void FormatMetadata(JsonOut& o, const char* what, int64_t pid, int64_t tid,
                             std::string_view key, std::string_view value, bool value_is_number);
  bool OpenFile();

  const StringTable& strings_;
  std::string output_dir_;
  ProcessIdentity id_;
  std::string trace_name_;
  int rank_ = -1;
  JsonOut out_;
  std::vector<std::string> escaped_;  // by string id
  std::vector<int> sms_by_device_;
  bool nccl_plugin_active_ = false;
  TraceFile file_;
  bool header_written_ = false;
  bool failed_ = false;
  WrittenCounts counts_;
  std::unordered_set<uint32_t> named_threads_;
  std::unordered_set<uint64_t> gpu_tracks_;  // device << 32 | stream
  uint64_t last_gpu_track_ = ~uint64_t{0};
};

}  // namespace teye::collector
