// The host processes a rank's trace holds, and the counter samples each wrote. A rank is its
// training process plus, when their traces are folded into it, the processes it forked
// (DataLoader workers); every event keeps its process id, so per-process profiles are keyed by pid.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "teye/analyzers/interval_set.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

// Counter names written by teye's collector (docs/trace-format.md, "Counters").
inline constexpr std::string_view kCpuUtilizationCounter = "CPU Utilization (%)";
inline constexpr std::string_view kHostRssCounter = "Host Memory RSS (bytes)";
inline constexpr std::string_view kReadRateCounter = "Read Rate (bytes/s)";
inline constexpr std::string_view kWriteRateCounter = "Write Rate (bytes/s)";
inline constexpr std::string_view kRunQueueWaitCounter = "Run Queue Wait (%)";
inline constexpr std::string_view kGpuUtilizationCounter = "GPU Utilization (%)";
inline constexpr std::string_view kGpuMemoryUsedCounter = "GPU Memory Used (bytes)";

struct RankProcesses {
  int64_t training_pid = 0;   // the process whose thread marks the steps
  std::vector<int64_t> pids;  // every host process, the training process first, then by pid
  std::vector<ThreadIndex>
      loader_threads;  // threads of the training process with DataLoader ranges
  bool IsWorker(int64_t pid) const { return pid != training_pid; }
};

// Host processes: those with host ranges or host counter samples (GPU counters, keyed by device,
// are not processes).
RankProcesses FindRankProcesses(const Trace& trace, const StepsResult& steps);

// One counter series of one process (or device), in time order. Each sample is read as the level
// or rate over the interval that ends at it, (previous sample, sample]; the first sample covers
// one median interval before it.
struct CounterSeries {
  std::vector<TimeNs> ts;
  std::vector<double> value;
  TimeNs period = 0;  // median spacing of the samples

  bool empty() const { return ts.empty(); }
  TimeNs IntervalStart(size_t i) const { return i == 0 ? ts[0] - period : ts[i - 1]; }
  // Σ value × |interval ∩ set| / 1 s: for a rate in %, 100 × busy seconds; for bytes/s, bytes.
  double Integrate(const IntervalSet& set) const;
  // Samples whose time is inside [window.start, window.end].
  std::vector<double> ValuesWithin(Interval window) const;
};

// Samples of counter `name` keyed by the event's pid (a process, or a device for GPU counters).
std::map<int64_t, CounterSeries> CounterSeriesByPid(const Trace& trace, std::string_view name);

// The complete steps' windows as one set, and their hull [first start, last end] (the whole trace
// when there is no complete step).
IntervalSet CompleteStepSet(const StepsResult& steps);
Interval AnalysedSpan(const Trace& trace, const StepsResult& steps);

}  // namespace teye
