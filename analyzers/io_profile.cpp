#include "teye/analyzers/io_profile.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <unordered_map>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

// The store counts as saturated when reads in parallel deliver less than this many times the
// rate of a read alone, over at least kMinConcurrentShare of the time reads were in flight.
constexpr double kScalingFactor = 1.25;
constexpr double kMinConcurrentShare = 0.2;

double Quantile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

struct ReadCall {
  TimeNs start, end;
  int64_t bytes;
};

// Where a read's bytes came from, for measuring the store: sockets (`recv`, `recvfrom`) or files
// (reads on a descriptor with a path). Reads on other descriptors (pipes between the DataLoader's
// processes, descriptors opened elsewhere) say nothing about the store.
enum class ReadSource : uint8_t { kSocket, kFile, kOther };
ReadSource SourceOf(std::string_view call, StringId path) {
  if (call == "recv" || call == "recvfrom") return ReadSource::kSocket;
  return path != kEmptyString ? ReadSource::kFile : ReadSource::kOther;
}

// Compares reads that started while other reads were in flight with reads that started alone.
// Classing each call by the moment it starts (not by its whole duration, which long calls fill
// with overlaps whatever the store does) keeps both groups alike but for the concurrency.
void MeasureConcurrency(const std::vector<ReadCall>& calls, IoProfile& out) {
  std::vector<TimeNs> starts, ends;
  for (const ReadCall& c : calls) {
    starts.push_back(c.start);
    ends.push_back(c.end);
  }
  std::sort(starts.begin(), starts.end());
  std::sort(ends.begin(), ends.end());
  double alone_ns = 0, alone_bytes = 0, shared_ns = 0, shared_bytes = 0, concurrency_ns = 0;
  for (const ReadCall& c : calls) {
    if (c.end <= c.start) continue;
    // Calls in flight at this one's start, itself included: started at or before it, not ended.
    const auto started = std::upper_bound(starts.begin(), starts.end(), c.start) - starts.begin();
    const auto ended = std::upper_bound(ends.begin(), ends.end(), c.start) - ends.begin();
    const int in_flight = static_cast<int>(started - ended);
    out.max_concurrent_reads = std::max(out.max_concurrent_reads, in_flight);
    const auto dur = static_cast<double>(c.end - c.start);
    if (in_flight <= 1) {
      alone_ns += dur;
      alone_bytes += static_cast<double>(c.bytes);
    } else {
      shared_ns += dur;
      shared_bytes += static_cast<double>(c.bytes);
      concurrency_ns += in_flight * dur;
    }
  }
  if (alone_ns > 0) out.single_read_mb_per_s = alone_bytes / alone_ns * 1e3;
  if (shared_ns > 0)
    out.concurrent_read_mb_per_s = shared_bytes / shared_ns * (concurrency_ns / shared_ns) * 1e3;
  out.store_saturated = shared_ns >= kMinConcurrentShare * (alone_ns + shared_ns) &&
                        out.single_read_mb_per_s > 0 &&
                        out.concurrent_read_mb_per_s < kScalingFactor * out.single_read_mb_per_s;
}

}  // namespace

bool IsReadCall(std::string_view name) {
  return name == "read" || name == "pread" || name == "readv" || name == "preadv" ||
         name == "recv" || name == "recvfrom" || name == "fread";
}

bool IsOpenCall(std::string_view name) {
  return name == "open";
}

IoProfile ProfileIo(const Trace& trace, const StepsResult& steps, const RankProcesses& processes) {
  IoProfile out;
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  const IntervalSet windows = CompleteStepSet(steps);
  for (const Step& s : steps.steps)
    out.complete_steps += s.complete;

  // The training process's DataLoader ranges inside the steps: its loader time.
  std::vector<Interval> loader;
  for (ThreadIndex t : processes.loader_threads) {
    for (RowIndex r = threads.slice_begin[t]; r < threads.slice_end[t]; ++r) {
      if (!IsDataLoaderNext(trace, r) || !windows.Contains(h.start_ns[r])) continue;
      loader.push_back({h.start_ns[r], h.end_ns[r]});
      ++out.batches;
    }
  }
  const IntervalSet loader_set = IntervalSet::Union(loader);

  struct Accumulator {
    ProcessIo io;
    std::vector<double> latencies_us;
    std::vector<Interval> waits;  // reads and opens
    std::unordered_map<StringId, IoPathStat> paths;
  };
  std::map<int64_t, Accumulator> by_pid;
  // Store reads of the loader by source: [0] the training process's, [1] the workers'.
  std::array<std::array<std::vector<ReadCall>, 2>, 2> store_reads;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] != HostSliceKind::kIo) continue;
    out.present = true;
    if (h.parent[i] != kNoRow && h.kind[h.parent[i]] == HostSliceKind::kIo) continue;
    if (!windows.Contains(h.start_ns[i])) continue;
    const std::string_view name = trace.str(h.name[i]);
    const bool read = IsReadCall(name);
    if (!read && !IsOpenCall(name)) continue;
    const int64_t pid = threads.pid[h.thread[i]];
    Accumulator& a = by_pid[pid];
    const TimeNs dur = h.duration(i);
    if (read) {
      ++a.io.read_calls;
      a.io.read_bytes += h.bytes[i];
      a.io.read_ns += dur;
      a.latencies_us.push_back(static_cast<double>(dur) / kNsPerUs);
      if (const ReadSource source = SourceOf(name, h.detail[i]); source != ReadSource::kOther)
        store_reads[processes.IsWorker(pid)][static_cast<size_t>(source)].push_back(
            {h.start_ns[i], h.end_ns[i], h.bytes[i]});
    } else {
      ++a.io.open_calls;
      a.io.open_ns += dur;
    }
    a.waits.push_back({h.start_ns[i], h.end_ns[i]});
    IoPathStat& p = a.paths[h.detail[i]];
    ++p.calls;
    p.bytes += read ? h.bytes[i] : 0;
    p.time_ns += dur;
  }
  if (!out.present) return out;

  const double steps_n = std::max(1, out.complete_steps);
  const double batches_n = out.batches > 0 ? out.batches : steps_n;
  for (int64_t pid : processes.pids) {
    auto it = by_pid.find(pid);
    if (it == by_pid.end()) continue;
    Accumulator& a = it->second;
    ProcessIo& io = a.io;
    io.pid = pid;
    io.worker = processes.IsWorker(pid);
    io.read_calls_per_step = static_cast<double>(io.read_calls) / steps_n;
    io.read_bytes_per_step = static_cast<double>(io.read_bytes) / steps_n;
    io.read_ms_per_step = static_cast<double>(io.read_ns) / kNsPerMs / steps_n;
    io.opens_per_batch = static_cast<double>(io.open_calls) / batches_n;
    if (io.read_ns > 0)
      io.read_mb_per_s = static_cast<double>(io.read_bytes) / static_cast<double>(io.read_ns) * 1e3;
    std::sort(a.latencies_us.begin(), a.latencies_us.end());
    io.read_latency_us_p50 = Quantile(a.latencies_us, 0.5);
    io.read_latency_us_p90 = Quantile(a.latencies_us, 0.9);
    io.read_latency_us_p99 = Quantile(a.latencies_us, 0.99);
    io.read_latency_us_max = a.latencies_us.empty() ? 0 : a.latencies_us.back();
    const IntervalSet waits = IntervalSet::Union(a.waits);
    const IntervalSet scope = io.worker ? windows : loader_set;
    io.loader_ns = scope.Length();
    if (io.loader_ns > 0)
      io.read_wait_share =
          static_cast<double>(waits.Intersect(scope).Length()) / static_cast<double>(io.loader_ns);
    for (auto& [path, stat] : a.paths) {
      stat.path = std::string(trace.str(path));
      io.top_paths.push_back(stat);
    }
    std::sort(io.top_paths.begin(), io.top_paths.end(),
              [](const IoPathStat& x, const IoPathStat& y) { return x.time_ns > y.time_ns; });
    if (io.top_paths.size() > kTopIoPaths) io.top_paths.resize(kTopIoPaths);
    out.processes.push_back(std::move(io));
  }
  // The store: the source the loader (the workers when they read at all) spent most time on.
  const auto& loader_reads =
      store_reads[1][0].empty() && store_reads[1][1].empty() ? store_reads[0] : store_reads[1];
  auto time_of = [](const std::vector<ReadCall>& calls) {
    TimeNs t = 0;
    for (const ReadCall& c : calls)
      t += c.end - c.start;
    return t;
  };
  MeasureConcurrency(
      time_of(loader_reads[0]) >= time_of(loader_reads[1]) ? loader_reads[0] : loader_reads[1],
      out);
  return out;
}

}  // namespace teye
