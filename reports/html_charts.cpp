#include "html_charts.h"

#include <algorithm>

#include <fmt/format.h>

#include "teye/reports/format.h"

#include "html_escape.h"

namespace teye {
namespace {

std::string Pct(double share) {
  return fmt::format("{:.1f}%", 100.0 * share);
}

std::string KindClass(const TimelineBox& b) {
  switch (b.kind) {
    case TimelineKind::kKernel:
      return fmt::format("c{}", static_cast<int>(b.cls));
    case TimelineKind::kCommunication:
      return "tcomm";
    case TimelineKind::kMemcpy:
      return "tmemcpy";
    case TimelineKind::kMemset:
      return "tmemset";
    case TimelineKind::kGpuSync:
      return "tgpusync";
    case TimelineKind::kCpu:
      return "tcpu";
    case TimelineKind::kLaunch:
      return "tlaunch";
    case TimelineKind::kSync:
      return "tsync";
    case TimelineKind::kInput:
      return "tinput";
  }
  return "tcpu";
}
void TimelineLegend(std::string& o, const StepTimeline& t) {
  bool seen_kind[16] = {};
  bool seen_cls[kKernelClassCount] = {};
  for (const TimelineLane& l : t.lanes)
    for (const TimelineBox& b : l.boxes) {
      if (b.kind == TimelineKind::kKernel)
        seen_cls[static_cast<size_t>(b.cls)] = true;
      else
        seen_kind[static_cast<size_t>(b.kind)] = true;
    }
  o += "<div class=\"legend\">";
  for (size_t c = 0; c < kKernelClassCount; ++c)
    if (seen_cls[c])
      o += fmt::format("<span><i class=\"c{}\"></i>{}</span>", c,
                       HtmlEscape(DisplayName(static_cast<KernelClass>(c))));
  for (size_t k = 0; k < 16; ++k) {
    if (!seen_kind[k]) continue;
    TimelineBox probe;
    probe.kind = static_cast<TimelineKind>(k);
    o += fmt::format("<span><i class=\"{}\"></i>{}</span>", KindClass(probe), ToString(probe.kind));
  }
  o += "</div>\n";
}

}  // namespace

void HtmlTimeline(std::string& o, const StepTimeline& t) {
  o += "<h2>Timeline of one step</h2>\n";
  if (!t.valid || t.lanes.empty()) {
    o += "<p class=\"mute\" id=\"timeline\">No complete step with activity to draw.</p>\n";
    return;
  }
  o += fmt::format(
      "<p class=\"mute\">{} ({} ms), {}. {} events drawn as {} boxes: neighbouring events of one "
      "kind closer than 1/1000 of the step are merged; hover a box for its largest event.{}</p>\n",
      HtmlEscape(t.step_name), FormatMs(static_cast<double>(t.duration) / kNsPerMs), t.why,
      WithCommas(t.events), WithCommas(t.boxes),
      t.lanes_dropped ? fmt::format(" {} quieter lanes not shown.", t.lanes_dropped) : "");
  constexpr double kLabelW = 190, kPlotW = 790, kLaneH = 20, kTop = 18;
  const double height = kTop + kLaneH * static_cast<double>(t.lanes.size()) + 6;
  o += fmt::format(
      "<svg id=\"timeline\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"timeline of {}\">\n",
      kLabelW + kPlotW + 10, height, HtmlEscape(t.step_name));
  const double ms = static_cast<double>(t.duration) / kNsPerMs;
  for (int i = 0; i <= 5; ++i) {
    const double x = kLabelW + kPlotW * i / 5.0;
    o += fmt::format(
        "<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2:.0f}\"/><text "
        "x=\"{0:.1f}\" y=\"12\" text-anchor=\"{4}\">{3} ms</text>\n",
        x, kTop - 4, height, FormatMs(ms * i / 5.0),
        i == 0   ? "start"
        : i == 5 ? "end"
                 : "middle");
  }
  const double scale = kPlotW / static_cast<double>(t.duration);
  for (size_t i = 0; i < t.lanes.size(); ++i) {
    const TimelineLane& l = t.lanes[i];
    const double y = kTop + kLaneH * static_cast<double>(i);
    o += fmt::format(
        "<rect class=\"lane\" x=\"{}\" y=\"{:.0f}\" width=\"{}\" height=\"{}\"/><text x=\"4\" "
        "y=\"{:.0f}\">{}</text>\n",
        kLabelW, y + 1, kPlotW, kLaneH - 2, y + 14, HtmlEscape(Ellipsize(l.name, 30)));
    for (const TimelineBox& b : l.boxes) {
      const double x = kLabelW + scale * static_cast<double>(b.start);
      const double w = std::max(0.4, scale * static_cast<double>(b.end - b.start));
      const double us = static_cast<double>(b.end - b.start) / kNsPerUs;
      o += fmt::format(
          "<rect class=\"{}\" x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{}\"><title>{}{} "
          "µs{}</title></rect>\n",
          KindClass(b), x, y + 3, w, kLaneH - 6, HtmlEscape(ShortKernelName(b.label, 80) + ": "),
          us < 10 ? fmt::format("{:.2f}", us) : fmt::format("{:.0f}", us),
          b.events > 1 ? fmt::format(", {} events", b.events) : "");
    }
  }
  o += "</svg>\n";
  TimelineLegend(o, t);
}
void HtmlBreakdownBars(std::string& o, const TraceAnalysis& a) {
  o += "<h2>Where each step goes</h2>\n";
  const DeviceBreakdown* p = a.breakdown.Primary();
  if (!p || p->steps.empty()) {
    o += "<p class=\"mute\" id=\"breakdown\">No complete steps to break down.</p>\n";
    return;
  }
  // Every category's mean share first, then one bar per step.
  o += "<table id=\"breakdown-table\"><tr><th>category</th><th class=\"num\">ms per "
       "step</th><th class=\"num\">share</th></tr>\n";
  for (const BreakdownShare& s : a.shares) {
    if (s.ms_per_step <= 0) continue;
    o += fmt::format(
        "<tr><td><span class=\"legend\"><span><i class=\"b{}\"></i>{}</span></span></td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        static_cast<int>(s.category),
        HtmlEscape(DisplayName(s.category, a.breakdown.host_timeline)), FormatMs(s.ms_per_step),
        Pct(s.share));
  }
  o += "</table>\n";
  constexpr size_t kMaxBars = 120;
  const size_t n = std::min(p->steps.size(), kMaxBars);
  TimeNs longest = 1;
  for (size_t i = 0; i < n; ++i)
    longest = std::max(longest, p->steps[i].duration);
  // Many steps: thin bars, every 10th labelled, so the chart stays a screen tall.
  const bool dense = n > 40;
  const double bar_h = dense ? 5 : 14, gap = dense ? 1 : 4;
  constexpr double kLabelW = 90, kPlotW = 880;
  const double height = (bar_h + gap) * static_cast<double>(n) + 14;
  o += fmt::format(
      "<svg id=\"breakdown\" viewBox=\"0 0 {} {:.0f}\" role=\"img\" "
      "aria-label=\"breakdown per step\">\n",
      kLabelW + kPlotW + 10, height);
  constexpr double kValueW = 70;  // room for the duration after the longest bar
  const double scale = (kPlotW - kValueW) / static_cast<double>(longest);
  for (size_t i = 0; i < n; ++i) {
    const StepBreakdown& sb = p->steps[i];
    const double y = (bar_h + gap) * static_cast<double>(i) + 2;
    const Step& step = a.steps.steps[static_cast<size_t>(sb.step)];
    const bool labelled = !dense || i % 10 == 0;
    if (labelled)
      o += fmt::format("<text x=\"0\" y=\"{:.0f}\">{}</text>\n", y + (dense ? 8 : 11),
                       step.number >= 0 ? fmt::format("step {}", step.number)
                                        : HtmlEscape(Ellipsize(step.name, 14)));
    double x = kLabelW;
    for (size_t c = 0; c < kTimeCategoryCount; ++c) {
      const TimeNs ns = sb.times.ns[c];
      if (ns <= 0) continue;
      const double w = scale * static_cast<double>(ns);
      o += fmt::format(
          "<rect class=\"b{}\" x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{}\"><title>{}: "
          "{} ms</title></rect>\n",
          c, x, y, w, bar_h,
          HtmlEscape(DisplayName(static_cast<TimeCategory>(c), a.breakdown.host_timeline)),
          FormatMs(static_cast<double>(ns) / kNsPerMs));
      x += w;
    }
    if (labelled)
      o += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\">{} ms</text>\n", x + 4,
                       y + (dense ? 8 : 11), FormatMs(static_cast<double>(sb.duration) / kNsPerMs));
  }
  o += "</svg>\n";
  if (p->steps.size() > n)
    o += fmt::format("<p class=\"mute\">The first {} of {} steps are drawn.</p>\n", n,
                     p->steps.size());
}
}  // namespace teye
