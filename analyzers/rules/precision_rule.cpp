// FP32 GEMMs and convolutions on SIMT cores: AMP (bf16/fp16) or TF32 puts them on Tensor Cores.
#include <algorithm>

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

// The duration scale of an FP32 GEMM/conv op group on 16-bit Tensor Cores, priced from its
// roofline: it keeps the fraction of its compute roof it reaches now (achieved / FP32 peak) on
// the 16-bit roof, and its bytes halve; 0 when the roofline cannot price it.
double PricedScale(const RooflineOp& op, const RooflineResult& r, bool ampere) {
  if (op.dtype != DataType::kFp32 || op.gpu_ns <= 0 || op.flops <= 0 || op.peak_tflops <= 0 ||
      op.tensor_core)
    return 0;
  const DevicePeaks& p = r.peaks.peaks;
  const double peak16 =
      PeakTflops(p, ampere ? DataType::kBf16 : DataType::kFp16, /*matrix=*/true, false);
  if (peak16 <= 0) return 0;
  const double efficiency = std::min(1.0, op.achieved_tflops / op.peak_tflops);
  const double compute_s = op.flops / (efficiency * peak16 * 1e12);
  const double memory_s = p.mem_gbps > 0 ? op.bytes / 2 / (p.mem_gbps * 1e9) : 0;
  const double seconds = static_cast<double>(op.gpu_ns) / kNsPerSec;
  return std::clamp(std::max(compute_s, memory_s) / seconds, 1.0 / 64, 1.0);
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
  const bool ampere = d && d->compute_major >= 8;
  // Where the roofline knows a GEMM's work and the device's peaks, the speed-up is priced from
  // its achieved rate; elsewhere the fixed per-generation factor applies.
  const RooflineResult* roof =
      c.roofline && c.roofline->valid && c.roofline->peaks.origin != PeakOrigin::kUnknown
          ? c.roofline
          : nullptr;
  std::vector<double> priced;
  if (roof) {
    priced.resize(roof->ops.size());
    for (size_t i = 0; i < roof->ops.size(); ++i)
      priced[i] = PricedScale(roof->ops[i], *roof, ampere);
  }
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  TimeNs simt_ns = 0, priced_ns = 0;
  for (size_t i = 0; i < c.graph.ops.size(); ++i) {
    const ReplayOp& op = c.graph.ops[i];
    if (op.cls != KernelClass::kGemmSimt) continue;
    simt_ns += op.duration();
    double scale = 1.0 / speedup;
    if (roof && op.row >= 0 && static_cast<size_t>(op.row) < roof->op_of_kernel.size())
      if (const int32_t g = roof->op_of_kernel[static_cast<size_t>(op.row)];
          g >= 0 && priced[static_cast<size_t>(g)] > 0) {
        scale = priced[static_cast<size_t>(g)];
        priced_ns += op.duration();
      }
    change.duration_scale[i] = scale;
  }
  const double priced_share =
      simt_ns > 0 ? static_cast<double>(priced_ns) / static_cast<double>(simt_ns) : 0;
  Recommendation r;
  r.id = "amp";
  r.title = "Run GEMMs and convolutions on Tensor Cores (AMP bf16/fp16, or TF32)";
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
  const std::string device = d && !d->name.empty() ? d->name : std::string("the device");
  if (priced_share >= 0.995)
    r.method = fmt::format(
        "replayed with each FP32 GEMM/conv op at the fraction of its FP32 roof it reaches now, "
        "applied to {}'s 16-bit Tensor Core roof, and half its bytes (roofline from {})",
        device, roof->source);
  else if (priced_share > 0)
    r.method = fmt::format(
        "replayed with FP32 GEMM/conv ops priced from the roofline for {} of their time (their "
        "achieved fraction of the FP32 roof applied to {}'s 16-bit Tensor Core roof, half the "
        "bytes) and {:.0f}x faster for the rest",
        Pct(priced_share), device, speedup);
  else
    r.method = fmt::format(
        "replayed with FP32 SIMT GEMM/conv kernels {:.0f}x faster ({}'s Tensor Cores at "
        "realistic, not peak, efficiency)",
        speedup, device);
  r.confidence = known || priced_share > 0.5 ? Confidence::kMedium : Confidence::kLow;
  r.relieves = BoundClass::kCompute;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
