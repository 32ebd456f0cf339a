// Exposed communication seen from one rank: part of it may be this rank waiting inside the
// collectives for slower ranks to arrive, which no change on this rank removes. An NCCL kernel
// starts when its rank arrives and ends once the last rank has and the data has moved, so the
// same collective of the same size takes longer each time this rank arrives earlier than the
// others. The time above the fastest instance of each (operation, size), in kernels over 1.25x
// the fastest (a transfer's own run-to-run variation stays below that), is that waiting.
#include <algorithm>
#include <map>
#include <tuple>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {

std::vector<Recommendation> BalanceRanks(const RuleContext& c) {
  const double share = c.Share(TimeCategory::kCommunication);
  if (share < 0.05) return {};
  const GpuOpTable& g = c.trace.gpu_ops();
  const CollectiveTable& coll = c.trace.collectives();
  // Collective kernels by (operation, bytes): the fastest of each is the nearest to the transfer.
  using Key = std::tuple<std::string, int64_t, int32_t>;
  std::map<Key, std::vector<int>> groups;
  int unsized = 0;
  for (size_t i = 0; i < c.graph.ops.size(); ++i) {
    const ReplayOp& op = c.graph.ops[i];
    if (op.kind != GpuOpKind::kKernel || op.cls != KernelClass::kCommunication) continue;
    const RowIndex row = g.collective[op.row];
    const std::string name = row != kNoRow ? std::string(c.trace.str(coll.op[row]))
                                           : CollectiveFromKernelName(c.trace.str(g.name[op.row]));
    const int64_t bytes = row != kNoRow ? coll.in_bytes[row] : 0;
    const int32_t ranks = row != kNoRow ? coll.group_size[row] : 0;
    if (bytes <= 0) {  // sizes unknown: instances of one operation cannot be compared
      ++unsized;
      continue;
    }
    groups[{name, bytes, ranks}].push_back(static_cast<int>(i));
  }
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  TimeNs spread = 0, total = 0;
  int repeated = 0;
  for (const auto& [key, ops] : groups) {
    if (ops.size() < 2) continue;  // one instance: no spread to read
    TimeNs fastest = INT64_MAX;
    for (int o : ops)
      fastest = std::min(fastest, c.graph.ops[o].duration());
    for (int o : ops) {
      const TimeNs d = c.graph.ops[o].duration();
      total += d;
      // A transfer varies by a few percent run to run; waiting for a late rank shows as a kernel
      // well beyond the fastest.
      if (d <= fastest + fastest / 4) continue;
      spread += d - fastest;
      change.duration_scale[o] = static_cast<double>(fastest) / static_cast<double>(d);
    }
    ++repeated;
  }
  const double steps = std::max<size_t>(1, c.graph.steps.size());
  Recommendation r;
  r.id = "balance_ranks";
  r.title = "Find out whether exposed communication is waiting for slower ranks";
  r.action =
      "analyse every rank's trace together (teye analyze DIR, or teye merge of the ranks' "
      "summaries): the cross-rank section splits each collective into transfer and waiting and "
      "names the rank the others wait for, whose input, compute or host time is then the fix; "
      "where it is transfer, overlap it with backward (DDP's default), send fewer larger buckets "
      "(bucket_cap_mb) or compress gradients (DDP comm hooks: bf16/fp16 compression, PowerSGD)";
  r.evidence.push_back(fmt::format(
      "exposed communication {} per step ({} of the step) on this rank alone; a collective "
      "kernel lasts until the last rank arrives, so part of it can be waiting",
      Ms(c.MsPerStep(TimeCategory::kCommunication)), Pct(share)));
  if (spread > 0 && total > 0)
    r.evidence.push_back(fmt::format(
        "the same collectives (same operation and size) vary: {} per step in kernels over "
        "1.25x the fastest of their kind ({} of their time), the signature of waiting for "
        "another rank",
        Ms(static_cast<double>(spread) / kNsPerMs / steps),
        Pct(static_cast<double>(spread) / static_cast<double>(total))));
  r.saving_ms = repeated > 0 ? c.SavingMs(change) : 0;
  r.method =
      "replayed with every collective kernel as short as the fastest one of its operation and "
      "size in this trace (the waiting for the last rank gone, the transfer kept): what "
      "balancing the ranks could buy this one; the other ranks' traces tell which rank to fix";
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) {
    // The advice stands without a number: one rank cannot tell waiting from transfer here.
    r.saving_ms = 0;
    r.basis = SavingBasis::kNone;
    const bool spread_out = total > 0 && 10 * spread >= total;
    r.method =
        repeated == 0
            ? (unsized > 0 ? "none from one rank: the trace gives no sizes for its collectives, "
                             "so waiting cannot be told from transfer without the other ranks' "
                             "traces"
                           : "none from one rank: no collective repeats at one size, so waiting "
                             "cannot be told from transfer without the other ranks' traces")
        : spread_out
            ? "none in the replay: collective kernels as short as the fastest of their operation "
              "and size do not shorten this rank's step (the step waits on other work); the "
              "other ranks' traces tell transfer from waiting"
            : "none: the same collectives take about as long every time on this rank, so no "
              "waiting shows from here; the other ranks' traces tell transfer from waiting";
  }
  r.confidence = Confidence::kLow;
  r.relieves = BoundClass::kCommunication;
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
