// The I/O profile of a rank (docs/metrics.md, "I/O"), per process, from the `io` events of
// teye's collector: reads (read, pread, readv, preadv, recv, recvfrom, fread) and opens that
// start inside the complete steps — bytes and calls per step, read latency, throughput, files
// opened per batch, the paths that took the most time, and the share of the process's loader
// time spent waiting in them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teye/analyzers/rank_processes.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

struct IoPathStat {
  std::string path;  // empty: descriptors not opened through the interposed calls (sockets, pipes)
  int64_t calls = 0;
  int64_t bytes = 0;
  TimeNs time_ns = 0;  // read and open calls on the path
};

struct ProcessIo {
  int64_t pid = 0;
  bool worker = false;
  int64_t read_calls = 0;
  int64_t read_bytes = 0;
  TimeNs read_ns = 0;  // |union| of the process's read calls, per thread, summed over threads
  int64_t open_calls = 0;
  TimeNs open_ns = 0;
  double read_calls_per_step = 0;
  double read_bytes_per_step = 0;
  double read_ms_per_step = 0;
  double opens_per_batch = 0;  // opens ÷ DataLoader batches (÷ steps without a loader)
  double read_mb_per_s = 0;    // read bytes ÷ read time (the rate while reading)
  double read_latency_us_p50 = 0, read_latency_us_p90 = 0, read_latency_us_p99 = 0,
         read_latency_us_max = 0;
  // Loader time: the training process's DataLoader ranges, or a worker's whole step time.
  TimeNs loader_ns = 0;
  double read_wait_share = 0;         // read + open time inside the loader time ÷ loader time
  std::vector<IoPathStat> top_paths;  // by time, at most kTopIoPaths
};

inline constexpr size_t kTopIoPaths = 5;

struct IoProfile {
  bool present = false;  // the trace has `io` events at all
  int complete_steps = 0;
  int batches = 0;                   // DataLoader iterations starting inside complete steps
  std::vector<ProcessIo> processes;  // processes with I/O in the steps, training process first
  // Reads of the loader's processes in flight at once (the workers', or the training process's).
  int max_concurrent_reads = 0;
  // The rate of reads that started alone, and the total rate reads delivered when they started
  // with others in flight (their rate × their mean concurrency): when the second is not clearly
  // above the first the store is taken as saturated and the second as its bandwidth.
  double single_read_mb_per_s = 0;
  double concurrent_read_mb_per_s = 0;
  bool store_saturated = false;
};

// Read-type and open calls of `io` events (by the call's name).
bool IsReadCall(std::string_view name);
bool IsOpenCall(std::string_view name);

IoProfile ProfileIo(const Trace& trace, const StepsResult& steps, const RankProcesses& processes);

}  // namespace teye
