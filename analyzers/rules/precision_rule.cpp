// FP32 GEMMs and convolutions on SIMT cores: AMP (bf16/fp16) or TF32 puts them on Tensor Cores.
#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// Expected speed-up of GEMM/conv time from FP32 SIMT to 16-bit Tensor Cores, by device
// generation: well below the peak ratio (8x–16x), because real GEMMs do not run at peak.
double TensorCoreSpeedup(const DeviceInfo* d, bool* known) {
  *known = d && d->compute_major > 0;
  if (!d) return 4;
  if (d->vendor == GpuVendor::kAmd) return 4;  // MFMA
  switch (d->compute_major) {
    case 7:
      return 4;  // Volta/Turing fp16 Tensor Cores
    case 8:
      return d->compute_minor == 0 ? 8 : 4;  // A100; consumer Ampere/Ada have 2x FP32
    case 9:
      return 8;  // Hopper
    default:
      return d->compute_major >= 10 ? 8 : 1;
  }
}

}  // namespace

std::vector<Recommendation> MixedPrecision(const RuleContext& c) {
  bool known = false;
  const DeviceInfo* d = c.DeviceProperties();
  const double speedup = TensorCoreSpeedup(d, &known);
  if (speedup <= 1) return {};  // no Tensor Cores (pre-Volta)
  double simt_ms = 0;
  for (const ClassStat& s : c.kernels.classes)
    if (s.cls == KernelClass::kGemmSimt) simt_ms = static_cast<double>(s.total_ns) / kNsPerMs;
  const double per_step = simt_ms / std::max(1, c.complete_steps);
  if (per_step < 0.05 * c.mean_step_ms) return {};
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  for (size_t i = 0; i < c.graph.ops.size(); ++i)
    if (c.graph.ops[i].cls == KernelClass::kGemmSimt) change.duration_scale[i] = 1.0 / speedup;
  Recommendation r;
  r.id = "amp";
  r.title = "Run GEMMs and convolutions on Tensor Cores (AMP bf16/fp16, or TF32)";
  const bool ampere = d && d->compute_major >= 8;
  r.action = ampere ? "with torch.autocast('cuda', dtype=torch.bfloat16): around forward and loss; "
                      "at the least torch.backends.cuda.matmul.allow_tf32 = True and "
                      "torch.backends.cudnn.allow_tf32 = True"
                    : "with torch.autocast('cuda', dtype=torch.float16): around forward and loss, "
                      "with torch.cuda.amp.GradScaler for the backward";
  r.evidence.push_back(fmt::format("FP32 SIMT GEMM/conv kernels take {} per step ({} of the step)",
                                   Ms(per_step), Pct(per_step / c.mean_step_ms)));
  for (const KernelStat& k : c.kernels.top) {
    if (k.cls != KernelClass::kGemmSimt) continue;
    r.evidence.push_back(fmt::format("largest: {} ({} calls, {} in all)", k.name.substr(0, 80),
                                     k.count, Ms(static_cast<double>(k.total_ns) / kNsPerMs)));
    break;
  }
  r.saving_ms = c.SavingMs(change);
  r.method = fmt::format(
      "replayed with FP32 SIMT GEMM/conv kernels {:.0f}x faster ({}'s Tensor Cores at realistic, "
      "not peak, efficiency)",
      speedup, d && !d->name.empty() ? d->name : std::string("the device"));
  r.confidence = known ? Confidence::kMedium : Confidence::kLow;
  r.relieves = BoundClass::kCompute;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
