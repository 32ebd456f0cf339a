// Everything teye measures about one trace (one process/rank), computed by running each
// analyzer once. Reports render a TraceAnalysis; they never compute.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/bound_class.h"
#include "teye/analyzers/breakdown.h"
#include "teye/analyzers/device_peaks.h"
#include "teye/analyzers/hta_temporal.h"
#include "teye/analyzers/input_cause.h"
#include "teye/analyzers/io_profile.h"
#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/kernel_stats.h"
#include "teye/analyzers/memory_headroom.h"
#include "teye/analyzers/occupancy.h"
#include "teye/analyzers/periodic_stalls.h"
#include "teye/analyzers/recommendations.h"
#include "teye/analyzers/resource_profile.h"
#include "teye/analyzers/roofline.h"
#include "teye/analyzers/step_timeline.h"
#include "teye/analyzers/steps.h"
#include "teye/analyzers/transfer_stats.h"
#include "teye/model/trace.h"
#include "teye/runtime/executor.h"
#include "teye/runtime/phase_timings.h"

namespace teye {

struct AnalysisOptions {
  StepOptions steps;
  size_t top_kernels = 10;
  const KernelClassifier* classifier = nullptr;  // nullptr: the built-in table
  bool recommend = true;  // build the replay graph and run the recommendation rules
  const DevicePeakTable* device_peaks = nullptr;  // nullptr: the built-in table
  Executor* executor = nullptr;     // where independent work runs (nullptr: on this thread)
  PhaseTimings* timings = nullptr;  // when set: one phase per analysis ("analysis: steps", ...)
};

struct DeviceSummary {
  int device = -1;
  std::string name;            // from deviceProperties, when present
  double gpu_utilization = 0;  // |union of kernels| / step time, over complete steps
  double gpu_busy = 0;         // |union of kernels, memcpy, memset| / step time
  int64_t kernel_count = 0;
};

// The breakdown of the primary device as mean milliseconds per step and share of step time.
struct BreakdownShare {
  TimeCategory category;
  double ms_per_step = 0;
  double share = 0;  // of step time, 0..1
};

struct TraceAnalysis {
  // Where the trace came from.
  std::string file;
  std::string producer;
  std::string format;
  bool gzip = false;
  GpuVendor vendor = GpuVendor::kUnknown;
  int rank = -1;
  int world_size = 0;
  std::string backend;
  ReadStats read;
  int64_t model_events = 0;  // rows in the model

  StepsResult steps;
  int complete_steps = 0;
  bool has_gpu_activity = false;
  std::vector<DeviceSummary> devices;  // devices that ran something
  int primary_device = -1;
  double gpu_utilization = 0;  // of the primary device
  double gpu_busy = 0;

  BreakdownResult breakdown;
  std::vector<BreakdownShare> shares;  // primary device, every category, in priority order
  double mean_step_ms = 0;             // mean duration of complete steps
  double exposed_comm_ms_per_step = 0;

  KernelSummary kernels;
  MemcpySummary memcpy;
  CommSummary comm;
  TemporalBreakdown temporal;
  StepTimeline timeline;  // one representative step, aggregated for drawing
  // Micro-architecture view of the primary device.
  RooflineResult roofline;
  OccupancyResult occupancy;

  // Diagnosis (primary device).
  BoundResult bound;
  std::vector<StallPattern> stalls;
  std::vector<MemoryHeadroom> memory;
  std::vector<Recommendation> recommendations;  // ranked by saving
  double replay_error = 0;  // |replayed − measured| / measured mean step time, 0 when not replayed

  // Resources and input (docs/metrics.md, "Resources", "I/O", "Input cause").
  ResourceProfile resources;
  IoProfile io;
  InputDiagnosis input;

  std::vector<std::string> notes;  // facts the reader of the report should know
};

Result<TraceAnalysis> AnalyzeTrace(const Trace& trace, const AnalysisOptions& options);

}  // namespace teye
