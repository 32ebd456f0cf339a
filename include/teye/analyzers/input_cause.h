// Why the input is slow (docs/metrics.md, "Input cause"): whether the DataLoader waits on its
// store (`storage`), on its CPUs (`cpu`), on getting batches to the training loop or the GPU
// (`transfer`), or the trace cannot tell (`unknown`). The loader is the training thread's
// DataLoader iterations when it loads inline, else its worker processes; its reads come from
// teye's `io` events and its CPU from the collector's counter samples, in workers too.
//
// It also prices the first fix the cause calls for — more DataLoader workers, so that loading
// overlaps training — with the limits the trace shows: the cores the processes can use and the
// store's measured bandwidth.
#pragma once

#include <string>
#include <string_view>

#include "teye/analyzers/bound_class.h"
#include "teye/analyzers/breakdown.h"
#include "teye/analyzers/io_profile.h"
#include "teye/analyzers/resource_profile.h"

namespace teye {

enum class InputCause : uint8_t { kStorage, kCpu, kTransfer, kUnknown };
std::string_view ToString(InputCause cause);

// The step time predicted with `workers` DataLoader workers.
struct InputFix {
  int workers = 0;               // recommended num_workers (0: no fix priced)
  double predicted_step_ms = 0;  // mean step time with them
  std::string limit;   // what sets the predicted step: "training", "loader", "cores", "store"
  std::string method;  // how it was estimated, in words
};

struct InputDiagnosis {
  bool present = false;   // the rank has a DataLoader, or input is its class or runner-up
  bool relevant = false;  // the class is input, input is the runner-up, or (no GPU) the loader
                          // wait is at least kInputRelevantShare of the step
  std::string loader;     // "inline" (loading on the training thread) or "workers"
  int workers = 0;        // worker processes in this rank's trace
  double wait_ms_per_step = 0;    // the training thread inside DataLoader iterations
  double loader_ms_per_step = 0;  // time the loader had: the waits inline, workers × step
  double read_ms_per_step = 0;    // the loader's read and open calls
  double read_bytes_per_step = 0;
  double cpu_ms_per_step = 0;        // CPU time of the loader (core-ms), from counter samples
  double run_queue_ms_per_step = 0;  // the loader runnable but waiting for a core
  bool cpu_measured = false;         // false: CPU time taken as the loader time not in reads
  InputCause cause = InputCause::kUnknown;
  std::string reason;  // one sentence with the numbers that decided the cause
  InputFix fix;
};

inline constexpr double kInputRelevantShare = 0.05;

struct InputContext {
  const Trace& trace;
  const StepsResult& steps;
  const RankProcesses& processes;
  const IoProfile& io;
  const ResourceProfile& resources;
  const BoundResult& bound;
  const DeviceBreakdown* primary = nullptr;  // the breakdown's primary device, when there is one
};

InputDiagnosis DiagnoseInput(const InputContext& context);

}  // namespace teye
