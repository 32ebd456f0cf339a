// How the input fixes are priced: which model of the input pipeline applies, the change to
// replay, and the words that say so (docs/metrics.md, "Recommendations").
//
// Two models of a DataLoader iteration (host_patterns.h, LoaderMode):
//  - inline: the training thread loads the batch itself (num_workers=0: reading, decoding,
//    augmenting and collating inside `__next__`). Workers would move that work off the critical
//    path; each batch still costs the hand-off of a ready batch, kBatchHandoffNs.
//  - workers: the iteration waits for batches other processes make. More or faster workers cut
//    each wait to the cost of an iteration that did not wait.
// Input work on the training thread outside the loader (transforms in the loop) is priced like
// an inline loader: moved into the workers, it leaves the hand-off behind.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/recommendations.h"

namespace teye::rules {

// Host time one batch still costs on the training thread when DataLoader workers load it:
// taking a ready batch from the workers' queue. The median of the iterations that did not wait
// in the real multi-worker traces of ../shared/traces (hta trace_diff control on A100: 67–73 µs;
// trace_diff test on V100: 81–118 µs; rank_non_gpu: 71 µs; 13 iterations, median 73 µs).
inline constexpr TimeNs kBatchHandoffNs = 75 * kNsPerUs;

// A stretch of host work on one thread.
struct HostRange {
  ThreadIndex thread = kNoThread;
  TimeNs start = 0;
  TimeNs end = 0;
};

// Removes the host time of `ranges` from the replay: the parts of each range that lie between
// consecutive host events of the graph on its thread are added to change.host_gap_cut, less
// `keep_ns` per range (the work that stays on the thread). Returns the time removed.
TimeNs CutHostRanges(const ReplayGraph& graph, std::vector<HostRange> ranges, TimeNs keep_ns,
                     ReplayChange& change);

struct LoaderFixPrice {
  ReplayChange change;
  int inline_iterations = 0;      // replayed iterations that loaded their batch themselves
  int worker_iterations = 0;      // replayed iterations fed by worker processes
  double inline_ms_per_step = 0;  // loading done on the training thread, per step
  std::string inline_loader;      // the name of the inline iterations' range, when there are any
  std::string method;             // which model was replayed, in words
};

// The replay change for "load batches in enough DataLoader workers", by model.
LoaderFixPrice PriceLoaderFix(const RuleContext& c);

}  // namespace teye::rules
