#include "teye/reports/text_writer.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "teye/reports/format.h"

#include "cross_rank_writer.h"
#include "text_microarch.h"
#include "text_resources.h"

namespace teye {
namespace {

class Out {
 public:
  explicit Out(const TextOptions& o) : o_(o) {}
  std::string& str() { return s_; }
  void Line(std::string_view text = {}) {
    s_.append(text);
    s_.push_back('\n');
  }
  std::string Bold(std::string_view t) const { return Style("1", t); }
  std::string Dim(std::string_view t) const { return Style("2", t); }
  std::string Color(std::string_view code, std::string_view t) const { return Style(code, t); }
  int width() const { return o_.width; }
  const TextOptions& options() const { return o_; }

 private:
  std::string Style(std::string_view code, std::string_view t) const {
    if (!o_.color) return std::string(t);
    return fmt::format("\033[{}m{}\033[0m", code, t);
  }
  const TextOptions& o_;
  std::string s_;
};

constexpr int kLabelWidth = 15;

std::string Label(const Out& out, std::string_view label) {
  return out.Bold(fmt::format("{:<{}}", label, kLabelWidth));
}

// A bar of eighth-blocks, `share` of `cells` characters wide.
std::string Bar(double share, int cells) {
  static const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  int eighths = static_cast<int>(std::lround(std::clamp(share, 0.0, 1.0) * cells * 8));
  std::string bar;
  for (int i = 0; i < eighths / 8; ++i)
    bar += "█";
  bar += kEighths[eighths % 8];
  return bar;
}

std::string_view CategoryColor(TimeCategory c) {
  switch (c) {
    case TimeCategory::kCompute:
      return "32";  // green: useful work
    case TimeCategory::kMemoryBound:
      return "36";  // cyan
    case TimeCategory::kCommunication:
      return "35";  // magenta
    case TimeCategory::kMemcpy:
    case TimeCategory::kMemset:
      return "34";  // blue
    default:
      return "33";  // yellow: the GPU waits
  }
}

std::string Pct(double share) {
  return fmt::format("{:.1f}%", 100.0 * share);
}

void Header(Out& out, const TraceAnalysis& a, const Report& report) {
  out.Line(out.Bold(fmt::format("teye {}", report.teye_version)) + " · " + a.file);
  std::vector<std::string> facts;
  if (a.rank >= 0)
    facts.push_back(a.world_size > 0 ? fmt::format("rank {} of {}", a.rank, a.world_size)
                                     : fmt::format("rank {}", a.rank));
  for (const DeviceSummary& d : a.devices)
    if (d.device == a.primary_device && !d.name.empty()) facts.push_back(d.name);
  if (a.vendor != GpuVendor::kUnknown) facts.push_back(std::string(ToString(a.vendor)) + " GPU");
  facts.push_back(a.producer == "pytorch-profiler" ? "PyTorch profiler trace"
                  : a.producer == "teye-collector" ? "teye collector trace"
                  : a.producer == "nsight-systems" ? "Nsight Systems export"
                                                   : "Chrome trace");
  facts.push_back(WithCommas(a.read.events_kept) + " events");
  std::string line;
  for (size_t i = 0; i < facts.size(); ++i)
    line += (i ? " · " : "") + facts[i];
  out.Line(out.Dim(line));
  out.Line();
}

void Steps(Out& out, const TraceAnalysis& a) {
  const auto& d = a.steps.duration_ms;
  std::string source = a.steps.source == StepSource::kProfilerStep ? "ProfilerStep#N"
                       : a.steps.source == StepSource::kRegex      ? "--step-regex ranges"
                       : a.steps.source == StepSource::kDataLoader ? "DataLoader iterations"
                                                                   : "whole trace";
  if (a.steps.source == StepSource::kWholeTrace) {
    out.Line(Label(out, "STEPS") +
             fmt::format("none marked: the whole trace ({} ms) is one step", FormatMs(d.mean)));
  } else {
    out.Line(Label(out, "STEPS") + fmt::format("{} {} · mean {} ms · median {} ms · p90 {} ms",
                                               d.count, source, FormatMs(d.mean),
                                               FormatMs(d.median), FormatMs(d.p90)));
  }
  for (const DeviceSummary& dev : a.devices) {
    out.Line(Label(out, fmt::format("GPU {}", dev.device)) +
             fmt::format("utilization {} · busy {} (kernels, plus memcpy/memset)",
                         out.Bold(Pct(dev.gpu_utilization)), Pct(dev.gpu_busy)));
  }
  out.Line();
}

// Words of `text` in lines of at most `width` display columns, each starting with `indent`.
std::vector<std::string> Wrap(std::string_view text, size_t width, std::string_view indent) {
  std::vector<std::string> lines;
  std::string line(indent);
  size_t columns = indent.size();
  auto display = [](std::string_view w) {
    size_t n = 0;
    for (unsigned char ch : w)
      n += (ch & 0xC0) != 0x80;  // UTF-8 lead bytes
    return n;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t space = text.find(' ', pos);
    if (space == std::string_view::npos) space = text.size();
    std::string_view word = text.substr(pos, space - pos);
    pos = space + 1;
    if (word.empty()) continue;
    if (columns > indent.size() && columns + 1 + display(word) > width) {
      lines.push_back(line);
      line = std::string(indent);
      columns = indent.size();
    }
    if (columns > indent.size()) line += ' ', ++columns;
    line += word;
    columns += display(word);
  }
  if (columns > indent.size()) lines.push_back(line);
  return lines;
}

void Verdict(Out& out, const TraceAnalysis& a) {
  const BoundResult& b = a.bound;
  if (!b.valid) return;
  std::string shares;
  for (size_t i = 0; i < kBoundClassCount; ++i) {
    const auto c = static_cast<BoundClass>(i);
    shares +=
        fmt::format("{}{} {}", shares.empty() ? "" : " · ", ToString(c), Pct(b.run.shares[c]));
  }
  out.Line(
      Label(out, "BOUND") + out.Bold(fmt::format("{}-bound", ToString(b.run.cls))) +
      fmt::format("  margin {:.0f} pts over {}", 100 * b.run.margin, ToString(b.run.runner_up)));
  out.Line(std::string(kLabelWidth, ' ') + out.Dim(shares));
  for (const std::string& l :
       Wrap(b.run.reason, static_cast<size_t>(out.width()), std::string(kLabelWidth, ' ')))
    out.Line(out.Dim(l));
  size_t steps_other = 0;
  for (const BoundVerdict& v : b.steps)
    steps_other += v.cls != b.run.cls;
  if (steps_other > 0)
    out.Line(
        std::string(kLabelWidth, ' ') +
        out.Dim(fmt::format("{} of {} steps are classed otherwise", steps_other, b.steps.size())));
  out.Line();
}

void Stalls(Out& out, const TraceAnalysis& a) {
  for (size_t i = 0; i < a.stalls.size(); ++i) {
    const StallPattern& s = a.stalls[i];
    const std::string period = s.every_steps > 0
                                   ? fmt::format("every {} steps", s.every_steps)
                                   : fmt::format("every {} ms", FormatMs(s.period_ms));
    out.Line(Label(out, i == 0 ? "RECURRING GAPS" : "") +
             fmt::format("GPU idle {} ({} × {} ms, max {} ms): {}", period, s.occurrences,
                         FormatMs(s.mean_ms), FormatMs(s.max_ms), s.activity));
    if (!s.evidence.empty())
      for (const std::string& l :
           Wrap("host was in: " + s.evidence, static_cast<size_t>(out.width()),
                std::string(kLabelWidth, ' ')))
        out.Line(out.Dim(l));
  }
  if (!a.stalls.empty()) out.Line();
  for (const MemoryHeadroom& m : a.memory) {
    if (m.total <= 0) {
      out.Line(Label(out, "MEMORY") + fmt::format("GPU {} peak allocated {} (device size unknown)",
                                                  m.device, HumanBytes(m.peak_allocated)));
    } else {
      out.Line(Label(out, "MEMORY") +
               fmt::format("GPU {} peak allocated {} of {} ({}) · reserved {}", m.device,
                           HumanBytes(m.peak_allocated), HumanBytes(m.total), Pct(m.peak_fraction),
                           Pct(m.reserved_fraction)));
    }
  }
  if (!a.memory.empty()) out.Line();
}

void Recommendations(Out& out, const TraceAnalysis& a) {
  if (!a.bound.valid) return;
  if (a.recommendations.empty()) {
    out.Line(Label(out, "DO THIS FIRST") +
             "no rule fired: nothing teye knows how to fix stands out");
    out.Line();
    return;
  }
  out.Line(
      out.Bold("DO THIS FIRST") +
      out.Dim(fmt::format("  {} recommendation{}, by saving per step (replayed before analytic)",
                          a.recommendations.size(), a.recommendations.size() == 1 ? "" : "s")));
  const size_t width = static_cast<size_t>(out.width());
  for (size_t i = 0; i < a.recommendations.size(); ++i) {
    const Recommendation& r = a.recommendations[i];
    // An analytic saving is a formula, not a replay of this run: the line says so.
    const std::string saving =
        r.saving_ms > 0
            ? fmt::format("−{} ms/step ({:.1f}%{})", FormatMs(r.saving_ms), r.saving_pct,
                          r.basis == SavingBasis::kAnalytic ? ", analytic" : "")
            : std::string("no time saving");
    const std::string number = fmt::format("  {}. ", i + 1);
    const std::string title = Ellipsize(r.title, width - number.size() - saving.size() - 4);
    out.Line(number + out.Color("32", saving) + "  " + out.Bold(title));
    if (i >= 3) continue;  // the first three in full, the rest by title
    for (const std::string& l : Wrap("do: " + r.action, width, "     "))
      out.Line(l);
    for (const std::string& e : r.evidence)
      for (const std::string& l : Wrap("why: " + e, width, "     "))
        out.Line(out.Dim(l));
    for (const std::string& l : Wrap(fmt::format("estimate ({} confidence, rule {}): {}",
                                                 ToString(r.confidence), r.id, r.method),
                                     width, "     "))
      out.Line(out.Dim(l));
  }
  out.Line();
}

void Breakdown(Out& out, const TraceAnalysis& a) {
  const DeviceBreakdown* p = a.breakdown.Primary();
  if (!p || p->steps.empty() || a.shares.empty()) return;
  const bool host = a.breakdown.host_timeline;
  const std::string where =
      host ? std::string("training thread (no GPU activity)") : fmt::format("GPU {}", p->device);
  out.Line(out.Bold("WHERE A STEP GOES") +
           out.Dim(fmt::format("  {}, mean over {} step{} of {} ms", where, p->steps.size(),
                               p->steps.size() == 1 ? "" : "s", FormatMs(a.mean_step_ms))));
  const int bar_cells = std::clamp(out.width() - 50, 10, 60);
  for (const BreakdownShare& s : a.shares) {
    if (host && !OnHostTimeline(s.category)) continue;
    std::string bar = Bar(s.share, bar_cells);
    out.Line(fmt::format("  {:<26}{:>10} ms{:>8}  ", DisplayName(s.category, host),
                         FormatMs(s.ms_per_step), Pct(s.share)) +
             out.Color(CategoryColor(s.category), bar));
  }
  // Which host ranges the largest idle category went to.
  const BreakdownShare* top_idle = nullptr;
  for (const BreakdownShare& s : a.shares)
    if (IsIdleCategory(s.category) && (!top_idle || s.ms_per_step > top_idle->ms_per_step))
      top_idle = &s;
  if (top_idle && top_idle->ms_per_step > 0) {
    const auto& who = p->contributors[static_cast<size_t>(top_idle->category)];
    if (!who.empty()) {
      const double per_step = static_cast<double>(who[0].ns) / kNsPerMs / p->steps.size();
      out.Line(out.Dim(Ellipsize(
          fmt::format("  {} mostly in: {} ({} ms per step)", DisplayName(top_idle->category, host),
                      who[0].name, FormatMs(per_step)),
          static_cast<size_t>(out.width()))));
    }
  }
  out.Line();
}

void Kernels(Out& out, const TraceAnalysis& a) {
  if (a.kernels.count == 0) return;
  const double steps = std::max(1, a.complete_steps);
  std::string classes;
  for (const ClassStat& c : a.kernels.classes) {
    if (c.share < 0.005) continue;
    if (!classes.empty()) classes += " · ";
    classes += fmt::format("{} {}", DisplayName(c.cls), Pct(c.share));
  }
  out.Line(Label(out, "KERNELS") +
           fmt::format("{} per step · ", WithCommas(std::llround(a.kernels.count / steps))) +
           Ellipsize(classes, static_cast<size_t>(out.width() - kLabelWidth - 20)));
  const int name_width = out.width() - 48;
  out.Line(out.Dim(fmt::format("  {:<{}}{:>9}{:>11}{:>10}{:>8}", "top kernels", name_width - 2,
                               "count", "total ms", "mean µs", "share")));
  for (const KernelStat& k : a.kernels.top) {
    out.Line(fmt::format(
        "  {:<{}}{:>9}{:>11}{:>10.1f}{:>8}",
        ShortKernelName(k.name, static_cast<size_t>(name_width - 3)), name_width - 2,
        WithCommas(k.count), FormatMs(static_cast<double>(k.total_ns) / kNsPerMs),
        k.mean_ns() / 1000,
        Pct(a.kernels.total_ns ? static_cast<double>(k.total_ns) / a.kernels.total_ns : 0)));
  }
  out.Line();
}

void Transfers(Out& out, const TraceAnalysis& a) {
  bool any = false;
  for (const CopyStat& c : a.memcpy.copies) {
    std::string dir(ToString(c.kind));
    if (c.host_memory != MemoryKind::kUnknown) dir += fmt::format(" ({})", ToString(c.host_memory));
    out.Line(Label(out, any ? "" : "MEMCPY") +
             fmt::format("{:<20} {:>7} × {:>9}, {:>8} ms in all, {:>6.1f} GB/s", dir,
                         WithCommas(c.count), HumanBytes(c.count ? c.bytes / c.count : 0),
                         FormatMs(static_cast<double>(c.total_ns) / kNsPerMs), c.gb_per_s()));
    any = true;
  }
  if (a.comm.kernel_count > 0) {
    const double steps = std::max(1, a.complete_steps);
    out.Line(Label(out, "COMMUNICATION") +
             fmt::format("{} collective kernels, {} ms per step, {} ms per step exposed",
                         WithCommas(a.comm.kernel_count),
                         FormatMs(static_cast<double>(a.comm.kernel_ns) / kNsPerMs / steps),
                         FormatMs(a.exposed_comm_ms_per_step)));
    for (size_t i = 0; i < a.comm.collectives.size() && i < 5; ++i) {
      const CollectiveStat& c = a.comm.collectives[i];
      std::string bytes =
          c.bytes > 0 ? fmt::format(", {} each", HumanBytes(c.bytes / c.count)) : "";
      out.Line(std::string(kLabelWidth, ' ') +
               fmt::format("{} × {}{} in {} ms", WithCommas(c.count), Ellipsize(c.op, 40), bytes,
                           FormatMs(static_cast<double>(c.total_ns) / kNsPerMs)));
    }
    any = true;
  }
  if (any) out.Line();
}

void Temporal(Out& out, const TraceAnalysis& a) {
  const TemporalBreakdown& t = a.temporal;
  if (!t.has_gpu_events) return;
  out.Line(Label(out, "HTA TEMPORAL") +
           fmt::format("idle {:.2f}% · compute {:.2f}% · non-compute {:.2f}%", t.idle_pct,
                       t.compute_pct, t.non_compute_pct) +
           out.Dim("  (HTA's rules)"));
  out.Line();
}

void ReadNotes(Out& out, const TraceAnalysis& a) {
  std::vector<std::string> lines;
  if (a.read.TotalLost() > 0 || a.read.Skipped(SkipReason::kUnknownPhase) > 0) {
    std::string parts;
    for (size_t i = 0; i < kSkipReasonCount; ++i) {
      if (!a.read.skipped[i]) continue;
      if (!parts.empty()) parts += ", ";
      parts +=
          fmt::format("{} {}", WithCommas(a.read.skipped[i]), ToString(static_cast<SkipReason>(i)));
    }
    lines.push_back(fmt::format("skipped events: {}", parts));
  }
  for (const std::string& w : a.read.warnings)
    lines.push_back(w);
  for (const std::string& n : a.notes)
    lines.push_back(n);
  // Notes explain verdicts: wrapped at the width, never cut.
  const std::string indent(kLabelWidth, ' ');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> wrapped = Wrap(lines[i], static_cast<size_t>(out.width()), indent);
    for (size_t k = 0; k < wrapped.size(); ++k)
      out.Line((i == 0 && k == 0 ? Label(out, "NOTES") : indent) +
               out.Dim(wrapped[k].substr(indent.size())));
  }
  if (!lines.empty()) out.Line();
}

}  // namespace

std::string WriteTextReport(const Report& report, const TextOptions& options) {
  Out out(options);
  for (const TraceAnalysis& a : report.ranks) {
    if (std::string headline = ResourceHeadline(a, options); !headline.empty()) out.Line(headline);
    Header(out, a, report);
    Steps(out, a);
    for (const std::string& line : ResourceSections(a, options, kLabelWidth))
      out.Line(line);
    const bool diagnosed = a.has_gpu_activity || a.breakdown.host_timeline;
    if (!diagnosed)
      for (const std::string& line : InputSection(a, options, kLabelWidth))
        out.Line(line);
    if (diagnosed) {
      Verdict(out, a);
      for (const std::string& line : InputSection(a, options, kLabelWidth))
        out.Line(line);
      Breakdown(out, a);
      Stalls(out, a);
      Kernels(out, a);
      out.str() += MicroArchText(a, out.options());
      Transfers(out, a);
      Temporal(out, a);
      Recommendations(out, a);
    }
    ReadNotes(out, a);
  }
  if (report.cross_rank) out.str() += CrossRankText(*report.cross_rank, options);
  // Kernel and op names come from the trace: nothing in them reaches the terminal as a control.
  return TerminalSafe(out.str(), options.color);
}

}  // namespace teye
