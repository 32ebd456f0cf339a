// Synchronization points inside the step: .item(), torch.cuda.synchronize(), blocking copies.
#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {

std::vector<Recommendation> RemoveSyncs(const RuleContext& c) {
  // Not gated on the idle attributed to synchronization: a sync also costs the idle that
  // follows it while the host does other work before its next launch (its 4 ms of
  // bookkeeping before the input copy, say), which the breakdown calls CPU work. The replay
  // prices both (an H200 run: 27.8 → 18.2 ms per step without .item(), docs/gpu-validation.md).
  const GpuOpTable& g = c.trace.gpu_ops();
  ReplayChange change;
  change.sync_removed.assign(c.graph.host.size(), 0);
  change.removed.assign(c.graph.ops.size(), 0);
  int syncs = 0;
  for (size_t e = 0; e < c.graph.host.size(); ++e) {
    const ReplayHostEvent& ev = c.graph.host[e];
    if (ev.kind == ReplayHostEvent::Kind::kSync) {
      change.sync_removed[e] = 1;
      ++syncs;
    }
    // Small device-to-host reads (a scalar for .item() or a print) go with them: read every N
    // steps, they cost nothing per step. Input copies are the pin_memory rule's business.
    if (ev.blocking && !ev.ops.empty()) {
      const RowIndex row = c.graph.ops[ev.ops.front()].row;
      if (g.copy_kind[row] == CopyKind::kDtoH && g.bytes[row] <= (1 << 20)) {
        for (int op : ev.ops)
          change.removed[op] = 1;
        ++syncs;
      }
    }
  }
  if (syncs == 0) return {};
  Recommendation r;
  r.id = "remove_syncs";
  r.title = "Take synchronization out of the step";
  r.action =
      "avoid loss.item(), tensor.cpu(), print(tensor), torch.cuda.synchronize() and "
      "blocking copies inside the step: keep metrics on the GPU and read them every N "
      "steps; copy results with non_blocking=True";
  if (c.Share(TimeCategory::kSync) >= 0.005)
    r.evidence.push_back(fmt::format(
        "the GPU idles {} per step ({} of the step) while the host waits in or refills the queue "
        "after a synchronizing call",
        Ms(c.MsPerStep(TimeCategory::kSync)), Pct(c.Share(TimeCategory::kSync))));
  else
    r.evidence.push_back(
        "after each synchronizing call the GPU has nothing queued while the host works until "
        "its next launch");
  r.evidence.push_back(fmt::format("{:.1f} synchronizing calls per step, most time in {}",
                                   syncs / static_cast<double>(std::max(1, c.complete_steps)),
                                   TopContributors(c, TimeCategory::kSync)));
  r.saving_ms = c.SavingMs(change);
  r.method =
      "replayed without those calls and the small device-to-host reads they wait for "
      "(and the host time of issuing them), so the host keeps queueing work ahead of the "
      "GPU";
  r.confidence = Confidence::kMedium;  // some syncs are needed (control flow on a GPU value)
  r.relieves = BoundClass::kHost;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
