// The cross-rank analysis (docs/metrics.md, "Across ranks"): per-rank step time, GPU utilization
// and exposed communication side by side; collectives matched across ranks and their time split
// into transfer and wait; the straggler ranks and the phase that makes them late.
//
// Matching: a rank's communication kernels are grouped by (communicator, operation) and numbered
// in start order; the k-th of a group on every rank that has the group is one collective. NCCL
// kernels start when their rank arrives and end together once the last rank has arrived and the
// data has moved, so the shortest rank's duration is the transfer and the rest of each rank's
// duration is waiting for the last arriver. Durations need no common clock; the clocks are still
// aligned (median difference of matched collective ends) so the report can say how far apart
// they were.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/analysis.h"
#include "teye/model/rank_summary.h"
#include "teye/model/trace.h"

namespace teye {

// The summary of one analysed trace. `classifier` must be the one the analysis used
// (nullptr: the built-in table).
RankSummary SummarizeRank(const Trace& trace, const TraceAnalysis& analysis,
                          const KernelClassifier* classifier = nullptr);

struct CrossRankOptions {
  // A rank is a straggler when the others' waiting that it causes is at least this share of the
  // median step time...
  double min_caused_wait_share = 0.02;
  // ...and at least this share of all waiting caused by any rank.
  double min_blame_share = 0.25;
  // Without matched collectives: a rank whose step time is this much above the median.
  double slow_step_factor = 1.10;
};

// Where a rank's step goes, grouped into the phases a straggler is blamed on.
enum class RankPhase : uint8_t { kInput, kCompute, kHost };
inline constexpr size_t kRankPhaseCount = 3;
std::string_view ToString(RankPhase phase);  // "input", "compute", "host"

struct RankRow {
  int rank = -1;  // as the trace says, else the position among the inputs
  std::string file;
  int complete_steps = 0;
  double step_ms = 0;
  double gpu_utilization = 0;
  double exposed_comm_ms = 0;  // per step
  double clock_offset_ms = 0;  // added to this rank's times to align it with the first rank
  double phase_ms[kRankPhaseCount] = {};  // per step: input wait, GPU compute, host-bound idle
  int64_t collectives = 0;                // matched communication kernels of this rank
  double comm_ms = 0;                     // per step: duration of matched collectives
  double transfer_ms = 0;                 // per step: their transfer part
  double wait_ms = 0;                     // per step: their wait part
  int64_t arrived_last = 0;               // collectives where this rank was the last to arrive
  double caused_wait_ms = 0;  // per step: mean wait of the other ranks in those collectives
};

// Matched collectives of one (communicator, operation), summed over ranks and instances.
struct CollectiveGroupRow {
  std::string group;
  std::string op;
  int ranks = 0;            // ranks that ran it
  int64_t count = 0;        // matched instances
  double transfer_ms = 0;   // sum over instances of the transfer time
  double wait_ms = 0;       // sum over instances and ranks of the waiting time
  double mean_wait_ms = 0;  // per instance, per rank
  int64_t bytes = 0;        // per rank, summed over instances (0 when unknown)
};

struct Straggler {
  int rank = -1;
  std::string cause;          // "input", "compute", "host", or "unknown"
  double caused_wait_ms = 0;  // per step
  double late_share = 0;      // share of matched collectives it arrived last at
  double excess_ms = 0;       // its cause phase minus the median of the other ranks, per step
  std::string evidence;       // one sentence with the numbers
};

struct CrossRankResult {
  int ranks = 0;
  std::vector<RankRow> rows;               // sorted by rank
  DistributionStats step_ms;               // over ranks' mean step times
  int64_t matched = 0;                     // collectives matched across at least two ranks
  int64_t unmatched = 0;                   // communication kernels left without a partner
  double transfer_ms = 0;                  // per step, mean over ranks
  double wait_ms = 0;                      // per step, mean over ranks
  std::vector<CollectiveGroupRow> groups;  // most waiting first
  std::vector<Straggler> stragglers;       // most caused wait first
  std::vector<std::string> notes;
};

CrossRankResult AnalyzeCrossRank(const std::vector<RankSummary>& ranks,
                                 const CrossRankOptions& options = {});

}  // namespace teye
