// A GPU that waits for the host to issue work: CUDA graphs when launches are the bottleneck, a
// larger batch when the kernels are too small to keep the device busy.
#include <algorithm>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// Median duration of the kernels in the replayed steps, in µs.
double MedianKernelUs(const RuleContext& c) {
  std::vector<TimeNs> d;
  for (const ReplayOp& op : c.graph.ops)
    if (op.kind == GpuOpKind::kKernel) d.push_back(op.duration());
  if (d.empty()) return 0;
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  return static_cast<double>(d[d.size() / 2]) / 1000;
}

double LaunchesPerStep(const RuleContext& c) {
  size_t launches = 0;
  for (const ReplayHostEvent& e : c.graph.host)
    if (e.kind == ReplayHostEvent::Kind::kLaunch) ++launches;
  return static_cast<double>(launches) / std::max<size_t>(1, c.graph.steps.size());
}

}  // namespace

std::vector<Recommendation> CudaGraphs(const RuleContext& c) {
  const double launch_share = c.Share(TimeCategory::kLaunch);
  if (launch_share < 0.05) return {};
  ReplayChange change;
  change.graph_launch = true;
  Recommendation r;
  r.id = "cuda_graphs";
  r.title = "Launch the step as a CUDA graph";
  r.action =
      "torch.compile(model, mode=\"reduce-overhead\"), or capture the step with "
      "torch.cuda.graphs / torch.cuda.make_graphed_callables; plain CUDA: "
      "cudaStreamBeginCapture … cudaStreamEndCapture, then cudaGraphLaunch each step "
      "(no host synchronization or shape changes inside the captured region)";
  r.evidence.push_back(
      fmt::format("the GPU idles {} per step ({} of the step) while the host is still issuing work",
                  Ms(c.MsPerStep(TimeCategory::kLaunch)), Pct(launch_share)));
  r.evidence.push_back(fmt::format(
      "{:.0f} launches per step; median kernel {:.1f} µs, host "
      "launch call {:.1f} µs",
      LaunchesPerStep(c), MedianKernelUs(c), static_cast<double>(c.graph.launch_cost) / 1000));
  if (c.Share(TimeCategory::kSync) >= 0.02)
    r.evidence.push_back(
        "the step also synchronizes with the host: remove those syncs first, "
        "a captured graph cannot contain them");
  r.saving_ms = c.SavingMs(change);
  r.method =
      "replayed with each step's launches issued as one graph launch: the host pays once "
      "per step and the device runs the kernels back to back (~1 µs apart)";
  r.confidence = Confidence::kMedium;  // capture is not always possible (dynamic shapes, syncs)
  r.relieves = BoundClass::kHost;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

std::vector<Recommendation> LargerBatch(const RuleContext& c) {
  if (c.device.total_duration <= 0 || c.mean_step_ms <= 0) return {};
  const double utilization =
      static_cast<double>(c.device.kernel_ns) / static_cast<double>(c.device.total_duration);
  const double median_us = MedianKernelUs(c);
  if (utilization >= 0.5 || median_us <= 0 || median_us >= 50) return {};
  // Only when neither the input pipeline, synchronization nor communication starves the GPU (a
  // larger batch fixes none of them), and memory leaves room.
  if (c.Share(TimeCategory::kInput) >= 0.2 || c.Share(TimeCategory::kSync) >= 0.05 ||
      c.Share(TimeCategory::kCommunication) >= 0.10)
    return {};
  const MemoryHeadroom* memory = nullptr;
  for (const MemoryHeadroom& m : c.memory)
    if (m.device == c.timeline.device) memory = &m;
  if (memory && memory->total > 0 && memory->peak_fraction >= 0.6) return {};

  double host_ms = 0;  // idle time that does not grow with the batch
  for (TimeCategory t : {TimeCategory::kLaunch, TimeCategory::kSync, TimeCategory::kOtherCpu})
    host_ms += c.MsPerStep(t);
  Recommendation r;
  r.id = "larger_batch";
  r.title = "Use a larger batch: the GPU is mostly idle and its kernels are small";
  r.action =
      "double the per-GPU batch size (DataLoader(batch_size=…)), scaling the learning rate "
      "as your recipe prescribes; or use more of the device per process";
  r.evidence.push_back(fmt::format("GPU utilization {} of the step; median kernel {:.1f} µs",
                                   Pct(utilization), median_us));
  if (memory && memory->total > 0)
    r.evidence.push_back(fmt::format("peak allocated memory {:.1f} of {:.1f} GB ({})",
                                     memory->peak_allocated / 1e9, memory->total / 1e9,
                                     Pct(memory->peak_fraction)));
  else
    r.evidence.push_back("the trace has no memory events: check the headroom before doubling");
  r.saving_ms = host_ms / 2;
  r.basis = SavingBasis::kAnalytic;
  r.method = fmt::format(
      "analytic, not replayed: per-step host time ({} of launch, sync and other CPU idle) is "
      "paid once per step whatever the batch, so doubling the batch halves it per sample; "
      "shown as the saving per step at the current batch size",
      Ms(host_ms));
  r.confidence = Confidence::kLow;
  r.relieves = BoundClass::kHost;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
