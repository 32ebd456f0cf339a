// Rules from the micro-architecture view: ops far below their roofline, and grids too small to
// fill the GPU.
#include <algorithm>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// The fraction of its roof an op is asked to reach: tuned GEMMs reach 60-80% of peak and
// streaming kernels 70-90% of bandwidth, so half the roof is attainable by ordinary kernels.
constexpr double kRoofTarget = 0.5;

std::string OpLabel(const RooflineOp& op) {
  std::string s = op.name;
  if (!op.shape.empty()) s += " " + op.shape;
  if (op.dtype != DataType::kUnknown) s += fmt::format(" {}", ToString(op.dtype));
  return s;
}

std::string RateText(const RooflineOp& op, const RooflineResult& r) {
  if (op.bound == "memory")
    return fmt::format("{:.0f} of {:.0f} GB/s", op.achieved_gbps, r.peaks.peaks.mem_gbps);
  return fmt::format("{:.1f} of {:.0f} TFLOP/s", op.achieved_tflops, op.peak_tflops);
}

bool IsMatrixKind(const RooflineOp& op) {
  return op.kind == "gemm" || op.kind == "convolution" || op.kind == "attention";
}

}  // namespace

std::vector<Recommendation> BelowRoofline(const RuleContext& c) {
  if (!c.roofline || !c.roofline->valid || c.roofline->peaks.origin == PeakOrigin::kUnknown)
    return {};
  const RooflineResult& r = *c.roofline;
  const double steps = std::max(1, c.complete_steps);
  // Ops below the target: how long they would take at it.
  std::vector<double> scale(r.ops.size(), 1.0);
  std::vector<size_t> slow;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    const RooflineOp& op = r.ops[i];
    if (op.gpu_ns <= 0 || op.roof_ms <= 0 || op.efficiency >= kRoofTarget) continue;
    scale[i] = (op.roof_ms / kRoofTarget) / op.gpu_ms();
    slow.push_back(i);
  }
  if (slow.empty()) return {};
  // The evidence names the ops that lose the most time against their roof.
  std::stable_sort(slow.begin(), slow.end(),
                   [&](size_t a, size_t b) { return r.ops[a].lost_ms > r.ops[b].lost_ms; });
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  for (size_t i = 0; i < c.graph.ops.size(); ++i) {
    const RowIndex row = c.graph.ops[i].row;
    if (row < 0 || static_cast<size_t>(row) >= r.op_of_kernel.size()) continue;
    const int32_t group = r.op_of_kernel[static_cast<size_t>(row)];
    if (group >= 0) change.duration_scale[i] = scale[static_cast<size_t>(group)];
  }
  Recommendation rec;
  rec.id = "below_roofline";
  rec.title = "Speed up the ops that run far below their roofline";
  bool matrix = false, memory = false;
  for (size_t k = 0; k < slow.size() && k < 3; ++k) {
    const RooflineOp& op = r.ops[slow[k]];
    (IsMatrixKind(op) ? matrix : memory) = true;
    rec.evidence.push_back(fmt::format(
        "{}: {} per step in {} calls, {} more than at its roof ({} of it: {}, {}-bound); at "
        "half its roof it would take {}",
        OpLabel(op), Ms(op.gpu_ms() / steps), op.calls, Ms(op.lost_ms / steps), Pct(op.efficiency),
        RateText(op, r), op.bound, Ms(op.gpu_ms() * scale[slow[k]] / steps)));
  }
  std::vector<std::string> actions;
  if (matrix)
    actions.push_back(
        "for GEMMs/convolutions/attention with small or odd sizes, pad M, N and K to multiples "
        "of 64 (8 at least), batch small GEMMs into one torch.bmm, or let "
        "torch.compile(model, mode=\"max-autotune\") choose the kernels");
  if (memory)
    actions.push_back(
        "fuse the memory-bound ops so their tensors cross memory once: torch.compile(model), "
        "F.scaled_dot_product_attention instead of softmax(QKᵀ)V, fused LayerNorm and "
        "optimizers (fused=True)");
  for (size_t k = 0; k < actions.size(); ++k)
    rec.action += (k ? "; " : "") + actions[k];
  rec.saving_ms = c.SavingMs(change);
  rec.method = fmt::format(
      "replayed with each op below {:.0f}% of its roof sped up to {:.0f}% of it (roof time = "
      "max(FLOPs / peak, bytes / bandwidth), work from {}, peaks of {}: {})",
      100 * kRoofTarget, 100 * kRoofTarget, r.source, r.peaks.device, r.peaks.peaks.source);
  rec.confidence = r.coverage() >= 0.5 && r.peaks.origin == PeakOrigin::kTable ? Confidence::kMedium
                                                                               : Confidence::kLow;
  rec.relieves = r.ops[slow.front()].bound == "memory" ? BoundClass::kMemory : BoundClass::kCompute;
  if (!WorthReporting(rec.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(rec))};
}

std::vector<Recommendation> SmallGrid(const RuleContext& c) {
  if (!c.occupancy || !c.occupancy->valid || c.occupancy->num_sms <= 0) return {};
  const OccupancyResult& o = *c.occupancy;
  // Only for a busy GPU: when it is mostly idle, larger_batch speaks for the same change.
  if (c.device.total_duration <= 0 ||
      static_cast<double>(c.device.kernel_ns) / static_cast<double>(c.device.total_duration) < 0.5)
    return {};
  const double steps = std::max(1, c.complete_steps);
  const double small_ms = static_cast<double>(o.small_grid_ns) / kNsPerMs / steps;
  if (small_ms < 0.05 * c.mean_step_ms) return {};
  Recommendation r;
  r.id = "small_grid";
  r.title = "Fill the GPU: many kernels launch fewer blocks than it has SMs";
  r.evidence.push_back(fmt::format(
      "kernels whose grid fills at most half of the {} SMs take {} per step ({} of the step); "
      "SM efficiency over all kernels {}",
      o.num_sms, Ms(small_ms), Pct(small_ms / c.mean_step_ms), Pct(o.sm_efficiency)));
  size_t listed = 0;
  for (const KernelOccupancy& k : o.kernels) {
    if (listed >= 2) break;
    if (k.sm_efficiency > 0.5) continue;
    std::string occupancy;
    if (o.limits.known)
      occupancy = fmt::format(", theoretical occupancy {} (limited by {})",
                              Pct(k.occupancy.theoretical), ToString(k.occupancy.limiter));
    r.evidence.push_back(fmt::format("{}: {} blocks of {} threads on {} SMs{}, {} per step",
                                     k.name.substr(0, 80), k.grid_blocks, k.block_threads,
                                     o.num_sms, occupancy,
                                     Ms(static_cast<double>(k.gpu_ns) / kNsPerMs / steps)));
    ++listed;
  }
  r.action =
      "raise the per-GPU batch size (or the tokens per step) so each launch has at least one "
      "block per SM; for GEMMs that cannot grow, torch.compile(model, mode=\"max-autotune\") "
      "picks split-K kernels; run independent small ops on separate CUDA streams";
  r.saving_ms = small_ms / 2;
  r.method =
      "analytic, not replayed: a kernel filling at most half of the SMs runs twice the blocks in "
      "about the same time, so doubling the batch halves its cost per sample; shown as the "
      "saving per step at the current batch size";
  r.confidence = Confidence::kLow;
  r.relieves = BoundClass::kCompute;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
