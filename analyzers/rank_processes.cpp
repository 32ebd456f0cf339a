#include "teye/analyzers/rank_processes.h"

#include <algorithm>
#include <set>

#include "teye/analyzers/host_patterns.h"

namespace teye {

RankProcesses FindRankProcesses(const Trace& trace, const StepsResult& steps) {
  const ThreadTable& t = trace.threads();
  const HostSliceTable& h = trace.host_slices();
  std::map<int64_t, size_t> slices_by_pid;
  std::map<ThreadIndex, size_t> loader_ranges;
  for (size_t row = 0; row < t.size(); ++row) {
    const size_t n = static_cast<size_t>(t.slice_end[row] - t.slice_begin[row]);
    if (n > 0) slices_by_pid[t.pid[row]] += n;
  }
  for (size_t r = 0; r < h.size(); ++r)
    if (IsDataLoaderNext(trace, static_cast<RowIndex>(r))) ++loader_ranges[h.thread[r]];

  const CounterTable& c = trace.counters();
  std::map<int64_t, size_t> samples_by_pid;
  for (std::string_view name : {kCpuUtilizationCounter, kHostRssCounter, kReadRateCounter,
                                kWriteRateCounter, kRunQueueWaitCounter}) {
    const StringId id = trace.strings().Find(name);
    if (id == kEmptyString) continue;
    for (size_t i = 0; i < c.size(); ++i)
      if (c.name[i] == id) ++samples_by_pid[c.pid[i]];
  }

  RankProcesses out;
  bool found = false;
  for (const Step& s : steps.steps) {
    if (s.marker == kNoRow) continue;
    out.training_pid = t.pid[h.thread[s.marker]];
    found = true;
    break;
  }
  if (!found && !loader_ranges.empty()) {
    auto most = std::max_element(loader_ranges.begin(), loader_ranges.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    out.training_pid = t.pid[most->first];
    found = true;
  }
  for (const auto* counts : {&slices_by_pid, &samples_by_pid}) {
    if (found || counts->empty()) continue;
    auto most = std::max_element(counts->begin(), counts->end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    out.training_pid = most->first;
    found = true;
  }
  if (!found) return out;

  std::set<int64_t> pids;
  for (const auto& [pid, n] : slices_by_pid)
    pids.insert(pid);
  for (const auto& [pid, n] : samples_by_pid)
    pids.insert(pid);
  out.pids.push_back(out.training_pid);
  for (int64_t pid : pids)
    if (pid != out.training_pid) out.pids.push_back(pid);
  for (const auto& [thread, n] : loader_ranges)
    if (t.pid[thread] == out.training_pid) out.loader_threads.push_back(thread);
  return out;
}

double CounterSeries::Integrate(const IntervalSet& set) const {
  double sum = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const TimeNs overlap = set.LengthWithin({IntervalStart(i), ts[i]});
    sum += value[i] * static_cast<double>(overlap) / kNsPerSec;
  }
  return sum;
}

std::vector<double> CounterSeries::ValuesWithin(Interval window) const {
  std::vector<double> out;
  for (size_t i = 0; i < ts.size(); ++i)
    if (ts[i] >= window.start && ts[i] <= window.end) out.push_back(value[i]);
  return out;
}

std::map<int64_t, CounterSeries> CounterSeriesByPid(const Trace& trace, std::string_view name) {
  const CounterTable& c = trace.counters();
  std::map<int64_t, CounterSeries> out;
  const StringId id = trace.strings().Find(name);
  if (id == kEmptyString) return out;
  for (size_t i = 0; i < c.size(); ++i) {  // the table is sorted by time
    if (c.name[i] != id) continue;
    CounterSeries& s = out[c.pid[i]];
    s.ts.push_back(c.ts_ns[i]);
    s.value.push_back(c.value[i]);
  }
  for (auto& [pid, s] : out) {
    std::vector<TimeNs> gaps;
    for (size_t i = 1; i < s.ts.size(); ++i)
      gaps.push_back(s.ts[i] - s.ts[i - 1]);
    if (gaps.empty()) continue;
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(gaps.size() / 2),
                     gaps.end());
    s.period = gaps[gaps.size() / 2];
  }
  return out;
}

IntervalSet CompleteStepSet(const StepsResult& steps) {
  std::vector<Interval> windows;
  for (const Step& s : steps.steps)
    if (s.complete) windows.push_back({s.start(), s.end()});
  return IntervalSet::Union(std::move(windows));
}

Interval AnalysedSpan(const Trace& trace, const StepsResult& steps) {
  const IntervalSet set = CompleteStepSet(steps);
  if (set.empty()) return {trace.start_ns(), trace.end_ns()};
  return {set.intervals().front().start, set.intervals().back().end};
}

}  // namespace teye
