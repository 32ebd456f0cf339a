// The read-only trace model: one Trace per process/rank, built once by a TraceBuilder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teye/model/read_stats.h"
#include "teye/model/string_pool.h"
#include "teye/model/tables.h"
#include "teye/model/types.h"

namespace teye {

struct DeviceInfo {
  int id = -1;
  std::string name;
  int64_t total_global_mem = 0;  // bytes
  int compute_major = 0;
  int compute_minor = 0;
  int num_sms = 0;
  int max_threads_per_sm = 0;
  int warp_size = 0;
  // Occupancy limits (0 when the trace does not say; occupancy.h falls back to the architecture's).
  int max_threads_per_block = 0;
  int regs_per_block = 0;
  int regs_per_sm = 0;
  int shared_mem_per_block = 0;        // bytes, default limit
  int shared_mem_per_block_optin = 0;  // bytes, opt-in limit
  int shared_mem_per_sm = 0;           // bytes
  int max_blocks_per_sm = 0;
  int clock_khz = 0;       // SM clock, when the writer recorded it (teye's collector)
  double memory_gbps = 0;  // memory bandwidth, when the writer recorded it
  GpuVendor vendor = GpuVendor::kUnknown;
};

struct DistributedInfo {
  int rank = -1;
  int world_size = 0;
  std::string backend;  // "nccl", "gloo", ...
  std::string nccl_version;
};

// How a process relates to the rank whose Trace holds its events.
enum class ProcessRole : uint8_t {
  kMain,          // the rank's own process (the only one of a single-file trace)
  kForkedChild,   // fork()ed by it without exec: DataLoader workers (fork context)
  kSpawnedChild,  // started by it through Python multiprocessing (spawn/forkserver workers,
                  // the resource tracker)
};

// One process whose events a Trace holds. teye's collector writes one file per process, and
// `teye analyze DIR` folds a rank's child processes into the rank's Trace (import/job_layout.h).
// Every host track of a process (ThreadTable rows) and every host counter (CounterTable::pid)
// carries its pid, so an analyzer takes one process's events apart by pid; GPU tracks keep the
// device number as their pid, as in the file. Empty for traces not written by teye's collector.
struct ProcessInfo {
  int64_t pid = 0;
  int64_t parent_pid = 0;  // 0 unknown
  bool forked = false;     // the collector saw it start as a fork() of its parent
  ProcessRole role = ProcessRole::kMain;
  std::string command;
  std::string end_reason;  // the collector's: exit, _exit, SIGTERM, ...
  std::string file;        // the trace file it came from
};

// Facts about the file and how it was read.
struct TraceInfo {
  std::string path;
  std::string format;  // "chrome-json-object", "chrome-json-array"
  bool gzip = false;
  int64_t bytes_on_disk = 0;
  int64_t bytes_parsed = 0;       // decompressed JSON size
  std::string producer;           // "pytorch-profiler", "teye-collector", "chrome-trace"
  int schema_version = -1;        // Kineto `schemaVersion`
  std::string display_time_unit;  // as written in the file, may be empty
  // Times in the file are value * file_time_unit_ns nanoseconds after file_time_zero_ns.
  TimeNs file_time_unit_ns = kNsPerUs;
  TimeNs file_time_zero_ns = 0;  // Kineto `baseTimeNanoseconds`, else 0
  std::string trace_name;
  GpuVendor vendor = GpuVendor::kUnknown;  // from device properties and kernel/runtime names
  std::string teye_version;                // collector traces: version that wrote them
  int host_cpus = 0;  // collector traces: CPUs the process could run on, 0 when unknown
  // Collector traces: the rank's main process first, then the processes folded into it.
  std::vector<ProcessInfo> processes;
};

class TraceBuilder;

class Trace {
 public:
  Trace(Trace&&) noexcept;
  Trace& operator=(Trace&&) noexcept;
  ~Trace();

  const TraceInfo& info() const { return info_; }
  const ReadStats& stats() const { return stats_; }
  const std::vector<DeviceInfo>& devices() const { return devices_; }
  const DeviceInfo* FindDevice(int id) const;
  const DistributedInfo& distributed() const { return distributed_; }

  const StringPool& strings() const { return strings_; }
  std::string_view str(StringId id) const { return strings_.Get(id); }

  const ThreadTable& threads() const { return threads_; }
  const GpuOpTable& gpu_ops() const { return gpu_ops_; }
  const HostSliceTable& host_slices() const { return host_slices_; }
  const GpuAnnotationTable& gpu_annotations() const { return gpu_annotations_; }
  const CollectiveTable& collectives() const { return collectives_; }
  const CounterTable& counters() const { return counters_; }
  const MemoryEventTable& memory_events() const { return memory_events_; }
  const InstantTable& instants() const { return instants_; }
  const FlowTable& flows() const { return flows_; }
  const OpShapeTable& op_shapes() const { return op_shapes_; }
  const KernelCounterTable& kernel_counters() const { return kernel_counters_; }
  const KernelCounterValueTable& kernel_counter_values() const { return kernel_counter_values_; }

  // Earliest start and latest end over every timed event (0,0 when empty).
  TimeNs start_ns() const { return start_ns_; }
  TimeNs end_ns() const { return end_ns_; }
  // Rank from distributedInfo, or -1.
  int rank() const { return distributed_.rank; }
  // Approximate bytes held by the model, for memory budgets.
  size_t MemoryBytes() const;

 private:
  friend class TraceBuilder;
  Trace();

  TraceInfo info_;
  ReadStats stats_;
  std::vector<DeviceInfo> devices_;
  DistributedInfo distributed_;
  StringPool strings_;
  ThreadTable threads_;
  GpuOpTable gpu_ops_;
  HostSliceTable host_slices_;
  GpuAnnotationTable gpu_annotations_;
  CollectiveTable collectives_;
  CounterTable counters_;
  MemoryEventTable memory_events_;
  InstantTable instants_;
  FlowTable flows_;
  OpShapeTable op_shapes_;
  KernelCounterTable kernel_counters_;
  KernelCounterValueTable kernel_counter_values_;
  TimeNs start_ns_ = 0;
  TimeNs end_ns_ = 0;
};

// The traces of one job: one per process/rank, in the order given.
using TraceSet = std::vector<Trace>;

}  // namespace teye
