#include "html_resources.h"

#include <algorithm>

#include <fmt/format.h>

#include "teye/reports/format.h"

#include "html_escape.h"

namespace teye {
namespace {

constexpr double kChartWidth = 360, kChartHeight = 70;

std::string Value(double v, std::string_view unit) {
  if (unit == "%") return fmt::format("{:.0f}%", v);
  if (unit == "bytes/s") return HumanBytes(static_cast<int64_t>(v)) + "/s";
  return HumanBytes(static_cast<int64_t>(v));
}

// A line over time from 0 to the series' largest value (the unit's own scale for %).
void Chart(std::string& o, const ResourceChart& c) {
  if (c.t_s.empty()) return;
  const double t_end = std::max(1e-9, c.t_s.back());
  double top = *std::max_element(c.value.begin(), c.value.end());
  if (c.unit == "%") top = std::max(100.0, top);
  top = std::max(top, 1e-9);
  std::string points;
  for (size_t i = 0; i < c.t_s.size(); ++i)
    points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", kChartWidth * c.t_s[i] / t_end,
                          kChartHeight - kChartHeight * c.value[i] / top);
  o += fmt::format(
      "<figure class=\"res\"><figcaption>{} <span class=\"mute\">max {} · {:.1f} s</span>"
      "</figcaption><svg viewBox=\"-2 -2 {} {}\" role=\"img\" aria-label=\"{} over time\">"
      "<line class=\"axis\" x1=\"0\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>"
      "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\" points=\"{}\"/></svg>"
      "</figure>\n",
      HtmlEscape(c.name), Value(*std::max_element(c.value.begin(), c.value.end()), c.unit), t_end,
      kChartWidth + 4, kChartHeight + 4, HtmlEscape(c.name), kChartHeight, kChartWidth,
      kChartHeight, points);
}

void Cards(std::string& o, const ResourceProfile& r, int primary_device) {
  o += "<div class=\"cards\" id=\"resources-headline\">";
  if (r.cpu_pct.samples > 0)
    o += fmt::format(
        "<div class=\"card\"><span>CPU</span><b>{:.0f}%</b><span>{:.2f} cores{} · p90 "
        "{:.0f}%</span></div>",
        r.cpu_pct.mean, r.cpu_cores, r.host_cpus > 0 ? fmt::format(" of {}", r.host_cpus) : "",
        r.cpu_pct.p90);
  if (!r.host_memory_source.empty())
    o += fmt::format(
        "<div class=\"card\"><span>{}</span><b>{}</b><span>max, {}</span></div>",
        r.host_memory_source == "rss" ? "host memory" : "CPU tensors",
        HumanBytes(static_cast<int64_t>(r.rss_max_bytes)),
        r.host_memory_source == "rss" ? "RSS of all processes" : "PyTorch's CPU allocator");
  for (const GpuResources& g : r.gpus) {
    if (g.device != primary_device && r.gpus.size() > 1) continue;
    if (!g.utilization_source.empty())
      o += fmt::format("<div class=\"card\"><span>GPU {}</span><b>{:.0f}%</b><span>{}</span></div>",
                       g.device, g.utilization_pct.mean,
                       g.utilization_source == "nvml" ? "NVML utilization" : "kernel time");
    if (!g.memory_source.empty())
      o += fmt::format(
          "<div class=\"card\"><span>GPU {} memory</span><b>{}</b><span>{}{}</span></div>",
          g.device, HumanBytes(static_cast<int64_t>(g.memory_max_bytes)),
          g.memory_total_bytes > 0 ? fmt::format("of {} · ", HumanBytes(g.memory_total_bytes))
                                   : std::string(),
          g.memory_source == "nvml" ? "NVML, all processes" : "allocator reserved");
  }
  o += "</div>\n";
}

void InputAndIo(std::string& o, const TraceAnalysis& a) {
  const InputDiagnosis& in = a.input;
  if (in.present) {
    o += fmt::format(
        "<p id=\"input-cause\"><b>Input: {}</b> · {} loader{} · the training loop waits {} ms per "
        "step{}<br>{}</p>\n",
        in.cause == InputCause::kUnknown ? "cause unknown"
                                         : fmt::format("{}-bound loading", ToString(in.cause)),
        in.loader, in.loader == "workers" ? fmt::format(" ({})", in.workers) : "",
        FormatMs(in.wait_ms_per_step), in.relevant ? "" : " (not what bounds the steps)",
        HtmlEscape(in.reason));
    if (in.fix.workers > 0)
      o += fmt::format(
          "<p>With {} worker{}: <b>{} ms</b> per step predicted (limit: {}). <span "
          "class=\"mute\">{}</span></p>\n",
          in.fix.workers, in.fix.workers == 1 ? "" : "s", FormatMs(in.fix.predicted_step_ms),
          HtmlEscape(in.fix.limit), HtmlEscape(in.fix.method));
  }
  if (!a.io.present || a.io.processes.empty()) return;
  o +=
      "<table id=\"io\"><tr><th>process</th><th class=\"num\">reads/step</th><th "
      "class=\"num\">bytes/step</th><th class=\"num\">ms/step</th><th "
      "class=\"num\">opens/batch</th>"
      "<th class=\"num\">latency p50 / p99</th><th class=\"num\">MB/s</th><th class=\"num\">loader "
      "time in I/O</th><th>most time</th></tr>\n";
  for (const ProcessIo& p : a.io.processes) {
    std::string paths;
    for (const IoPathStat& s : p.top_paths)
      paths += fmt::format("<li><code>{}</code> {} ms</li>",
                           HtmlEscape(s.path.empty() ? "(sockets, pipes)" : s.path),
                           FormatMs(static_cast<double>(s.time_ns) / kNsPerMs));
    o += fmt::format(
        "<tr><td>{} {}</td><td class=\"num\">{:.1f}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td class=\"num\">{:.0f} / {:.0f} "
        "µs</td><td class=\"num\">{:.1f}</td><td class=\"num\">{:.0f}%</td><td><ul "
        "class=\"ev\">{}</ul></td></tr>\n",
        p.worker ? "worker" : "training", p.pid, p.read_calls_per_step,
        HumanBytes(static_cast<int64_t>(p.read_bytes_per_step)), FormatMs(p.read_ms_per_step),
        p.opens_per_batch, p.read_latency_us_p50, p.read_latency_us_p99, p.read_mb_per_s,
        100 * p.read_wait_share, paths);
  }
  o += "</table>\n";
}

}  // namespace

void HtmlResources(std::string& o, const TraceAnalysis& a) {
  const ResourceProfile& r = a.resources;
  if (!r.has_host && !r.has_gpu && !a.input.present && !a.io.present) return;
  o += "<h2 id=\"resources\">Resources and input</h2>\n";
  if (r.has_host || r.has_gpu) {
    Cards(o, r, a.primary_device);
    if (!r.charts.empty()) {
      o += "<div class=\"charts\">";
      for (const ResourceChart& c : r.charts)
        Chart(o, c);
      o += "</div>\n";
    }
    if (!r.warnings.empty()) {
      o += "<ul id=\"resource-warnings\">";
      for (const std::string& w : r.warnings)
        o += "<li>" + HtmlEscape(w) + "</li>";
      o += "</ul>\n";
    }
  }
  InputAndIo(o, a);
}

}  // namespace teye
