// CPU work on the launching thread between GPU work: preprocessing, logging, metrics,
// checkpointing done inline, while the GPU waits.
#include <algorithm>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// Host work this long between two events of the launching thread is code, not dispatch.
constexpr TimeNs kCpuWorkGap = kNsPerMs;

bool LooksLikePreprocessing(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (std::string_view word : {"transform", "preprocess", "tokeniz", "collate", "decode",
                                "augment", "normalize", "resize", "image_processing"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

std::vector<Recommendation> MoveCpuWork(const RuleContext& c) {
  const double share = c.Share(TimeCategory::kOtherCpu);
  if (share < 0.05) return {};
  // Shrink every long stretch of host work on the threads that launch the device's work.
  ReplayChange change;
  change.host_gap_scale.assign(c.graph.host.size(), 1.0);
  std::vector<TimeNs> last_end;
  int gaps = 0;
  for (size_t e = 0; e < c.graph.host.size(); ++e) {
    const ReplayHostEvent& ev = c.graph.host[e];
    if (ev.thread >= last_end.size()) last_end.resize(ev.thread + 1, INT64_MIN);
    if (last_end[ev.thread] != INT64_MIN && ev.start - last_end[ev.thread] >= kCpuWorkGap) {
      change.host_gap_scale[e] = 0;
      ++gaps;
    }
    last_end[ev.thread] = std::max(last_end[ev.thread], ev.end);
  }
  if (gaps == 0) return {};
  const auto& who = c.device.contributors[static_cast<size_t>(TimeCategory::kOtherCpu)];
  const bool preprocessing = !who.empty() && LooksLikePreprocessing(who.front().name);
  Recommendation r;
  r.id = "move_cpu_work";
  r.title = preprocessing ? "Move input preprocessing off the training thread"
                          : "Take CPU work out of the step's critical path";
  r.action =
      preprocessing
          ? "do the transforms in the Dataset's __getitem__ so DataLoader workers "
            "(num_workers > 0) run them in parallel, or on the GPU (torchvision.transforms.v2 "
            "on CUDA tensors, NVIDIA DALI)"
          : "find the Python that runs between launches (py-spy dump/record on the training "
            "process); move logging, metrics and checkpointing to every N steps or a "
            "background thread, and keep per-step tensor work on the GPU";
  r.evidence.push_back(fmt::format(
      "the GPU idles {} per step ({} of the step) while the launching thread runs other code",
      Ms(c.MsPerStep(TimeCategory::kOtherCpu)), Pct(share)));
  if (std::string top = TopContributors(c, TimeCategory::kOtherCpu, 3); !top.empty())
    r.evidence.push_back("most of it in " + top);
  r.saving_ms = c.SavingMs(change);
  r.method = fmt::format(
      "replayed without the {} stretches of host work of 1 ms or more between the launching "
      "thread's GPU calls, as if that work ran elsewhere in parallel: an upper bound, reached "
      "when the work moves entirely off the critical path",
      gaps);
  r.confidence = Confidence::kLow;
  r.relieves = preprocessing ? BoundClass::kInput : BoundClass::kHost;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
