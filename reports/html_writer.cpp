#include "teye/reports/html_writer.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "teye/reports/format.h"

#include "html_charts.h"
#include "html_escape.h"
#include "html_resources.h"
#include "html_roofline.h"

namespace teye {
namespace {

// Colours: kernel classes by role (greens compute, blues memory), magenta communication, host
// waits in warm colours. Print keeps them (print-color-adjust).
constexpr std::string_view kStyle = R"(
:root{--fg:#1d2330;--mute:#5b6475;--line:#d9dde5;--bg:#fff;--card:#f6f7f9}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
 background:var(--bg);margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);
 padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.mute{color:var(--mute)}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:160px}
.card b{display:block;font-size:22px}.card span{color:var(--mute);font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top;text-align:left}
th{background:var(--card);font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
ul.ev{margin:0;padding-left:18px}
svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif;fill:var(--fg)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0;font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.c0{fill:#2e7d32;background:#2e7d32}.c1{fill:#7cb342;background:#7cb342}.c2{fill:#00897b;background:#00897b}
.c3{fill:#42a5f5;background:#42a5f5}.c4{fill:#1565c0;background:#1565c0}.c5{fill:#90caf9;background:#90caf9}
.c6{fill:#5c6bc0;background:#5c6bc0}.c7{fill:#ab47bc;background:#ab47bc}.c8{fill:#9e9e9e;background:#9e9e9e}
.tcomm{fill:#ab47bc;background:#ab47bc}.tmemcpy{fill:#ff7043;background:#ff7043}
.tmemset{fill:#ffab91;background:#ffab91}.tgpusync{fill:#e53935;background:#e53935}
.tcpu{fill:#b0bec5;background:#b0bec5}.tlaunch{fill:#78909c;background:#78909c}
.tsync{fill:#e53935;background:#e53935}.tinput{fill:#fbc02d;background:#fbc02d}
.b0{fill:#2e7d32;background:#2e7d32}.b1{fill:#42a5f5;background:#42a5f5}.b2{fill:#ab47bc;background:#ab47bc}
.b3{fill:#ff7043;background:#ff7043}.b4{fill:#ffab91;background:#ffab91}.b5{fill:#fbc02d;background:#fbc02d}
.b6{fill:#e53935;background:#e53935}.b7{fill:#78909c;background:#78909c}.b8{fill:#b0bec5;background:#b0bec5}
.b9{fill:#eceff1;background:#eceff1}
td .legend{margin:0}
.lane{fill:#f6f7f9}.axis{stroke:#c5cad3;stroke-width:1}
.charts{display:flex;flex-wrap:wrap;gap:8px 18px}figure.res{margin:0;width:360px}
figure.res figcaption{font-size:12px}
@media print{body{max-width:none;padding:0}h2{break-after:avoid}section,table,svg{break-inside:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)";

std::string Pct(double share) {
  return fmt::format("{:.1f}%", 100.0 * share);
}

void Headline(std::string& o, const TraceAnalysis& a) {
  const auto& d = a.steps.duration_ms;
  o += "<div class=\"cards\" id=\"headline\">";
  if (a.bound.valid) {
    const BoundVerdict& v = a.bound.run;
    o += fmt::format(
        "<div class=\"card\" id=\"bound\"><span>bound class</span><b>{}-bound</b><span>{:.0f} "
        "points over {}</span></div>",
        ToString(v.cls), 100 * v.margin, ToString(v.runner_up));
  } else {
    o += "<div class=\"card\" id=\"bound\"><span>bound class</span><b>not classified</b><span>no "
         "GPU activity or no complete step</span></div>";
  }
  o += fmt::format(
      "<div class=\"card\"><span>step time (median)</span><b>{} ms</b><span>mean {} · p90 {} · "
      "{} steps</span></div>",
      FormatMs(d.median), FormatMs(d.mean), FormatMs(d.p90), d.count);
  if (a.has_gpu_activity)
    o += fmt::format(
        "<div class=\"card\"><span>GPU utilization</span><b>{}</b><span>GPU busy {} (with "
        "copies)</span></div>",
        Pct(a.gpu_utilization), Pct(a.gpu_busy));
  else
    o += "<div class=\"card\"><span>GPU utilization</span><b>no GPU activity</b><span>the "
         "diagnosis is of the training thread</span></div>";
  const BreakdownShare* idle_top = nullptr;
  for (const BreakdownShare& s : a.shares)
    if (IsIdleCategory(s.category) && (!idle_top || s.share > idle_top->share)) idle_top = &s;
  if (idle_top && idle_top->share > 0)
    o += fmt::format(
        "<div class=\"card\"><span>largest {} reason</span><b>{}</b><span>{} ms per step "
        "({})</span></div>",
        a.breakdown.host_timeline ? "waiting" : "GPU-idle",
        HtmlEscape(DisplayName(idle_top->category, a.breakdown.host_timeline)),
        FormatMs(idle_top->ms_per_step), Pct(idle_top->share));
  o += "</div>\n";
  if (a.bound.valid) {
    const BoundVerdict& v = a.bound.run;
    o += "<p>" + HtmlEscape(v.reason) + "</p>\n<div class=\"legend\" id=\"bound-shares\">";
    for (size_t i = 0; i < kBoundClassCount; ++i) {
      const auto c = static_cast<BoundClass>(i);
      o += fmt::format("<span>{}{}{} {}</span>", c == v.cls ? "<b>" : "", ToString(c),
                       c == v.cls ? "</b>" : "", Pct(v.shares[c]));
    }
    o += fmt::format("<span class=\"mute\">unassigned {}</span></div>\n", Pct(v.shares.unassigned));
    size_t other = 0;
    for (const BoundVerdict& sv : a.bound.steps)
      other += sv.cls != v.cls;
    if (other > 0)
      o += fmt::format("<p class=\"mute\">{} of {} steps are classed otherwise.</p>\n", other,
                       a.bound.steps.size());
  }
}

void Recommendations(std::string& o, const TraceAnalysis& a) {
  o += "<h2>What to change first</h2>\n";
  o += "<table id=\"recommendations\"><tr><th>#</th><th>change</th><th>evidence</th><th "
       "class=\"num\">saving per step</th><th>confidence</th></tr>\n";
  if (a.recommendations.empty())
    o += fmt::format("<tr><td colspan=\"5\" class=\"mute\">{}</td></tr>\n",
                     a.bound.valid ? "No rule fired: nothing teye knows how to fix stands out."
                                   : "No recommendations: the run has no GPU activity or no "
                                     "complete step to replay.");
  for (size_t i = 0; i < a.recommendations.size(); ++i) {
    const Recommendation& r = a.recommendations[i];
    std::string evidence = "<ul class=\"ev\">";
    for (const std::string& e : r.evidence)
      evidence += "<li>" + HtmlEscape(e) + "</li>";
    evidence += "</ul>";
    const std::string saving =
        r.saving_ms > 0
            ? fmt::format("<b>−{} ms</b><br><span class=\"mute\">{:.1f}% of the step{}</span>",
                          FormatMs(r.saving_ms), r.saving_pct,
                          r.basis == SavingBasis::kAnalytic ? ", analytic" : "")
            : std::string("<span class=\"mute\">no time saving</span>");
    o += fmt::format(
        "<tr><td>{}</td><td><b>{}</b><br>{}</td><td>{}</td><td "
        "class=\"num\">{}</td><td>{}<br><span "
        "class=\"mute\" title=\"{}\">rule <code>{}</code></span></td></tr>\n",
        i + 1, HtmlEscape(r.title), HtmlEscape(r.action), evidence, saving, ToString(r.confidence),
        HtmlEscape(r.method), HtmlEscape(r.id));
  }
  o += "</table>\n";
  if (!a.recommendations.empty())
    o += fmt::format(
        "<p class=\"mute\">Savings are estimated by replaying the step's dependency graph with the "
        "change applied (the unchanged replay is within {:.1f}% of the measured step); hover a "
        "rule for its method.</p>\n",
        100 * a.replay_error);
}

void IdleGaps(std::string& o, const TraceAnalysis& a) {
  const DeviceBreakdown* p = a.breakdown.Primary();
  if (!p || p->largest_gaps.empty()) return;
  constexpr size_t kShown = 5;
  o += a.breakdown.host_timeline
           ? "<h3>Longest stretches the training thread did not compute</h3>\n"
           : "<h3>Longest GPU-idle gaps</h3>\n";
  o += "<table id=\"idle-gaps\"><tr><th>step</th><th class=\"num\">ms</th><th>reason</th><th>the "
       "host was in</th></tr>\n";
  for (size_t i = 0; i < p->largest_gaps.size() && i < kShown; ++i) {
    const IdleGap& g = p->largest_gaps[i];
    const std::string step = g.step >= 0 && static_cast<size_t>(g.step) < a.steps.steps.size()
                                 ? HtmlEscape(a.steps.steps[static_cast<size_t>(g.step)].name)
                                 : std::string("—");
    o += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td></tr>\n", step,
        FormatMs(static_cast<double>(g.length()) / kNsPerMs),
        HtmlEscape(DisplayName(g.reason, a.breakdown.host_timeline)),
        HtmlEscape(Ellipsize(g.evidence, 120)));
  }
  o += "</table>\n";
}

void StallsAndMemory(std::string& o, const TraceAnalysis& a) {
  if (a.stalls.empty() && a.memory.empty()) return;
  o += "<h2>Recurring gaps and memory</h2>\n<ul id=\"stalls\">";
  for (const StallPattern& s : a.stalls) {
    const std::string period = s.every_steps > 0
                                   ? fmt::format("every {} steps", s.every_steps)
                                   : fmt::format("every {} ms", FormatMs(s.period_ms));
    o += fmt::format("<li>GPU idle {} ({} × {} ms, max {} ms): {}{}</li>", period, s.occurrences,
                     FormatMs(s.mean_ms), FormatMs(s.max_ms), HtmlEscape(s.activity),
                     s.evidence.empty() ? ""
                                        : " <span class=\"mute\">(host was in: " +
                                              HtmlEscape(Ellipsize(s.evidence, 120)) + ")</span>");
  }
  for (const MemoryHeadroom& m : a.memory) {
    if (m.total <= 0)
      o += fmt::format("<li>GPU {} peak allocated {} (device size unknown)</li>", m.device,
                       HumanBytes(m.peak_allocated));
    else
      o += fmt::format("<li>GPU {} peak allocated {} of {} ({}), reserved {}</li>", m.device,
                       HumanBytes(m.peak_allocated), HumanBytes(m.total), Pct(m.peak_fraction),
                       Pct(m.reserved_fraction));
  }
  o += "</ul>\n";
}

void TopKernels(std::string& o, const TraceAnalysis& a) {
  o += "<h2>Top kernels</h2>\n";
  if (a.kernels.top.empty()) {
    o += "<p class=\"mute\">No kernels in the analysed steps.</p>\n";
    return;
  }
  o += "<table id=\"top-kernels\"><tr><th>kernel</th><th>class</th><th class=\"num\">calls</th><th "
       "class=\"num\">total ms</th><th class=\"num\">mean µs</th><th "
       "class=\"num\">share</th></tr>\n";
  for (const KernelStat& k : a.kernels.top) {
    o += fmt::format(
        "<tr><td><code title=\"{}\">{}</code></td><td><span class=\"legend\"><span><i "
        "class=\"c{}\"></i>{}</span></span></td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td class=\"num\">{}</td></tr>\n",
        HtmlEscape(Ellipsize(k.name, 400)), HtmlEscape(ShortKernelName(k.name, 90)),
        static_cast<int>(k.cls), HtmlEscape(DisplayName(k.cls)), WithCommas(k.count),
        FormatMs(static_cast<double>(k.total_ns) / kNsPerMs), k.mean_ns() / kNsPerUs,
        Pct(a.kernels.total_ns ? static_cast<double>(k.total_ns) / a.kernels.total_ns : 0));
  }
  o += "</table>\n";
  if (!a.kernels.classes.empty()) {
    o += "<h3>Kernel time by class</h3>\n<table><tr><th>class</th><th class=\"num\">calls</th><th "
         "class=\"num\">total ms</th><th class=\"num\">share</th></tr>\n";
    for (const ClassStat& c : a.kernels.classes)
      o += fmt::format(
          "<tr><td><span class=\"legend\"><span><i class=\"c{}\"></i>{}</span></span></td><td "
          "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          static_cast<int>(c.cls), HtmlEscape(DisplayName(c.cls)), WithCommas(c.count),
          FormatMs(static_cast<double>(c.total_ns) / kNsPerMs), Pct(c.share));
    o += "</table>\n";
  }
}

void ReaderFacts(std::string& o, const TraceAnalysis& a) {
  o += "<h2>What the reader skipped</h2>\n<table id=\"skipped\">\n";
  o += fmt::format("<tr><td>events seen / kept</td><td class=\"num\">{} / {}</td></tr>\n",
                   WithCommas(a.read.events_seen), WithCommas(a.read.events_kept));
  o += fmt::format("<tr><td>events skipped</td><td class=\"num\">{}</td></tr>\n",
                   WithCommas(a.read.TotalLost()));
  for (size_t i = 0; i < kSkipReasonCount; ++i)
    if (a.read.skipped[i])
      o += fmt::format("<tr><td>&nbsp;&nbsp;{}</td><td class=\"num\">{}</td></tr>\n",
                       HtmlEscape(ToString(static_cast<SkipReason>(i))),
                       WithCommas(a.read.skipped[i]));
  if (a.read.truncated)
    o += fmt::format("<tr><td>file cut off</td><td class=\"num\">read up to byte {}</td></tr>\n",
                     WithCommas(a.read.truncated_at));
  o += "</table>\n";
  if (!a.read.warnings.empty() || !a.notes.empty()) {
    o += "<ul>";
    for (const std::string& w : a.read.warnings)
      o += "<li>" + HtmlEscape(w) + "</li>";
    for (const std::string& n : a.notes)
      o += "<li>" + HtmlEscape(n) + "</li>";
    o += "</ul>\n";
  }
}

void Rank(std::string& o, const TraceAnalysis& a) {
  o += "<section class=\"rank\">\n";
  o += fmt::format("<h1>{}</h1>\n", HtmlEscape(a.file));
  std::string facts =
      fmt::format("{} steps from {}", a.steps.steps.size(), ToString(a.steps.source));
  if (a.rank >= 0) facts += fmt::format(" · rank {}", a.rank);
  if (a.world_size > 0) facts += fmt::format(" of {}", a.world_size);
  for (const DeviceSummary& d : a.devices)
    if (d.device == a.primary_device && !d.name.empty()) facts += " · " + d.name;
  if (a.vendor != GpuVendor::kUnknown) facts += fmt::format(" · {} GPU", ToString(a.vendor));
  o += "<p class=\"mute\">" + HtmlEscape(facts) + "</p>\n";
  Headline(o, a);
  Recommendations(o, a);
  HtmlResources(o, a);
  HtmlTimeline(o, a.timeline);
  HtmlBreakdownBars(o, a);
  IdleGaps(o, a);
  StallsAndMemory(o, a);
  TopKernels(o, a);
  HtmlMicroArch(o, a);
  ReaderFacts(o, a);
  o += "</section>\n";
}

}  // namespace

std::string WriteHtmlReport(const Report& report) {
  std::string o;
  o.reserve(64 * 1024);
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  // No scripts, styles or images from anywhere: the page works offline and in a sandboxed CI
  // viewer.
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'\">\n";
  o += fmt::format("<title>teye report: {}</title>\n<style>{}</style></head><body>\n",
                   HtmlEscape(report.ranks.empty() ? "" : report.ranks.front().file), kStyle);
  for (const TraceAnalysis& a : report.ranks)
    Rank(o, a);
  o += fmt::format("<p class=\"mute\">teye {} · metrics are defined in docs/metrics.md</p>\n",
                   HtmlEscape(report.teye_version));
  o += "</body></html>\n";
  return o;
}

}  // namespace teye
