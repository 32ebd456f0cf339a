#include "teye/reports/diff_writer.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "teye/reports/format.h"
#include "teye/reports/markdown_writer.h"

namespace teye {
namespace {

using Json = nlohmann::ordered_json;

double Round(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  double r = std::round(v * scale) / scale;
  return r == 0 ? 0.0 : r;
}

// "+1.23 ms", "−0.5 ms", "0 ms": a real minus sign, and no sign on nothing.
std::string Signed(double v, const char* unit) {
  if (std::fabs(v) < 0.0005) return fmt::format("0{}", unit);
  return fmt::format("{}{}{}", v > 0 ? "+" : "−", FormatMs(std::fabs(v)), unit);
}

std::string SignedPct(double v) {
  if (std::fabs(v) < 0.05) return "0%";
  return fmt::format("{}{:.1f}%", v > 0 ? "+" : "−", std::fabs(v));
}

std::string SignedPts(double v) {
  if (std::fabs(v) < 0.05) return "0 points";
  return fmt::format("{}{:.1f} points", v > 0 ? "+" : "−", std::fabs(v));
}

std::string Spread(const DistributionStats& s, double scale, const char* unit) {
  return fmt::format("median {:.2f}{} (p90 {:.2f}, min {:.2f}, max {:.2f}, sd {:.2f}; {} steps)",
                     scale * s.median, unit, scale * s.p90, scale * s.min, scale * s.max,
                     scale * s.stddev, s.count);
}

// Rows with a change worth showing: at least 1 µs per step.
bool Moved(const MsChange& m) {
  return std::fabs(m.delta_ms()) >= 0.001 || m.a_ms >= 0.001 || m.b_ms >= 0.001;
}

Json StatsJson(const DistributionStats& s, int digits) {
  return {{"count", s.count},
          {"median", Round(s.median, digits)},
          {"mean", Round(s.mean, digits)},
          {"p90", Round(s.p90, digits)},
          {"min", Round(s.min, digits)},
          {"max", Round(s.max, digits)},
          {"stddev", Round(s.stddev, digits)}};
}

}  // namespace

std::string WriteDiffText(const RunDiff& d) {
  std::string o;
  o += fmt::format("teye diff\n  A  {}\n  B  {}\n\n", d.a_source, d.b_source);
  o += fmt::format("STEP TIME   {} ms → {} ms  ({}, {})\n", FormatMs(d.step_ms.a.median),
                   FormatMs(d.step_ms.b.median), Signed(d.step_ms.delta(), " ms"),
                   SignedPct(d.step_ms.delta_pct()));
  o += "  A " + Spread(d.step_ms.a, 1, " ms") + "\n";
  o += "  B " + Spread(d.step_ms.b, 1, " ms") + "\n";
  if (d.a_host && d.b_host) {
    o += "GPU UTIL    no GPU activity in either run: steps and shares are of the training "
         "thread\n\n";
  } else {
    o += fmt::format("GPU UTIL    {:.1f}% → {:.1f}%  ({})\n", 100 * d.gpu_util.a.median,
                     100 * d.gpu_util.b.median, SignedPts(100 * d.gpu_util.delta()));
    o += "  A " + Spread(d.gpu_util.a, 100, "%") + "\n";
    o += "  B " + Spread(d.gpu_util.b, 100, "%") + "\n\n";
  }

  if (!d.a_bound.empty() || !d.b_bound.empty())
    o += fmt::format("BOUND       {} → {}\n", d.a_bound.empty() ? "?" : d.a_bound,
                     d.b_bound.empty() ? "?" : d.b_bound);
  if (!d.bound.empty())
    o += fmt::format("  {:<31} {:>10} {:>10} {:>10}\n", "(share × mean step, ms)", "A", "B",
                     "change");
  for (const MsChange& m : d.bound)
    if (Moved(m))
      o += fmt::format("  {:<31} {:>10} {:>10} {:>10}\n", m.key, FormatMs(m.a_ms), FormatMs(m.b_ms),
                       Signed(m.delta_ms(), ""));
  if (!d.bound.empty()) o += "\n";
  o += fmt::format("WHERE A STEP GOES (ms per step)   {:>10} {:>10} {:>10}\n", "A", "B", "change");
  for (const MsChange& m : d.categories) {
    if (!Moved(m)) continue;
    o += fmt::format("  {:<31} {:>10} {:>10} {:>10}\n", m.key, FormatMs(m.a_ms), FormatMs(m.b_ms),
                     Signed(m.delta_ms(), ""));
  }
  o +=
      fmt::format("\nKERNEL TIME BY CLASS (ms per step){:>10} {:>10} {:>10}\n", "A", "B", "change");
  for (const MsChange& m : d.classes)
    o += fmt::format("  {:<31} {:>10} {:>10} {:>10}\n", m.key, FormatMs(m.a_ms), FormatMs(m.b_ms),
                     Signed(m.delta_ms(), ""));
  o += "\nTOP KERNELS THAT CHANGED\n";
  if (d.kernels.empty()) o += "  none: the same top kernels, each within 10% of its mean time\n";
  for (const KernelChange& k : d.kernels) {
    std::string what;
    switch (k.kind) {
      case KernelChangeKind::kAppeared:
        what = fmt::format("{} ms/step", FormatMs(k.b_ms_per_step));
        break;
      case KernelChangeKind::kVanished:
        what = fmt::format("was {} ms/step", FormatMs(k.a_ms_per_step));
        break;
      default:
        what = fmt::format("mean {:.1f} → {:.1f} µs", k.a_mean_us, k.b_mean_us);
    }
    o += fmt::format("  {:<9} {:<56} {}\n", ToString(k.kind), ShortKernelName(k.name, 56), what);
  }
  return TerminalSafe(o, false);
}

std::string WriteDiffJson(const RunDiff& d) {
  Json j;
  j["schema"] = kDiffSchema;
  j["a"] = {{"source", d.a_source}, {"steps", d.a_steps}};
  j["b"] = {{"source", d.b_source}, {"steps", d.b_steps}};
  j["step_ms"] = {{"a", StatsJson(d.step_ms.a, 3)},
                  {"b", StatsJson(d.step_ms.b, 3)},
                  {"delta_ms", Round(d.step_ms.delta(), 3)},
                  {"delta_pct", Round(d.step_ms.delta_pct(), 2)}};
  j["gpu_utilization"] = {{"a", StatsJson(d.gpu_util.a, 4)},
                          {"b", StatsJson(d.gpu_util.b, 4)},
                          {"delta_pts", Round(100 * d.gpu_util.delta(), 2)}};
  Json bound = Json::array();
  for (const MsChange& m : d.bound)
    bound.push_back({{"class", m.key},
                     {"a_ms_per_step", Round(m.a_ms, 3)},
                     {"b_ms_per_step", Round(m.b_ms, 3)},
                     {"delta_ms", Round(m.delta_ms(), 3)}});
  j["bound"] = {{"a", d.a_bound.empty() ? Json() : Json(d.a_bound)},
                {"b", d.b_bound.empty() ? Json() : Json(d.b_bound)},
                {"shares", std::move(bound)}};
  Json cats = Json::array();
  for (const MsChange& m : d.categories)
    cats.push_back({{"category", m.key},
                    {"a_ms_per_step", Round(m.a_ms, 3)},
                    {"b_ms_per_step", Round(m.b_ms, 3)},
                    {"delta_ms", Round(m.delta_ms(), 3)}});
  j["breakdown"] = std::move(cats);
  Json classes = Json::array();
  for (const MsChange& m : d.classes)
    classes.push_back({{"class", m.key},
                       {"a_ms_per_step", Round(m.a_ms, 3)},
                       {"b_ms_per_step", Round(m.b_ms, 3)},
                       {"delta_ms", Round(m.delta_ms(), 3)}});
  j["kernel_classes"] = std::move(classes);
  Json kernels = Json::array();
  for (const KernelChange& k : d.kernels)
    kernels.push_back({{"change", ToString(k.kind)},
                       {"name", k.name},
                       {"class", k.cls},
                       {"a_ms_per_step", Round(k.a_ms_per_step, 3)},
                       {"b_ms_per_step", Round(k.b_ms_per_step, 3)},
                       {"a_mean_us", Round(k.a_mean_us, 3)},
                       {"b_mean_us", Round(k.b_mean_us, 3)}});
  j["top_kernels"] = std::move(kernels);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string WriteDiffMarkdown(const RunDiff& d) {
  std::string o = "### teye diff\n\n";
  o += fmt::format("`{}` → `{}`\n\n", MarkdownCodeCell(d.a_source), MarkdownCodeCell(d.b_source));
  o += "| | A | B | change |\n|---|---:|---:|---:|\n";
  o += fmt::format("| step time (median) | {} ms | {} ms | {} ({}) |\n",
                   FormatMs(d.step_ms.a.median), FormatMs(d.step_ms.b.median),
                   Signed(d.step_ms.delta(), " ms"), SignedPct(d.step_ms.delta_pct()));
  o += fmt::format("| step time p90 | {} ms | {} ms | |\n", FormatMs(d.step_ms.a.p90),
                   FormatMs(d.step_ms.b.p90));
  o += fmt::format("| GPU utilization (median) | {:.1f}% | {:.1f}% | {} |\n",
                   100 * d.gpu_util.a.median, 100 * d.gpu_util.b.median,
                   SignedPts(100 * d.gpu_util.delta()));
  if (!d.a_bound.empty() || !d.b_bound.empty())
    o += fmt::format("| bound class | {} | {} | |\n", d.a_bound.empty() ? "—" : d.a_bound,
                     d.b_bound.empty() ? "—" : d.b_bound);
  o += fmt::format("| steps | {} | {} | |\n\n", d.a_steps, d.b_steps);
  o += "<details><summary>Breakdown and kernel classes (ms per step)</summary>\n\n";
  o += "| category | A | B | change |\n|---|---:|---:|---:|\n";
  for (const MsChange& m : d.categories)
    if (Moved(m))
      o += fmt::format("| {} | {} | {} | {} |\n", m.key, FormatMs(m.a_ms), FormatMs(m.b_ms),
                       Signed(m.delta_ms(), ""));
  o += "\n| kernel class | A | B | change |\n|---|---:|---:|---:|\n";
  for (const MsChange& m : d.classes)
    o += fmt::format("| {} | {} | {} | {} |\n", m.key, FormatMs(m.a_ms), FormatMs(m.b_ms),
                     Signed(m.delta_ms(), ""));
  o += "\n</details>\n\n";
  if (!d.kernels.empty()) {
    o += "| top kernel | change | A | B |\n|---|---|---:|---:|\n";
    for (const KernelChange& k : d.kernels)
      o += fmt::format("| `{}` | {} | {} | {} |\n", MarkdownCodeCell(ShortKernelName(k.name, 60)),
                       ToString(k.kind),
                       k.a_mean_us > 0 ? fmt::format("{:.1f} µs", k.a_mean_us) : "—",
                       k.b_mean_us > 0 ? fmt::format("{:.1f} µs", k.b_mean_us) : "—");
  }
  return o;
}

}  // namespace teye
