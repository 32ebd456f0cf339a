#include "text_resources.h"

#include <fmt/format.h>

#include "teye/reports/format.h"

namespace teye {
namespace {

std::string Style(const TextOptions& o, std::string_view code, std::string_view text) {
  if (!o.color) return std::string(text);
  return fmt::format("\033[{}m{}\033[0m", code, text);
}

std::string Pct(double pct) {
  return fmt::format("{:.0f}%", pct);
}

std::string Bytes(double bytes) {
  return HumanBytes(static_cast<int64_t>(bytes));
}

std::string Rate(double bytes_per_s) {
  return HumanBytes(static_cast<int64_t>(bytes_per_s)) + "/s";
}

std::string Us(double us) {
  return us >= 1000 ? fmt::format("{} ms", FormatMs(us / 1000)) : fmt::format("{:.0f} µs", us);
}

// Words of `text` in lines of at most `width` columns, continuation lines indented by `indent`.
std::vector<std::string> WrapWords(std::string_view text, size_t first_columns, size_t width,
                                   size_t indent) {
  std::vector<std::string> lines;
  std::string line;
  size_t columns = first_columns;
  auto display = [](std::string_view w) {
    size_t n = 0;
    for (unsigned char ch : w)
      n += (ch & 0xC0) != 0x80;
    return n;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t space = text.find(' ', pos);
    if (space == std::string_view::npos) space = text.size();
    std::string_view word = text.substr(pos, space - pos);
    pos = space + 1;
    if (word.empty()) continue;
    if (!line.empty() && columns + 1 + display(word) > width) {
      lines.push_back(line);
      line.clear();
      columns = indent;
    }
    if (!line.empty()) line += ' ', ++columns;
    line += word;
    columns += display(word);
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

const GpuResources* PrimaryGpu(const TraceAnalysis& a) {
  for (const GpuResources& g : a.resources.gpus)
    if (g.device == a.primary_device) return &g;
  return a.resources.gpus.empty() ? nullptr : &a.resources.gpus.front();
}

// "12.1 GB of 80.0 GB (15%)"; `source` is added inside the parentheses when given.
std::string GpuMemory(const GpuResources& g, std::string_view source = {}) {
  const std::string suffix = source.empty() ? "" : fmt::format(", {}", source);
  return g.memory_total_bytes > 0 ? fmt::format("{} of {} ({}{})", Bytes(g.memory_max_bytes),
                                                Bytes(static_cast<double>(g.memory_total_bytes)),
                                                Pct(100 * g.memory_max_fraction), suffix)
                                  : fmt::format("{}{}", Bytes(g.memory_max_bytes),
                                                source.empty() ? "" : fmt::format(" ({})", source));
}

// PyTorch's CPU allocator events count tensors, not the process's memory.
std::string_view HostMemoryLabel(const ResourceProfile& r) {
  return r.host_memory_source == "rss" ? "host memory" : "CPU tensors";
}

std::string CpuSummary(const ResourceProfile& r) {
  std::string s = fmt::format("{} ({:.2f} core{}", Pct(r.cpu_pct.mean), r.cpu_cores,
                              r.cpu_cores == 1 ? "" : "s");
  if (r.host_cpus > 0) s += fmt::format(" of {}", r.host_cpus);
  return s + ")";
}

}  // namespace

std::string ResourceHeadline(const TraceAnalysis& a, const TextOptions& o) {
  const ResourceProfile& r = a.resources;
  if (!r.has_host && !r.has_gpu) return {};
  std::vector<std::string> parts;
  if (r.cpu_pct.samples > 0) parts.push_back("CPU " + Style(o, "1", CpuSummary(r)));
  if (!r.host_memory_source.empty())
    parts.push_back(std::string(HostMemoryLabel(r)) + " " + Style(o, "1", Bytes(r.rss_max_bytes)));
  if (const GpuResources* g = PrimaryGpu(a)) {
    if (!g->utilization_source.empty())
      parts.push_back(fmt::format("GPU {} ", g->device) +
                      Style(o, "1", Pct(g->utilization_pct.mean)));
    if (!g->memory_source.empty())
      parts.push_back(fmt::format("GPU {} memory ", g->device) + Style(o, "1", GpuMemory(*g)));
  }
  std::string line;
  for (size_t i = 0; i < parts.size(); ++i)
    line += (i ? " · " : "") + parts[i];
  return line;
}

std::vector<std::string> ResourceSections(const TraceAnalysis& a, const TextOptions& o,
                                          int label_width) {
  std::vector<std::string> out;
  const std::string pad(static_cast<size_t>(label_width), ' ');
  const size_t width = static_cast<size_t>(o.width);
  auto label = [&](std::string_view text) {
    return Style(o, "1", fmt::format("{:<{}}", text, label_width));
  };
  auto add_wrapped = [&](std::string first, std::string_view text, std::string_view code) {
    const std::vector<std::string> lines =
        WrapWords(text, static_cast<size_t>(label_width), width, static_cast<size_t>(label_width));
    for (size_t i = 0; i < lines.size(); ++i)
      out.push_back((i == 0 ? first : pad) + Style(o, code, lines[i]));
  };

  const ResourceProfile& r = a.resources;
  if (r.has_host || r.has_gpu) {
    std::string first = label("RESOURCES");
    if (r.cpu_pct.samples > 0) {
      std::string cpu = fmt::format("CPU {} · p90 {}", CpuSummary(r), Pct(r.cpu_pct.p90));
      if (!r.processes.empty() && r.processes.front().run_queue_pct.samples > 0)
        cpu += fmt::format(" · waiting for a core {}", Pct(r.processes.front().run_queue_pct.mean));
      out.push_back(first + cpu);
      first = pad;
    }
    if (!r.host_memory_source.empty()) {
      std::string mem = fmt::format("{} max {} ({})", HostMemoryLabel(r), Bytes(r.rss_max_bytes),
                                    r.host_memory_source == "rss" ? "RSS" : "PyTorch's allocator");
      if (r.read_bytes_per_s > 0 || r.write_bytes_per_s > 0)
        mem += fmt::format(" · read {} · write {}", Rate(r.read_bytes_per_s),
                           Rate(r.write_bytes_per_s));
      out.push_back(first + mem);
      first = pad;
    }
    int workers = 0;
    for (const ProcessResources& p : r.processes) {
      if (!p.worker) continue;
      if (++workers > 4) continue;
      out.push_back(first + Style(o, "2",
                                  fmt::format("worker {}: CPU {} (p90 {}) · RSS max {}", p.pid,
                                              Pct(p.cpu_pct.mean), Pct(p.cpu_pct.p90),
                                              Bytes(p.rss_max_bytes))));
      first = pad;
    }
    if (workers > 4)
      out.push_back(pad + Style(o, "2", fmt::format("… and {} more workers", workers - 4)));
    for (const GpuResources& g : r.gpus) {
      std::string gpu = fmt::format("GPU {}", g.device);
      if (!g.utilization_source.empty())
        gpu += g.utilization_source == "nvml"
                   ? fmt::format(" utilization {} (p90 {}, NVML)", Pct(g.utilization_pct.mean),
                                 Pct(g.utilization_pct.p90))
                   : fmt::format(" utilization {} (kernels)", Pct(g.utilization_pct.mean));
      if (!g.memory_source.empty())
        gpu += " · memory " + GpuMemory(g, g.memory_source == "nvml" ? "NVML, all processes"
                                                                     : "allocator reserved");
      out.push_back(first + gpu);
      first = pad;
    }
    for (const std::string& w : r.warnings)
      add_wrapped(first + Style(o, "33", "! "), w, "33"), first = pad;
    out.emplace_back();
  }

  const IoProfile& io = a.io;
  if (io.present && !io.processes.empty()) {
    std::string first = label("I/O");
    for (const ProcessIo& p : io.processes) {
      out.push_back(first + fmt::format("{} {}: {:.1f} reads/step · {} · {} ms · {:.0f}% of "
                                        "loader time in I/O",
                                        p.worker ? "worker" : "training", p.pid,
                                        p.read_calls_per_step, Bytes(p.read_bytes_per_step),
                                        FormatMs(p.read_ms_per_step), 100 * p.read_wait_share));
      first = pad;
      std::string detail = fmt::format(
          "  {:.1f} opens/batch · latency p50 {} p99 {} · {:.1f} MB/s while reading",
          p.opens_per_batch, Us(p.read_latency_us_p50), Us(p.read_latency_us_p99), p.read_mb_per_s);
      for (size_t i = 0; i < p.top_paths.size() && i < 2; ++i) {
        const IoPathStat& s = p.top_paths[i];
        detail += fmt::format("{} {} {} ms", i == 0 ? " · most time:" : ",",
                              s.path.empty() ? "(sockets, pipes)" : s.path,
                              FormatMs(static_cast<double>(s.time_ns) / kNsPerMs));
      }
      out.push_back(pad +
                    Style(o, "2", Ellipsize(detail, width - static_cast<size_t>(label_width))));
    }
    out.emplace_back();
  }

  return out;
}

std::vector<std::string> InputSection(const TraceAnalysis& a, const TextOptions& o,
                                      int label_width) {
  std::vector<std::string> out;
  const InputDiagnosis& in = a.input;
  if (!in.present || !in.relevant) return out;
  const std::string pad(static_cast<size_t>(label_width), ' ');
  const std::string cause = in.cause == InputCause::kUnknown
                                ? "cause unknown"
                                : fmt::format("{}-bound loading", ToString(in.cause));
  const std::string loader = in.loader == "inline" ? "loading on the training thread"
                             : in.workers > 0 ? fmt::format("{} DataLoader workers", in.workers)
                                              : "DataLoader workers";
  out.push_back(
      Style(o, "1", fmt::format("{:<{}}", "INPUT", label_width)) + Style(o, "1", cause) +
      fmt::format(" · {} · the loop waits {} ms per step", loader, FormatMs(in.wait_ms_per_step)));
  for (const std::string& l :
       WrapWords(in.reason, static_cast<size_t>(label_width), static_cast<size_t>(o.width),
                 static_cast<size_t>(label_width)))
    out.push_back(pad + Style(o, "2", l));
  if (in.fix.workers > 0)
    out.push_back(pad + fmt::format("with {} worker{}: {} ms per step predicted (limit: {})",
                                    in.fix.workers, in.fix.workers == 1 ? "" : "s",
                                    FormatMs(in.fix.predicted_step_ms), in.fix.limit));
  out.emplace_back();
  return out;
}

}  // namespace teye
