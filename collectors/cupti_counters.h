// Counter mode: per-kernel hardware counters through CUPTI's range profiler (CUDA ≥ 12.6), in
// auto-range mode with kernel replay — every kernel is one range, replayed as many times as its
// metrics need passes. Each kernel's values become a `cuda_profiler_range` event like Kineto's,
// plus the launch's correlation id, so `teye analyze` reads one format (docs/collector.md).
//
// Enabled by TEYE_COUNTERS: `flops` (the nine SASS FP instruction counters and DRAM bytes), or a
// comma-separated list of metric names. Kernels are serialized and replayed: a diagnostic mode
// for a few steps, bounded by TEYE_COUNTERS_KERNELS (then the job runs at full speed again).
//
// The backend hands its CUPTI subscriber and callbacks to this file; nothing else changes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "counters_api.h"

namespace teye::collector {

class Collector;

struct CounterConfig {
  bool enabled = false;
  std::vector<std::string> metrics;
  uint32_t ranges_per_pass = 512;  // kernels between counter-data reads
  uint64_t max_kernels = 20000;    // kernels profiled in all, then counter mode stops
  std::string error;               // a bad TEYE_COUNTERS value, said once
};

// TEYE_COUNTERS, TEYE_COUNTERS_KERNELS through `get_env`.
CounterConfig LoadCounterConfig(const GetEnvFn& get_env);

// The metrics `flops` stands for.
std::vector<std::string> FlopsMetrics();

namespace counters {

// Called by the backend once CUPTI records: loads the range profiler from `cupti_path` and
// enables the launch and context callbacks on `subscriber`. False (and said once) when counter
// mode is off or cannot run.
bool Start(Collector& c, CUpti_SubscriberHandle subscriber, const std::string& cupti_path,
           CUptiResult (*enable_callback)(uint32_t, CUpti_SubscriberHandle, CUpti_CallbackDomain,
                                          CUpti_CallbackId));

// Every callback the backend's subscriber receives (it ignores what it does not need).
void OnCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data);

// Tests: a session through `api` without loading anything.
void InstallForTest(Collector& c, const CounterApi& api, const CounterConfig& config);
// Tests: reads and writes what the profiler holds, as the last flush would.
void FinishForTest();

}  // namespace counters
}  // namespace teye::collector
