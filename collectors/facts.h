// What the collector learns about the process while it runs, for the trace's top-level objects
// (deviceProperties, distributedInfo, teye) and for naming the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace teye::collector {

struct DeviceProps {
  int id = -1;
  std::string name;
  uint64_t total_global_mem = 0;
  int compute_major = 0;
  int compute_minor = 0;
  int num_sms = 0;
  int max_threads_per_sm = 0;
  int max_threads_per_block = 0;
  int warp_size = 0;
  int regs_per_block = 0;
  int shared_mem_per_block = 0;
  int shared_mem_per_sm = 0;
  int l2_cache_size = 0;
  uint64_t memory_bandwidth = 0;  // KB/s as CUPTI reports it (0 unknown)
  int regs_per_sm = 0;
  int max_blocks_per_sm = 0;
  int clock_khz = 0;  // SM clock
  uint8_t uuid[16] = {};
  bool has_uuid = false;
};

struct ProcessIdentity {
  int pid = 0;
  int ppid = 0;
  std::string host;
  std::string command;  // command line, space-joined, truncated
  std::string exe;      // short name (comm)
  int cpus = 0;         // CPUs the process may run on (sched_getaffinity), 0 unknown
  static ProcessIdentity Current();
};

// Counters any source may bump; read for the footer.
struct Stats {
  std::atomic<uint64_t> cupti_records{0};
  std::atomic<uint64_t> cupti_dropped{0};       // CUPTI's own dropped-record count
  std::atomic<uint64_t> cupti_invalid{0};       // records with impossible fields, skipped
  std::atomic<uint64_t> cupti_unknown_kind{0};  // record kinds teye does not convert
  std::atomic<uint64_t> cupti_filtered{0};      // runtime/driver calls left out by the filter
  std::atomic<uint64_t> cupti_buffers{0};
  std::atomic<uint64_t> cupti_buffers_refused{0};  // requests beyond TEYE_CUPTI_MAX_BUFFERS
  std::atomic<uint64_t> nvtx_unmatched_pops{0};
  std::atomic<uint64_t> nvtx_unmatched_ends{0};
  std::atomic<uint64_t> nvtx_stack_overflow{0};
  std::atomic<uint64_t> nvtx_unclosed{0};
  std::atomic<uint64_t> nccl_events{0};
  std::atomic<uint64_t> nccl_events_dropped{0};
  void Reset();
};

}  // namespace teye::collector
