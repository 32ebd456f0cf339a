// The dataloader_workers recommendation follows why the input is slow (input_cause.h): its title,
// action and evidence name the cause, and its saving is capped at what more workers can give on
// this machine (the cores the job's processes need, the store's measured bandwidth). The pricing
// itself — the replay — stays with the rule.
#include <algorithm>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {

void FollowInputCause(const RuleContext& c, Recommendation& r) {
  if (!c.input || !c.input->present) return;
  const InputDiagnosis& in = *c.input;
  const InputFix& fix = in.fix;
  r.evidence.push_back(fmt::format("input cause {}: {}", ToString(in.cause), in.reason));
  const std::string workers = fix.workers > 0 ? std::to_string(fix.workers) : "<CPU cores per GPU>";
  const bool enough_workers = fix.workers > 0 && fix.workers <= in.workers;
  switch (in.cause) {
    case InputCause::kStorage:
      r.title = "Hide the store's latency: more DataLoader workers and deeper prefetching";
      r.action = fmt::format(
          "DataLoader(..., num_workers={}, prefetch_factor=4, persistent_workers=True); the "
          "loader waits on reads, so beyond that read larger contiguous chunks, cache or stage "
          "the data on local disk, or pack samples into shards (WebDataset, TFRecord-style) "
          "instead of many small files",
          workers);
      break;
    case InputCause::kCpu:
      r.title = enough_workers
                    ? "Make each sample cheaper: the DataLoader is CPU-bound"
                    : "Give the DataLoader's CPU work more workers, then make it cheaper";
      r.action = fmt::format(
          "{}DataLoader(..., num_workers={}, persistent_workers=True); the loader is CPU-bound and "
          "workers help only up to the cores{}: make each sample cheaper — decode once and cache "
          "the decoded tensors, lighter transforms, or decode and augment on the GPU (NVIDIA "
          "DALI, torchvision.transforms.v2 on CUDA tensors)",
          enough_workers ? "keep " : "", workers,
          c.trace.info().host_cpus > 0 ? fmt::format(" ({})", c.trace.info().host_cpus)
                                       : std::string());
      break;
    case InputCause::kTransfer:
      r.action +=
          "; the batches reach the training loop or the GPU slowly: pin_memory=True with "
          ".to(device, non_blocking=True), a side-stream prefetcher, and a light collate_fn";
      break;
    case InputCause::kUnknown:
      break;
  }
  if (fix.workers <= 0 || fix.predicted_step_ms <= 0) return;
  const double cap = std::max(0.0, c.mean_step_ms - fix.predicted_step_ms);
  if (r.saving_ms > cap) {
    r.saving_ms = cap;
    r.method += fmt::format(
        "; capped at {} per step: with {} workers the step cannot drop below {} ({} limit: {})",
        Ms(cap), fix.workers, Ms(fix.predicted_step_ms), fix.limit, fix.method);
  } else {
    r.method += fmt::format("; with {} workers the step is predicted at {} ({})", fix.workers,
                            Ms(fix.predicted_step_ms), fix.method);
  }
}

}  // namespace teye::rules
