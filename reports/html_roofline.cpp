#include "html_roofline.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "teye/reports/format.h"

#include "html_escape.h"

namespace teye {
namespace {

constexpr size_t kRows = 25;  // ops and kernels in the tables; the chart draws the same ops
constexpr double kWidth = 720, kHeight = 360;
constexpr double kLeft = 64, kRight = 16, kTop = 16, kBottom = 44;

std::string Rate(double v) {
  if (v <= 0) return "–";
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 1) return fmt::format("{:.1f}", v);
  if (v >= 0.01) return fmt::format("{:.2f}", v);
  return fmt::format("{:.1e}", v);
}

std::string Pct(double share) {
  return fmt::format("{:.0f}%", 100 * share);
}

// A log10 axis over whole decades that contain [lo, hi].
struct LogAxis {
  double lo_decade, hi_decade, pixels_from, pixels_to;
  double operator()(double v) const {
    const double t = (std::log10(v) - lo_decade) / (hi_decade - lo_decade);
    return pixels_from + t * (pixels_to - pixels_from);
  }
};
LogAxis MakeAxis(double lo, double hi, double from, double to) {
  double a = std::floor(std::log10(lo)), b = std::ceil(std::log10(hi));
  if (b <= a) b = a + 1;
  return {a, b, from, to};
}

std::string DecadeLabel(int e) {
  if (e >= 0 && e <= 4) return fmt::format("{:.0f}", std::pow(10.0, e));
  if (e < 0 && e >= -3) return fmt::format("{:.{}f}", std::pow(10.0, e), -e);
  return fmt::format("1e{}", e);
}

void Chart(std::string& o, const RooflineResult& r, const std::vector<const RooflineOp*>& ops) {
  const double peak = r.peak_tflops, bw = r.peak_gbps;
  const bool roofs = peak > 0 && bw > 0;
  double x_lo = 1e9, x_hi = 0, y_lo = 1e9, y_hi = 0;
  for (const RooflineOp* op : ops) {
    x_lo = std::min(x_lo, op->intensity);
    x_hi = std::max(x_hi, op->intensity);
    y_lo = std::min(y_lo, op->achieved_tflops);
    y_hi = std::max(y_hi, op->achieved_tflops);
  }
  if (roofs) {
    x_lo = std::min(x_lo, r.ridge / 100);
    x_hi = std::max(x_hi, r.ridge * 10);
    y_hi = std::max(y_hi, peak);
    y_lo = std::min(y_lo, x_lo * bw / 1e3);
  }
  const LogAxis x = MakeAxis(x_lo, x_hi, kLeft, kWidth - kRight);
  const LogAxis y = MakeAxis(y_lo, y_hi * 1.5, kHeight - kBottom, kTop);
  o += fmt::format(
      "<svg id=\"roofline\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"roofline\">\n", kWidth,
      kHeight);
  for (int e = static_cast<int>(x.lo_decade); e <= static_cast<int>(x.hi_decade); ++e) {
    const double px = x(std::pow(10.0, e));
    o += fmt::format(
        "<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        px, kTop, kHeight - kBottom, kHeight - kBottom + 14, DecadeLabel(e));
  }
  for (int e = static_cast<int>(y.lo_decade); e <= static_cast<int>(y.hi_decade); ++e) {
    const double py = y(std::pow(10.0, e));
    o += fmt::format(
        "<line class=\"axis\" x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, py, kWidth - kRight, kLeft - 6, py + 4, DecadeLabel(e));
  }
  o += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte)</text>"
      "<text x=\"14\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">achieved "
      "TFLOP/s</text>\n",
      (kLeft + kWidth - kRight) / 2, kHeight - 6, (kTop + kHeight - kBottom) / 2,
      (kTop + kHeight - kBottom) / 2);
  if (roofs) {
    // Memory roof (TFLOP/s = intensity · GB/s / 1000) up to the ridge, then the compute roof.
    const double x0 = std::pow(10.0, x.lo_decade), x1 = std::pow(10.0, x.hi_decade);
    const double y0 = std::max(x0 * bw / 1e3, std::pow(10.0, y.lo_decade));
    const double x_start = y0 * 1e3 / bw;
    o += fmt::format(
        "<polyline id=\"roof\" fill=\"none\" stroke=\"#1d2330\" stroke-width=\"2\" "
        "points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\"/>\n",
        x(x_start), y(y0), x(r.ridge), y(peak), x(x1), y(peak));
    // The label reads away from the chart's nearer edge.
    const bool right_half = x(r.ridge) > kWidth / 2;
    o += fmt::format(
        "<line id=\"ridge\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2}\" "
        "stroke=\"#5b6475\" stroke-dasharray=\"4 3\"/><text x=\"{3:.1f}\" y=\"{4:.1f}\" "
        "text-anchor=\"{8}\">ridge {5:.0f} FLOP/B · {6} TFLOP/s · {7:.0f} GB/s</text>\n",
        x(r.ridge), y(peak), kHeight - kBottom, x(r.ridge) + (right_half ? -6 : 6), y(peak) - 6,
        r.ridge, Rate(peak), bw, right_half ? "end" : "start");
  }
  TimeNs total = 0;
  for (const RooflineOp* op : ops)
    total += op->gpu_ns;
  for (const RooflineOp* op : ops) {
    const double share = total > 0 ? static_cast<double>(op->gpu_ns) / total : 0;
    const double radius = 3 + 14 * std::sqrt(share);
    const char* cls = op->bound == "memory" ? "c4" : op->bound == "compute" ? "c0" : "c8";
    o += fmt::format(
        "<circle class=\"{}\" fill-opacity=\"0.6\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:.1f}\">"
        "<title>{} {} {}: {} ms, {} TFLOP/s, {} GB/s, {} FLOP/B</title></circle>\n",
        cls, x(op->intensity), y(op->achieved_tflops), radius, HtmlEscape(op->name),
        HtmlEscape(op->shape), ToString(op->dtype), FormatMs(op->gpu_ms()),
        Rate(op->achieved_tflops), Rate(op->achieved_gbps), Rate(op->intensity));
  }
  o += "</svg>\n<div class=\"legend\"><span><i class=\"c4\"></i>memory-bound op</span><span><i "
       "class=\"c0\"></i>compute-bound op</span><span><i class=\"c8\"></i>no roof</span><span "
       "class=\"mute\">dot area ∝ GPU time; hover a dot for its figures</span></div>\n";
}

void OpTable(std::string& o, const RooflineResult& r) {
  o += "<table id=\"roofline-ops\"><tr><th>op</th><th>shape</th><th>type</th><th "
       "class=\"num\">calls</th><th class=\"num\">GPU ms</th><th class=\"num\">TFLOP/s</th><th "
       "class=\"num\">GB/s</th><th class=\"num\">FLOP/B</th><th class=\"num\">of roof</th><th "
       "class=\"num\">lost ms</th><th>bound</th><th>source</th></tr>\n";
  for (size_t i = 0; i < r.ops.size() && i < kRows; ++i) {
    const RooflineOp& op = r.ops[i];
    o += fmt::format(
        "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
        HtmlEscape(op.name), HtmlEscape(op.shape), ToString(op.dtype), WithCommas(op.calls),
        op.gpu_ns > 0 ? FormatMs(op.gpu_ms()) : "–", Rate(op.achieved_tflops),
        Rate(op.achieved_gbps), op.bytes > 0 ? Rate(op.intensity) : "–",
        op.efficiency > 0 ? Pct(op.efficiency) : "–", op.lost_ms > 0 ? FormatMs(op.lost_ms) : "–",
        op.bound, HtmlEscape(op.flops_source.empty() ? op.bytes_source : op.flops_source));
  }
  o += "</table>\n";
}

void OccupancyTable(std::string& o, const OccupancyResult& occ) {
  o += fmt::format(
      "<p>SM efficiency (blocks per SM, capped at 1, weighted by kernel time) <b>{}</b>",
      Pct(occ.sm_efficiency));
  if (occ.limits.known)
    o += fmt::format(" · theoretical occupancy <b>{}</b>", Pct(occ.theoretical));
  if (occ.achieved >= 0)
    o += fmt::format(" · est. achieved occupancy <b>{}</b>", Pct(occ.achieved));
  o += fmt::format(" · {} SMs</p>\n", occ.num_sms);
  o += "<table id=\"occupancy\"><tr><th>kernel</th><th class=\"num\">GPU ms</th><th "
       "class=\"num\">grid</th><th class=\"num\">block</th><th class=\"num\">regs</th><th "
       "class=\"num\">smem</th><th class=\"num\">SM eff.</th><th class=\"num\">theoretical</th><th>"
       "limited by</th><th class=\"num\">est. achieved</th></tr>\n";
  for (size_t i = 0; i < occ.kernels.size() && i < kRows; ++i) {
    const KernelOccupancy& k = occ.kernels[i];
    o += fmt::format(
        "<tr><td><code title=\"{}\">{}</code></td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td "
        "class=\"num\">{}</td></tr>\n",
        HtmlEscape(Ellipsize(k.name, 400)), HtmlEscape(ShortKernelName(k.name, 70)),
        FormatMs(static_cast<double>(k.gpu_ns) / kNsPerMs), WithCommas(k.grid_blocks),
        k.block_threads, k.registers, HumanBytes(k.shared_memory), Pct(k.sm_efficiency),
        occ.limits.known ? Pct(k.occupancy.theoretical) : "–",
        occ.limits.known ? ToString(k.occupancy.limiter) : "–",
        k.achieved >= 0 ? Pct(k.achieved) : "–");
  }
  o += "</table>\n";
}

}  // namespace

void HtmlMicroArch(std::string& o, const TraceAnalysis& a) {
  const RooflineResult& r = a.roofline;
  if (!r.valid && !a.occupancy.valid) return;
  o += "<h2 id=\"micro-arch\">Roofline and occupancy</h2>\n";
  if (r.valid) {
    std::string facts = fmt::format("Work from {} · {}", r.source,
                                    r.peaks.device.empty() ? "device unnamed" : r.peaks.device);
    if (r.peaks.origin != PeakOrigin::kUnknown) facts += " · peaks: " + r.peaks.peaks.source;
    if (r.kernel_ns > 0)
      facts += fmt::format(" · {} of kernel time in ops with known work", Pct(r.coverage()));
    o += "<p class=\"mute\">" + HtmlEscape(facts) + "</p>\n";
    std::vector<const RooflineOp*> drawn;
    size_t without_flops = 0;
    for (size_t i = 0; i < r.ops.size() && i < kRows; ++i) {
      const RooflineOp& op = r.ops[i];
      if (op.gpu_ns <= 0) continue;
      if (op.flops > 0 && op.bytes > 0)
        drawn.push_back(&op);
      else
        ++without_flops;
    }
    if (!drawn.empty()) Chart(o, r, drawn);
    if (without_flops > 0)
      o += fmt::format(
          "<p class=\"mute\">{} op group{} without FLOPs (copies, gathers) appear in the table "
          "only: a log scale has no zero.</p>\n",
          without_flops, without_flops == 1 ? "" : "s");
    OpTable(o, r);
    if (!r.notes.empty()) {
      o += "<ul>";
      for (const std::string& n : r.notes)
        o += "<li>" + HtmlEscape(n) + "</li>";
      o += "</ul>\n";
    }
  }
  if (a.occupancy.valid) OccupancyTable(o, a.occupancy);
}

}  // namespace teye
