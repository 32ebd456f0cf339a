// Memory pressure: an allocator peak close to the device's memory. Not a speed-up, a risk: the
// next larger batch or sequence fails with out-of-memory, and the allocator starts to thrash.
#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {

inline constexpr double kMemoryPressure = 0.90;

std::vector<Recommendation> MemoryPressure(const RuleContext& c) {
  for (const MemoryHeadroom& m : c.memory) {
    if (m.device != c.timeline.device || m.total <= 0 || m.peak_fraction < kMemoryPressure)
      continue;
    Recommendation r;
    r.id = "memory_pressure";
    r.title = "Make room in device memory before scaling up";
    r.action =
        "activation checkpointing (torch.utils.checkpoint on the largest blocks), AMP "
        "(bf16 activations take half the memory), or a smaller micro-batch with gradient "
        "accumulation";
    r.evidence.push_back(fmt::format("peak allocated {:.2f} GB of {:.2f} GB ({}); reserved {}",
                                     m.peak_allocated / 1e9, m.total / 1e9, Pct(m.peak_fraction),
                                     Pct(m.reserved_fraction)));
    r.saving_ms = 0;
    r.basis = SavingBasis::kNone;
    r.method =
        "none: this removes the risk of running out of memory, it does not speed up the "
        "step (checkpointing costs about one extra forward pass)";
    r.confidence = Confidence::kHigh;
    r.relieves = BoundClass::kMemory;
    return {c.Finish(std::move(r))};
  }
  return {};
}

}  // namespace teye::rules
