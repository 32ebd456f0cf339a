#include "teye/analyzers/input_cause.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "teye/analyzers/host_patterns.h"

namespace teye {
namespace {

// The cause is decided by how the loader's time splits into reads, CPU work and waits for a core
// (docs/metrics.md): below this share of accounted time the loader mostly waited on something
// else.
constexpr double kMinAccountedShare = 0.5;
// Receiving a batch a worker has already prepared, when the trace has no worker to measure it
// from: the shortest __next__ of a 2-worker CPU job recorded here (python3-torch 1.13) is 0.5 ms.
constexpr double kReadyBatchMs = 0.5;
// The recommended worker count is the smallest within this factor of the best predicted step.
constexpr double kWorkersKnee = 1.05;
constexpr int kMaxWorkers = 64;
// A loader that waits for a core this share of its time shares the machine with other work.
constexpr double kSharedMachineQueueShare = 0.1;
// Waits count as steady when the median wait per iteration is at least this share of the mean.
constexpr double kSteadyWaitShare = 0.5;

std::string Ms(double ms) {
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 10) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.2f} ms", ms);
}

std::string Bytes(double b) {
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.0f} KB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

// What the loader spent its time on, summed over the complete steps.
struct LoaderTime {
  TimeNs available = 0;  // inline: the waits; workers: workers × step time
  TimeNs reads = 0;      // read and open calls inside it
  double read_bytes = 0;
  double cpu_ms = 0;        // core-ms from CPU samples
  double run_queue_ms = 0;  // from run-queue samples
  bool cpu_measured = false;
  int batches = 0;
  TimeNs shortest_next = 0;                     // shortest DataLoader iteration
  double mean_wait_ms = 0, median_wait_ms = 0;  // per DataLoader iteration
};

// Adds |union of the top-level read and open calls of `pids` ∩ scope|, per process, and the bytes
// of the reads that start inside `scope`.
void AddReads(const Trace& trace, const IntervalSet& scope, const std::vector<int64_t>& pids,
              LoaderTime& t) {
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  std::map<int64_t, std::vector<Interval>> calls;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] != HostSliceKind::kIo) continue;
    if (h.parent[i] != kNoRow && h.kind[h.parent[i]] == HostSliceKind::kIo) continue;
    const int64_t pid = threads.pid[h.thread[i]];
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) continue;
    const std::string_view name = trace.str(h.name[i]);
    const bool read = IsReadCall(name);
    if (!read && !IsOpenCall(name)) continue;
    if (scope.LengthWithin({h.start_ns[i], std::max(h.end_ns[i], h.start_ns[i] + 1)}) == 0)
      continue;
    calls[pid].push_back({h.start_ns[i], h.end_ns[i]});
    if (read && scope.Contains(h.start_ns[i])) t.read_bytes += static_cast<double>(h.bytes[i]);
  }
  for (auto& [pid, list] : calls)
    t.reads += IntervalSet::Union(std::move(list)).Intersect(scope).Length();
}

// CPU and run-queue time of `pids` over `scope`, from their counter samples.
void AddCpu(const Trace& trace, const IntervalSet& scope, const std::vector<int64_t>& pids,
            LoaderTime& t) {
  const auto cpu = CounterSeriesByPid(trace, kCpuUtilizationCounter);
  const auto queue = CounterSeriesByPid(trace, kRunQueueWaitCounter);
  for (int64_t pid : pids) {
    // A rate in % integrated over seconds: ×10 gives milliseconds of one core.
    if (auto it = cpu.find(pid); it != cpu.end()) {
      t.cpu_ms += it->second.Integrate(scope) * 10;
      t.cpu_measured = true;
    }
    if (auto it = queue.find(pid); it != queue.end())
      t.run_queue_ms += it->second.Integrate(scope) * 10;
  }
}

// CPU time of every process of the rank per step (core-ms), or a negative value without samples.
double RankCpuMsPerStep(const Trace& trace, const IntervalSet& windows,
                        const RankProcesses& processes, int steps) {
  LoaderTime all;
  AddCpu(trace, windows, processes.pids, all);
  return all.cpu_measured ? all.cpu_ms / std::max(1, steps) : -1;
}

void PriceMoreWorkers(const InputContext& c, const LoaderTime& t, InputDiagnosis& d,
                      double mean_step_ms, int steps) {
  if (t.batches == 0) return;
  const double batches_per_step = static_cast<double>(t.batches) / std::max(1, steps);
  // One worker's wall time per batch: the inline loading itself, or a worker's reads, CPU work and
  // waits for a core.
  const double batch_ms =
      d.loader == "inline"
          ? static_cast<double>(t.available) / kNsPerMs / t.batches
          : (static_cast<double>(t.reads) / kNsPerMs + t.cpu_ms + t.run_queue_ms) / t.batches;
  const double ready_ms = d.loader == "workers" && t.shortest_next > 0
                              ? static_cast<double>(t.shortest_next) / kNsPerMs
                              : kReadyBatchMs;
  const double training_ms =
      std::max(0.0, mean_step_ms - d.wait_ms_per_step) + ready_ms * batches_per_step;
  double cores_ms = 0, store_ms = 0;
  const int cpus = c.resources.host_cpus;
  const double rank_cpu = RankCpuMsPerStep(c.trace, CompleteStepSet(c.steps), c.processes, steps);
  if (cpus > 0 && rank_cpu > 0) cores_ms = rank_cpu / cpus;
  if (c.io.store_saturated && c.io.concurrent_read_mb_per_s > 0)
    store_ms = d.read_bytes_per_step / (c.io.concurrent_read_mb_per_s * 1e3);
  const double floor = std::max({training_ms, cores_ms, store_ms});
  auto predicted = [&](int workers) {
    return std::max(floor, batch_ms * batches_per_step / workers);
  };
  int workers = 1;
  while (workers < kMaxWorkers && predicted(workers) > kWorkersKnee * floor)
    ++workers;
  workers = std::max(workers, d.workers);
  InputFix& f = d.fix;
  f.workers = workers;
  f.predicted_step_ms = predicted(workers);
  const double loader_ms = batch_ms * batches_per_step / workers;
  f.limit = loader_ms >= floor  ? "loader"
            : floor == store_ms ? "store"
            : floor == cores_ms ? "cores"
                                : "training";
  f.method = fmt::format(
      "a worker prepares a batch in {} (measured{}); {} one every {} while the training "
      "loop needs {} per step without waiting ({} to take a ready batch)",
      Ms(batch_ms), d.loader == "inline" ? " on the training thread" : " in the workers",
      workers == 1 ? "1 worker delivers" : fmt::format("{} workers deliver", workers),
      Ms(batch_ms / workers), Ms(training_ms), Ms(ready_ms));
  if (cores_ms > 0)
    f.method += fmt::format(
        "; the job's processes use {} of CPU per step, so {} cores need at least {} per step{}",
        Ms(rank_cpu), cpus, Ms(cores_ms), f.limit == "cores" ? " (the limit)" : "");
  if (store_ms > 0)
    f.method += fmt::format(
        "; the store delivered {:.0f} MB/s with reads in parallel and no more than alone, so "
        "{} per step need at least {}{}",
        c.io.concurrent_read_mb_per_s, Bytes(d.read_bytes_per_step), Ms(store_ms),
        f.limit == "store" ? " (the limit)" : "");
  else if (d.cause == InputCause::kStorage && c.io.max_concurrent_reads >= 2)
    f.method += fmt::format(
        "; the store served up to {} reads at once at {:.0f} MB/s (alone {:.0f} MB/s) without "
        "slowing down: taken to keep up",
        c.io.max_concurrent_reads, c.io.concurrent_read_mb_per_s, c.io.single_read_mb_per_s);
  else if (d.cause == InputCause::kStorage)
    f.method +=
        "; the store's bandwidth with reads in parallel is unknown (they never overlapped): "
        "taken to keep up";
  if (d.run_queue_ms_per_step >= kSharedMachineQueueShare * d.loader_ms_per_step)
    f.method += fmt::format(
        "; the loader waited {} per step for a busy core: if other work shares the machine, the "
        "cores limit is optimistic",
        Ms(d.run_queue_ms_per_step));
}

void Classify(const InputContext& c, const LoaderTime& t, InputDiagnosis& d) {
  const double steps = std::max<size_t>(1, c.steps.CompleteSteps().size());
  const double available = static_cast<double>(t.available);
  const double reads = static_cast<double>(t.reads);
  const double cpu_ns = t.cpu_ms * kNsPerMs, queue_ns = t.run_queue_ms * kNsPerMs;
  if (c.primary) {
    const TimeNs copies = c.primary->exposed_h2d_ns;
    const TimeNs idle = c.primary->total[TimeCategory::kInput];
    if (copies > 0 && copies >= idle) {
      d.cause = InputCause::kTransfer;
      d.reason = fmt::format(
          "the GPU waits {} per step for host-to-device copies of the input, more than for the "
          "DataLoader ({}): the batches reach the GPU slowly",
          Ms(static_cast<double>(copies) / kNsPerMs / steps),
          Ms(static_cast<double>(idle) / kNsPerMs / steps));
      return;
    }
  }
  d.cause = InputCause::kUnknown;
  if (t.batches == 0) {
    d.reason = "no DataLoader iterations in the steps: teye cannot tell what the loader waits on";
    return;
  }
  if (!c.io.present) {
    d.reason =
        "the trace has no record of the loader's reads or CPU (a profiler trace): `teye record -- "
        "python train.py` records both, in the DataLoader workers too, and tells storage- from "
        "CPU-bound loading";
    return;
  }
  if (d.loader == "workers" && d.workers == 0) {
    d.reason =
        "the DataLoader uses worker processes but their traces are not part of this rank: "
        "analyse the directory `teye record` wrote so the workers' traces are read with it";
    return;
  }
  const double share = available > 0 ? (reads + cpu_ns + queue_ns) / available : 0;
  if (d.loader == "workers" && !t.cpu_measured && reads < kMinAccountedShare * available) {
    d.reason =
        "the workers' CPU use was not sampled: record with resource samples (`teye record "
        "--sample-ms 100`) to tell CPU-bound loading from idle workers";
    return;
  }
  std::string note;
  if (share < kMinAccountedShare) {
    if (d.loader == "inline") {
      d.reason = fmt::format(
          "the training thread spent {:.0f}% of its DataLoader time neither reading, computing "
          "nor waiting for a core: it waited on something teye does not record (page faults of "
          "memory-mapped files, locks, sleeps, threads of its own)",
          100 * (1 - share));
      return;
    }
    // The workers keep up. Steady waits of the training loop are the batches' way to it; waits
    // bunched in a few iterations are the workers starting (each epoch, unless persistent).
    if (t.median_wait_ms >= kSteadyWaitShare * t.mean_wait_ms || reads + cpu_ns + queue_ns <= 0) {
      d.cause = InputCause::kTransfer;
      d.reason = fmt::format(
          "the {} workers were busy only {:.0f}% of the time while the training loop waited {} per "
          "step: batches reach it slowly (collate, pin_memory, passing batches between processes)",
          d.workers, 100 * share, Ms(d.wait_ms_per_step));
      return;
    }
    note = fmt::format(
        "; the workers keep up (busy {:.0f}% of the time): the training loop's waits are bunched "
        "in a few iterations (median {}), the workers starting",
        100 * share, Ms(t.median_wait_ms));
  }
  const std::string who = d.loader == "inline" ? "the loader (on the training thread)"
                                               : fmt::format("the {} workers", d.workers);
  if (reads >= cpu_ns + queue_ns) {
    d.cause = InputCause::kStorage;
    d.reason = fmt::format(
        "{} waited in reads {} per step ({:.0f}% of the loader's time, {} per step) and computed "
        "only {}{}",
        who, Ms(d.read_ms_per_step), 100 * reads / available, Bytes(d.read_bytes_per_step),
        Ms(d.cpu_ms_per_step), note);
  } else {
    d.cause = InputCause::kCpu;
    d.reason = fmt::format(
        "{} computed {} of CPU per step (decoding, transforms, collate){}; reads took only {} "
        "({:.0f}% of the loader's time){}",
        who, Ms(d.cpu_ms_per_step),
        d.run_queue_ms_per_step >= 0.05 * d.loader_ms_per_step
            ? fmt::format(" and waited {} for a core", Ms(d.run_queue_ms_per_step))
            : std::string(),
        Ms(d.read_ms_per_step), 100 * reads / available, note);
  }
}

}  // namespace

std::string_view ToString(InputCause cause) {
  switch (cause) {
    case InputCause::kStorage:
      return "storage";
    case InputCause::kCpu:
      return "cpu";
    case InputCause::kTransfer:
      return "transfer";
    case InputCause::kUnknown:
      return "unknown";
  }
  return "unknown";
}

InputDiagnosis DiagnoseInput(const InputContext& c) {
  InputDiagnosis d;
  const Trace& trace = c.trace;
  const HostSliceTable& h = trace.host_slices();
  const ThreadTable& threads = trace.threads();
  const IntervalSet windows = CompleteStepSet(c.steps);
  const int steps = static_cast<int>(c.steps.CompleteSteps().size());
  if (steps == 0) return d;
  const double mean_step_ms = c.steps.duration_ms.mean;

  LoaderTime t;
  std::vector<Interval> waits;
  std::vector<double> wait_ms;
  bool single = false, multi = false;
  for (ThreadIndex thread : c.processes.loader_threads) {
    for (RowIndex r = threads.slice_begin[thread]; r < threads.slice_end[thread]; ++r) {
      if (!IsDataLoaderNext(trace, r) || !windows.Contains(h.start_ns[r])) continue;
      waits.push_back({h.start_ns[r], h.end_ns[r]});
      wait_ms.push_back(static_cast<double>(h.duration(r)) / kNsPerMs);
      ++t.batches;
      if (t.shortest_next == 0 || h.duration(r) < t.shortest_next) t.shortest_next = h.duration(r);
      const std::string_view name = trace.str(h.name[r]);
      single |= name.find("SingleProcess") != std::string_view::npos;
      multi |= name.find("MultiProcessing") != std::string_view::npos;
    }
  }
  const IntervalSet wait_set = IntervalSet::Union(std::move(waits));
  const DistributionStats wait_stats = Summarize(wait_ms);
  t.mean_wait_ms = wait_stats.mean;
  t.median_wait_ms = wait_stats.median;
  const bool input_class = c.bound.valid && (c.bound.run.cls == BoundClass::kInput ||
                                             c.bound.run.runner_up == BoundClass::kInput);
  d.present = t.batches > 0 || input_class;
  if (!d.present) return d;

  std::vector<int64_t> workers;
  for (int64_t pid : c.processes.pids) {
    if (!c.processes.IsWorker(pid)) continue;
    bool active = false;
    for (const ProcessResources& p : c.resources.processes)
      active |= p.pid == pid;
    for (const ProcessIo& p : c.io.processes)
      active |= p.pid == pid;
    if (active) workers.push_back(pid);
  }
  d.workers = static_cast<int>(workers.size());
  d.loader = single ? "inline" : (multi || d.workers > 0) ? "workers" : "inline";
  if (d.loader == "inline") d.workers = 0;
  d.wait_ms_per_step = static_cast<double>(wait_set.Length()) / kNsPerMs / steps;
  d.relevant =
      c.bound.valid ? input_class : d.wait_ms_per_step >= kInputRelevantShare * mean_step_ms;

  if (d.loader == "inline") {
    t.available = wait_set.Length();
    AddReads(trace, wait_set, {c.processes.training_pid}, t);
    AddCpu(trace, wait_set, {c.processes.training_pid}, t);
  } else {
    t.available = windows.Length() * d.workers;
    AddReads(trace, windows, workers, t);
    AddCpu(trace, windows, workers, t);
  }
  d.cpu_measured = t.cpu_measured;
  if (!t.cpu_measured && d.loader == "inline")
    t.cpu_ms = std::max(0.0, static_cast<double>(t.available - t.reads) / kNsPerMs);
  d.loader_ms_per_step = static_cast<double>(t.available) / kNsPerMs / steps;
  d.read_ms_per_step = static_cast<double>(t.reads) / kNsPerMs / steps;
  d.read_bytes_per_step = t.read_bytes / steps;
  d.cpu_ms_per_step = t.cpu_ms / steps;
  d.run_queue_ms_per_step = t.run_queue_ms / steps;
  Classify(c, t, d);
  if (d.cause == InputCause::kStorage || d.cause == InputCause::kCpu)
    PriceMoreWorkers(c, t, d, mean_step_ms, steps);
  return d;
}

}  // namespace teye
