// What the cross-rank analysis needs from one rank, and nothing more: a few numbers per rank and
// one row per communication kernel. Small enough to leave the node a trace was recorded on
// (`teye analyze --summary-only`), and the only input of the cross-rank analysis, so analysing
// all traces at once and merging summaries give the same report.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "teye/model/types.h"

namespace teye {

inline constexpr std::string_view kRankSummarySchema = "teye.rank-summary/1";

// One communication kernel as the rank's device ran it.
struct CollectiveTiming {
  std::string group;    // communicator / process group name; empty when the trace does not say
  std::string op;       // "allreduce", "AllToAll", ... as the trace names it
  TimeNs start_ns = 0;  // on the rank's own clock (file time zero applied)
  TimeNs end_ns = 0;
  int64_t bytes = 0;     // from collective arguments; 0 when unknown
  bool in_step = false;  // started inside a complete step (counted in per-step figures)
};

struct RankSummary {
  std::string file;
  int rank = -1;  // from distributedInfo, -1 when the trace does not say
  int world_size = 0;
  int complete_steps = 0;
  double step_ms = 0;          // mean duration of complete steps
  double gpu_utilization = 0;  // primary device, 0..1
  double exposed_comm_ms = 0;  // per step
  // Per-step mean milliseconds of each breakdown category of the primary device, by category
  // name ("compute", "input", ...), in the breakdown's priority order.
  std::vector<std::pair<std::string, double>> phase_ms;
  std::vector<CollectiveTiming> collectives;  // in start order
};

}  // namespace teye
