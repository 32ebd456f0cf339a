#include "text_microarch.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "teye/reports/format.h"

namespace teye {
namespace {

constexpr int kLabelWidth = 15;  // as the rest of the text report
constexpr size_t kOpsShown = 5;

std::string Styled(const TextOptions& o, std::string_view code, std::string_view text) {
  return o.color ? fmt::format("\033[{}m{}\033[0m", code, text) : std::string(text);
}

std::string Rate(double v) {
  if (v <= 0) return "-";
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 1) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

std::string Pct(double share) {
  return fmt::format("{:.0f}%", 100 * share);
}

std::string RoofLine(const RooflineResult& r) {
  const DevicePeakMatch& p = r.peaks;
  if (p.origin == PeakOrigin::kUnknown)
    return "roofs unknown: the device is not in the peak table (--device-peaks FILE)";
  std::string roofs;
  if (r.peak_tflops > 0)
    roofs += fmt::format("{} {} TFLOP/s", ToString(r.dtype), Rate(r.peak_tflops));
  if (r.peak_gbps > 0)
    roofs += fmt::format("{}{:.0f} GB/s", roofs.empty() ? "" : ", ", r.peak_gbps);
  if (r.ridge > 0) roofs += fmt::format(", ridge {:.0f} FLOP/B", r.ridge);
  return fmt::format("roofs{}: {}", p.origin == PeakOrigin::kEstimated ? " (estimated)" : "",
                     roofs);
}

}  // namespace

std::string MicroArchText(const TraceAnalysis& a, const TextOptions& o) {
  const RooflineResult& r = a.roofline;
  const OccupancyResult& occ = a.occupancy;
  if (!r.valid && !r.has_counters && !occ.valid) return {};
  std::string out;
  const std::string pad(kLabelWidth, ' ');
  auto line = [&](const std::string& s) {
    out += s;
    out += '\n';
  };
  const std::string label = Styled(o, "1", fmt::format("{:<{}}", "MICRO-ARCH", kLabelWidth));
  bool first = true;
  auto next_label = [&]() -> std::string {
    if (!first) return pad;
    first = false;
    return label;
  };
  if (r.valid || r.has_counters) {
    line(next_label() + fmt::format("roofline from {} · {}", r.source,
                                    r.peaks.device.empty() ? "device unnamed" : r.peaks.device));
    line(pad + RoofLine(r));
    std::string facts;
    if (r.kernel_ns > 0)
      facts = fmt::format("{} of kernel time in ops with known work", Pct(r.coverage()));
    if (r.has_counters)
      facts += fmt::format("{}counters: {:.3g} FLOP in {} kernels", facts.empty() ? "" : " · ",
                           r.counter_flops, r.counter_ranges);
    if (!facts.empty()) line(pad + Styled(o, "2", facts));
  }
  if (occ.valid) {
    std::string s = fmt::format("SM efficiency {}", Pct(occ.sm_efficiency));
    if (occ.limits.known) s += fmt::format(" · theoretical occupancy {}", Pct(occ.theoretical));
    if (occ.achieved >= 0) s += fmt::format(" · est. achieved {}", Pct(occ.achieved));
    line(next_label() + s);
  }
  // The ops that lost the most time against their roof, else the largest.
  std::vector<const RooflineOp*> ops;
  for (const RooflineOp& op : r.ops)
    if (op.gpu_ns > 0) ops.push_back(&op);
  const bool by_loss = r.peaks.origin != PeakOrigin::kUnknown;
  if (by_loss)
    std::stable_sort(ops.begin(), ops.end(), [](const RooflineOp* x, const RooflineOp* y) {
      return x->lost_ms > y->lost_ms;
    });
  if (!ops.empty()) {
    const int name_width = std::max(30, o.width - 58);
    line(
        Styled(o, "2",
               fmt::format("  {:<{}}{:>9}{:>9}{:>8}{:>8}{:>8}  {}",
                           by_loss ? "ops furthest below their roof" : "ops by GPU time",
                           name_width, "GPU ms", "TFLOP/s", "GB/s", "FLOP/B", "of roof", "bound")));
    for (size_t i = 0; i < ops.size() && i < kOpsShown; ++i) {
      const RooflineOp& op = *ops[i];
      std::string name = op.name;
      if (!op.shape.empty()) name += " " + op.shape;
      if (op.dtype != DataType::kUnknown) name += fmt::format(" {}", ToString(op.dtype));
      line(fmt::format("  {:<{}}{:>9}{:>9}{:>8}{:>8}{:>8}  {}",
                       Ellipsize(name, static_cast<size_t>(name_width - 1)), name_width,
                       FormatMs(op.gpu_ms()), Rate(op.achieved_tflops), Rate(op.achieved_gbps),
                       op.bytes > 0 ? Rate(op.intensity) : std::string("-"),
                       op.efficiency > 0 ? Pct(op.efficiency) : std::string("-"), op.bound));
    }
  }
  for (const std::string& n : r.notes)
    line(pad + Styled(o, "2", Ellipsize(n, static_cast<size_t>(o.width - kLabelWidth))));
  for (const std::string& n : occ.notes)
    line(pad + Styled(o, "2", Ellipsize(n, static_cast<size_t>(o.width - kLabelWidth))));
  out += '\n';
  return out;
}

}  // namespace teye
