#include "teye/analyzers/resource_profile.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace teye {
namespace {

// A process's RSS grows steadily — a leak — when the line through its samples rises by at least
// this much over the span (and by kLeakMinGrowthShare of its first sample), with |r| ≥ kLeakMinR.
constexpr double kLeakMinGrowthBytes = 64.0 * 1024 * 1024;
constexpr double kLeakMinGrowthShare = 0.10;
constexpr double kLeakMinR = 0.9;
constexpr int kLeakMinSamples = 5;
constexpr size_t kChartPoints = 200;

SampleStats StatsOf(const std::vector<double>& values) {
  SampleStats s;
  if (values.empty()) return s;
  const DistributionStats d = Summarize(values);
  s.samples = d.count;
  s.mean = d.mean;
  s.p90 = d.p90;
  s.max = d.max;
  return s;
}

// The sample whose interval (previous sample, sample] holds `t`, if any.
std::optional<double> ValueAt(const CounterSeries& s, TimeNs t) {
  const auto it = std::lower_bound(s.ts.begin(), s.ts.end(), t);
  if (it == s.ts.end()) return std::nullopt;
  const size_t i = static_cast<size_t>(it - s.ts.begin());
  if (s.IntervalStart(i) >= t) return std::nullopt;
  return s.value[i];
}

// The rank's value at each sample time of the training process (or, without its samples, of the
// process with the most): the sum over processes of the sample that holds at that time.
struct RankSeries {
  std::vector<TimeNs> ts;
  std::vector<double> value;
};
RankSeries CombineProcesses(const std::map<int64_t, CounterSeries>& by_pid,
                            const RankProcesses& processes, Interval span) {
  RankSeries out;
  const CounterSeries* clock = nullptr;
  if (auto it = by_pid.find(processes.training_pid); it != by_pid.end()) {
    clock = &it->second;
  } else {
    for (int64_t pid : processes.pids)
      if (auto p = by_pid.find(pid); p != by_pid.end())
        if (!clock || p->second.ts.size() > clock->ts.size()) clock = &p->second;
  }
  if (!clock) return out;
  for (const TimeNs t : clock->ts) {
    if (t < span.start || t > span.end) continue;
    double total = 0;
    for (int64_t pid : processes.pids)
      if (auto it = by_pid.find(pid); it != by_pid.end())
        total += ValueAt(it->second, t).value_or(0);
    out.ts.push_back(t);
    out.value.push_back(total);
  }
  return out;
}

// Time-weighted mean of a series over `window` (the covered part), nullopt when no sample's
// interval overlaps it.
std::optional<double> MeanOver(const CounterSeries& s, Interval window) {
  double covered = 0, sum = 0;
  for (size_t i = 0; i < s.ts.size(); ++i) {
    const TimeNs from = std::max(window.start, s.IntervalStart(i));
    const TimeNs to = std::min(window.end, s.ts[i]);
    if (to <= from) continue;
    covered += static_cast<double>(to - from);
    sum += s.value[i] * static_cast<double>(to - from);
  }
  if (covered <= 0) return std::nullopt;
  return sum / covered;
}

std::optional<double> MaxOver(const CounterSeries& s, Interval window) {
  std::optional<double> out;
  for (size_t i = 0; i < s.ts.size(); ++i) {
    if (s.ts[i] <= window.start || s.IntervalStart(i) >= window.end) continue;
    out = out ? std::max(*out, s.value[i]) : s.value[i];
  }
  return out;
}

// Sums `per_process(series)` over the processes that have a value.
std::optional<double> SumOverProcesses(
    const std::map<int64_t, CounterSeries>& by_pid, const RankProcesses& processes,
    const std::function<std::optional<double>(const CounterSeries&)>& per_process) {
  std::optional<double> total;
  for (int64_t pid : processes.pids) {
    auto it = by_pid.find(pid);
    if (it == by_pid.end()) continue;
    if (auto v = per_process(it->second)) total = total.value_or(0) + *v;
  }
  return total;
}

ResourceChart Chart(std::string name, std::string unit, const std::vector<TimeNs>& ts,
                    const std::vector<double>& values, Interval span, bool level) {
  ResourceChart c;
  c.name = std::move(name);
  c.unit = std::move(unit);
  const size_t n = ts.size();
  const size_t per_point = std::max<size_t>(1, (n + kChartPoints - 1) / kChartPoints);
  for (size_t i = 0; i < n; i += per_point) {
    const size_t end = std::min(n, i + per_point);
    double v = level ? values[i] : 0;
    for (size_t j = i; j < end; ++j)
      v = level ? std::max(v, values[j]) : v + values[j];
    c.t_s.push_back(static_cast<double>(ts[end - 1] - span.start) / kNsPerSec);
    c.value.push_back(level ? v : v / static_cast<double>(end - i));
  }
  return c;
}

void FitRss(const CounterSeries& s, Interval span, ProcessResources& p) {
  std::vector<double> x, y;
  for (size_t i = 0; i < s.ts.size(); ++i) {
    if (s.ts[i] < span.start || s.ts[i] > span.end) continue;
    x.push_back(static_cast<double>(s.ts[i] - span.start) / kNsPerSec);
    y.push_back(s.value[i]);
  }
  p.rss_samples = static_cast<int>(y.size());
  if (y.empty()) return;
  p.rss_max_bytes = *std::max_element(y.begin(), y.end());
  p.rss_first_bytes = y.front();
  p.rss_last_bytes = y.back();
  if (y.size() < 2) return;
  const double n = static_cast<double>(y.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < y.size(); ++i)
    mx += x[i] / n, my += y[i] / n;
  double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0) return;
  p.rss_slope_bytes_per_s = sxy / sxx;
  p.rss_correlation = syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
  const double growth = p.rss_slope_bytes_per_s * (x.back() - x.front());
  p.rss_leak = p.rss_samples >= kLeakMinSamples && p.rss_correlation >= kLeakMinR &&
               growth >= std::max(kLeakMinGrowthBytes, kLeakMinGrowthShare * p.rss_first_bytes);
}

std::string Mb(double bytes) {
  return fmt::format("{:.0f} MB", bytes / 1e6);
}

void ProfileGpus(const Trace& trace, const StepsResult& steps, Interval span, int primary_device,
                 double kernel_utilization, ResourceProfile& out) {
  const auto util = CounterSeriesByPid(trace, kGpuUtilizationCounter);
  const auto used = CounterSeriesByPid(trace, kGpuMemoryUsedCounter);
  std::map<int, GpuResources> by_device;
  for (const auto& [device, s] : util) {
    GpuResources& g = by_device[static_cast<int>(device)];
    g.utilization_source = "nvml";
    g.utilization_pct = StatsOf(s.ValuesWithin(span));
  }
  for (const auto& [device, s] : used) {
    const std::vector<double> v = s.ValuesWithin(span);
    if (v.empty()) continue;
    GpuResources& g = by_device[static_cast<int>(device)];
    g.memory_source = "nvml";
    g.memory_max_bytes = *std::max_element(v.begin(), v.end());
  }
  // The allocator's reserved memory (PyTorch `[memory]` events) when NVML did not sample it.
  const MemoryEventTable& m = trace.memory_events();
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.device[i] < 0 || m.ts_ns[i] < span.start || m.ts_ns[i] > span.end) continue;
    if (by_device.count(m.device[i]) && by_device[m.device[i]].memory_source == "nvml") continue;
    GpuResources& g = by_device[m.device[i]];
    g.memory_source = "allocator";
    const int64_t held = m.total_reserved[i] >= 0 ? m.total_reserved[i] : m.total_allocated[i];
    g.memory_max_bytes = std::max(g.memory_max_bytes, static_cast<double>(held));
  }
  if (primary_device >= 0 && !util.count(primary_device)) {
    GpuResources& g = by_device[primary_device];
    g.utilization_source = "kernels";
    g.utilization_pct.mean = 100 * kernel_utilization;
  }
  for (auto& [device, g] : by_device) {
    g.device = device;
    if (const DeviceInfo* d = trace.FindDevice(device)) g.memory_total_bytes = d->total_global_mem;
    if (g.memory_total_bytes > 0 && !g.memory_source.empty()) {
      g.memory_max_fraction = g.memory_max_bytes / static_cast<double>(g.memory_total_bytes);
      g.memory_near_limit = g.memory_max_fraction >= kGpuMemoryNearLimit;
    }
    if (g.memory_near_limit)
      out.warnings.push_back(fmt::format(
          "GPU {} memory peaks at {:.1f} of {:.1f} GB ({:.0f}%, {}): a larger batch or model "
          "will run out of memory; the memory headroom shows the allocator's own peak",
          device, g.memory_max_bytes / 1e9, static_cast<double>(g.memory_total_bytes) / 1e9,
          100 * g.memory_max_fraction,
          g.memory_source == "nvml" ? "all processes, NVML" : "reserved by the allocator"));
    out.gpus.push_back(g);
  }
  for (const GpuResources& g : out.gpus)
    out.has_gpu |= g.utilization_source == "nvml" || !g.memory_source.empty();

  // Charts and per-step values for the primary device (else the first sampled one).
  int device = primary_device;
  if (!util.count(device) && !used.count(device) && !util.empty()) device = util.begin()->first;
  if (auto it = util.find(device); it != util.end()) {
    out.charts.push_back(Chart(fmt::format("GPU {} utilization", device), "%", it->second.ts,
                               it->second.value, span, false));
    for (StepResources& sr : out.per_step)
      sr.gpu_utilization_pct =
          MeanOver(it->second, {steps.steps[sr.step].start(), steps.steps[sr.step].end()});
  }
  if (auto it = used.find(device); it != used.end()) {
    out.charts.push_back(Chart(fmt::format("GPU {} memory", device), "bytes", it->second.ts,
                               it->second.value, span, true));
    for (StepResources& sr : out.per_step)
      sr.gpu_memory_bytes =
          MaxOver(it->second, {steps.steps[sr.step].start(), steps.steps[sr.step].end()});
  }
}

}  // namespace

ResourceProfile ProfileResources(const Trace& trace, const StepsResult& steps,
                                 const RankProcesses& processes, int primary_device,
                                 double kernel_utilization) {
  ResourceProfile out;
  out.host_cpus = trace.info().host_cpus;
  out.span = AnalysedSpan(trace, steps);
  const Interval span = out.span;
  const auto cpu = CounterSeriesByPid(trace, kCpuUtilizationCounter);
  const auto rss = CounterSeriesByPid(trace, kHostRssCounter);
  const auto reads = CounterSeriesByPid(trace, kReadRateCounter);
  const auto writes = CounterSeriesByPid(trace, kWriteRateCounter);
  const auto run_queue = CounterSeriesByPid(trace, kRunQueueWaitCounter);

  auto values = [&](const std::map<int64_t, CounterSeries>& by_pid, int64_t pid) {
    auto it = by_pid.find(pid);
    return it == by_pid.end() ? std::vector<double>{} : it->second.ValuesWithin(span);
  };
  for (int64_t pid : processes.pids) {
    ProcessResources p;
    p.pid = pid;
    p.worker = processes.IsWorker(pid);
    p.cpu_pct = StatsOf(values(cpu, pid));
    p.run_queue_pct = StatsOf(values(run_queue, pid));
    p.read_bytes_per_s = StatsOf(values(reads, pid));
    p.write_bytes_per_s = StatsOf(values(writes, pid));
    if (auto it = rss.find(pid); it != rss.end()) FitRss(it->second, span, p);
    if (p.cpu_pct.samples == 0 && p.rss_samples == 0) continue;
    if (p.rss_leak)
      out.warnings.push_back(fmt::format(
          "host memory of {} {} grows steadily: {} → {} over the steps ({:+.1f} MB/s, r = "
          "{:.2f}): a leak, e.g. tensors kept across steps (losses summed without .item(), "
          "growing caches or lists)",
          p.worker ? "worker process" : "the training process", pid, Mb(p.rss_first_bytes),
          Mb(p.rss_last_bytes), p.rss_slope_bytes_per_s / 1e6, p.rss_correlation));
    out.processes.push_back(p);
  }
  out.has_host = !out.processes.empty();

  const RankSeries cpu_rank = CombineProcesses(cpu, processes, span);
  const RankSeries rss_rank = CombineProcesses(rss, processes, span);
  const RankSeries read_rank = CombineProcesses(reads, processes, span);
  const RankSeries write_rank = CombineProcesses(writes, processes, span);
  out.cpu_pct = StatsOf(cpu_rank.value);
  out.cpu_cores = out.cpu_pct.mean / 100;
  if (out.host_cpus > 0) out.cpu_machine_share = out.cpu_cores / out.host_cpus;
  if (!rss_rank.value.empty()) {
    out.rss_max_bytes = *std::max_element(rss_rank.value.begin(), rss_rank.value.end());
    out.host_memory_source = "rss";
  }
  out.read_bytes_per_s = StatsOf(read_rank.value).mean;
  out.write_bytes_per_s = StatsOf(write_rank.value).mean;
  if (out.host_memory_source.empty()) {  // PyTorch's CPU allocator events
    const MemoryEventTable& m = trace.memory_events();
    for (size_t i = 0; i < m.size(); ++i) {
      if (m.device[i] >= 0 || m.ts_ns[i] < span.start || m.ts_ns[i] > span.end) continue;
      out.host_memory_source = "allocator";
      out.rss_max_bytes = std::max(out.rss_max_bytes, static_cast<double>(m.total_allocated[i]));
    }
  }

  if (!cpu_rank.ts.empty())
    out.charts.push_back(Chart("CPU", "%", cpu_rank.ts, cpu_rank.value, span, false));
  if (!rss_rank.ts.empty())
    out.charts.push_back(Chart("host memory", "bytes", rss_rank.ts, rss_rank.value, span, true));
  if (!read_rank.ts.empty())
    out.charts.push_back(Chart("read rate", "bytes/s", read_rank.ts, read_rank.value, span, false));

  for (const Step& s : steps.steps) {
    if (!s.complete) continue;
    StepResources sr;
    sr.step = s.index;
    const Interval w{s.start(), s.end()};
    sr.cpu_pct = SumOverProcesses(cpu, processes, [&](const auto& x) { return MeanOver(x, w); });
    sr.rss_bytes = SumOverProcesses(rss, processes, [&](const auto& x) { return MaxOver(x, w); });
    sr.read_bytes_per_s =
        SumOverProcesses(reads, processes, [&](const auto& x) { return MeanOver(x, w); });
    out.per_step.push_back(sr);
  }
  ProfileGpus(trace, steps, span, primary_device, kernel_utilization, out);
  return out;
}

}  // namespace teye
