#include "teye/reports/markdown_writer.h"

#include <fmt/format.h>

#include "teye/reports/format.h"

namespace teye {
namespace {

constexpr size_t kTopKernels = 5;
constexpr size_t kTopRecommendations = 3;
constexpr double kMinShownShare = 0.01;

std::string Pct(double share) {
  return fmt::format("{:.1f}%", 100.0 * share);
}

void Rank(std::string& o, const TraceAnalysis& a) {
  const auto& d = a.steps.duration_ms;
  o += fmt::format("### teye: `{}`\n\n", MarkdownCodeCell(a.file));
  o += fmt::format("**Step {} ms** (median of {} step{}, p90 {} ms) · ", FormatMs(d.median),
                   d.count, d.count == 1 ? "" : "s", FormatMs(d.p90));
  o += a.has_gpu_activity ? fmt::format("**GPU utilization {}** (busy {})\n\n",
                                        Pct(a.gpu_utilization), Pct(a.gpu_busy))
                          : std::string("**no GPU activity** (the training thread's timeline)\n\n");
  if (a.bound.valid)
    o += fmt::format("**{}-bound** ({:.0f} points over {}): {}\n\n", ToString(a.bound.run.cls),
                     100 * a.bound.run.margin, ToString(a.bound.run.runner_up),
                     MarkdownCell(a.bound.run.reason));
  if (!a.recommendations.empty()) {
    o += "| # | do this | saves per step | confidence |\n|---|---|---:|---|\n";
    for (size_t i = 0; i < a.recommendations.size() && i < kTopRecommendations; ++i) {
      const Recommendation& r = a.recommendations[i];
      o += fmt::format(
          "| {} | **{}**: {} | {} | {} |\n", i + 1, MarkdownCell(r.title), MarkdownCell(r.action),
          r.saving_ms > 0 ? fmt::format("{} ms ({:.1f}%{})", FormatMs(r.saving_ms), r.saving_pct,
                                        r.basis == SavingBasis::kAnalytic ? ", analytic" : "")
                          : std::string("—"),
          ToString(r.confidence));
    }
    if (a.recommendations.size() > kTopRecommendations)
      o += fmt::format("\n<sub>{} more in the full report.</sub>\n",
                       a.recommendations.size() - kTopRecommendations);
    o += "\n";
  }
  if (!a.shares.empty()) {
    o += "| where a step goes | ms per step | share |\n|---|---:|---:|\n";
    for (const BreakdownShare& s : a.shares)
      if (s.share >= kMinShownShare)
        o += fmt::format("| {} | {} | {} |\n", DisplayName(s.category, a.breakdown.host_timeline),
                         FormatMs(s.ms_per_step), Pct(s.share));
    o += "\n";
  }
  if (!a.kernels.top.empty()) {
    o += "<details><summary>Top kernels</summary>\n\n| kernel | class | total ms | share "
         "|\n|---|---|---:|---:|\n";
    for (size_t i = 0; i < a.kernels.top.size() && i < kTopKernels; ++i) {
      const KernelStat& k = a.kernels.top[i];
      o += fmt::format(
          "| `{}` | {} | {} | {} |\n", MarkdownCodeCell(ShortKernelName(k.name, 60)),
          DisplayName(k.cls), FormatMs(static_cast<double>(k.total_ns) / kNsPerMs),
          Pct(a.kernels.total_ns ? static_cast<double>(k.total_ns) / a.kernels.total_ns : 0));
    }
    o += "\n</details>\n\n";
  }
  const int64_t lost = a.read.TotalLost();
  if (lost > 0 || a.read.truncated || !a.notes.empty()) {
    o += "> ";
    if (lost > 0) o += fmt::format("{} malformed events skipped. ", WithCommas(lost));
    if (a.read.truncated) o += "The file was cut off; read up to the last complete event. ";
    for (const std::string& n : a.notes)
      o += MarkdownCell(n) + ". ";
    o += "\n\n";
  }
}

}  // namespace

std::string MarkdownCodeCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '`')
      out += '\'';
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : MarkdownCodeCell(text)) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string WriteMarkdownReport(const Report& report) {
  std::string o;
  for (const TraceAnalysis& a : report.ranks)
    Rank(o, a);
  o += fmt::format("<sub>teye {} · definitions: docs/metrics.md</sub>\n", report.teye_version);
  return o;
}

}  // namespace teye
