// The resource profile of a rank (docs/metrics.md, "Resources"): CPU utilization, host memory,
// read/write rates and run-queue waits per process from the collector's counter samples; GPU
// utilization and memory per device from NVML samples, or from the PyTorch profiler's `[memory]`
// events and `deviceProperties`. For the run, per complete step, as chart series, and with
// warnings a user can act on (host memory that grows steadily, GPU memory near its limit).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "teye/analyzers/rank_processes.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

struct SampleStats {
  int samples = 0;
  double mean = 0, p90 = 0, max = 0;
};

struct ProcessResources {
  int64_t pid = 0;
  bool worker = false;        // not the training process
  SampleStats cpu_pct;        // CPU Utilization (%): 100 = one core
  SampleStats run_queue_pct;  // Run Queue Wait (%) of the process's main thread
  SampleStats read_bytes_per_s;
  SampleStats write_bytes_per_s;
  int rss_samples = 0;
  double rss_max_bytes = 0;
  double rss_first_bytes = 0, rss_last_bytes = 0;  // first and last sample in the span
  // Least-squares line through the RSS samples in the span.
  double rss_slope_bytes_per_s = 0;
  double rss_correlation = 0;  // Pearson r of RSS against time
  bool rss_leak = false;       // grows steadily (see docs/metrics.md)
};

struct GpuResources {
  int device = -1;
  std::string utilization_source;  // "nvml" or "kernels" (the trace's kernel union)
  SampleStats utilization_pct;     // NVML samples; for "kernels" only mean is set
  std::string memory_source;       // "nvml" (used by all processes) or "allocator" (reserved)
  double memory_max_bytes = 0;
  int64_t memory_total_bytes = 0;  // deviceProperties totalGlobalMem, 0 when unknown
  double memory_max_fraction = 0;  // of the total, 0 when unknown
  bool memory_near_limit = false;  // at least kGpuMemoryNearLimit of the total
};

// One complete step; absent values are nullopt (no sample overlapped the step).
struct StepResources {
  int step = 0;
  std::optional<double> cpu_pct;              // all processes, time-weighted over the step
  std::optional<double> rss_bytes;            // all processes, largest sample over the step
  std::optional<double> read_bytes_per_s;     // all processes, time-weighted
  std::optional<double> gpu_utilization_pct;  // primary device (NVML), time-weighted
  std::optional<double> gpu_memory_bytes;     // primary device, largest value over the step
};

// A time series drawn as a small chart: seconds from the span's start → value.
struct ResourceChart {
  std::string name;  // "CPU %", "host memory", ...
  std::string unit;  // "%", "bytes", "bytes/s"
  std::vector<double> t_s;
  std::vector<double> value;
};

inline constexpr double kGpuMemoryNearLimit = 0.90;

struct ResourceProfile {
  bool has_host = false;  // CPU or RSS samples of some process
  bool has_gpu = false;   // NVML samples or allocator events
  int host_cpus = 0;      // CPUs the training process could use, 0 when unknown
  Interval span;          // the samples used: first complete step's start to last one's end
  // The rank: all its processes together, sampled at the training process's sample times.
  SampleStats cpu_pct;                      // 100 = one core
  double cpu_cores = 0;                     // cpu_pct.mean / 100
  double cpu_machine_share = 0;             // cpu_cores / host_cpus, 0 when unknown
  double rss_max_bytes = 0;                 // largest sum of the processes' RSS
  std::string host_memory_source;           // "rss", or "allocator" (PyTorch CPU allocator events)
  double read_bytes_per_s = 0;              // mean
  double write_bytes_per_s = 0;             // mean
  std::vector<ProcessResources> processes;  // training process first
  std::vector<GpuResources> gpus;
  std::vector<StepResources> per_step;
  std::vector<ResourceChart> charts;
  std::vector<std::string> warnings;  // RSS leak, GPU memory near its limit
};

// `kernel_utilization` is the primary device's GPU utilization from kernels (used when there
// are no NVML samples), `primary_device` the device of the breakdown (-1 when none).
ResourceProfile ProfileResources(const Trace& trace, const StepsResult& steps,
                                 const RankProcesses& processes, int primary_device,
                                 double kernel_utilization);

}  // namespace teye
