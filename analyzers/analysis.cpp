#include "teye/analyzers/analysis.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "teye/analyzers/gpu_timeline.h"
#include "teye/analyzers/host_timeline.h"
#include "teye/analyzers/replay.h"
#include "teye/analyzers/step_windows.h"

namespace teye {
namespace {

// When the run is input-bound and the first recommendation does not relieve input, says why.
void ExplainRanking(TraceAnalysis& a) {
  if (!a.bound.valid || a.bound.run.cls != BoundClass::kInput || a.recommendations.empty()) return;
  const Recommendation& first = a.recommendations.front();
  if (first.relieves == BoundClass::kInput) return;
  const Recommendation* input = nullptr;
  for (const Recommendation& r : a.recommendations)
    if (!input && r.relieves == BoundClass::kInput) input = &r;
  if (input)
    a.notes.push_back(fmt::format(
        "the run is input-bound, yet {} ranks first: its {} saving ({:.2f} ms per step) is "
        "larger than that of the best input fix, {} ({:.2f} ms)",
        first.id, ToString(first.basis), first.saving_ms, input->id, input->saving_ms));
  else
    a.notes.push_back(fmt::format(
        "the run is input-bound, but no input fix saves 1% of the step in the replay: the "
        "recommendations address the rest of the step (the input wait may come from outside "
        "the traced process)"));
}

// Replays the primary device's steps and runs the recommendation rules.
void Diagnose(const Trace& trace, const std::vector<DeviceTimeline>& timelines,
              const std::vector<KernelClass>& classes, const DeviceBreakdown& device,
              ThreadIndex training_thread, const AnalysisOptions& options, TraceAnalysis& a) {
  PhaseLaps laps(options.timings, "");
  DeviceTimeline host;  // a run without GPU activity: the training thread, no device work
  host.device = kHostTimelineDevice;
  host.main_launch_thread = training_thread;
  const DeviceTimeline* timeline = device.device == kHostTimelineDevice ? &host : nullptr;
  for (const DeviceTimeline& t : timelines)
    if (t.device == device.device) timeline = &t;
  if (!timeline) return;
  const ReplayGraph graph = BuildReplayGraph(trace, *timeline, a.steps, classes);
  if (graph.steps.empty()) return;
  const ReplayResult baseline = Replay(graph, {});
  laps.Lap("replay graph");
  RuleContext context{trace,    a.steps, device,   *timeline, classes, a.kernels,
                      a.memcpy, a.comm,  a.stalls, a.memory,  graph,   baseline};
  context.input = &a.input;
  context.mean_step_ms = static_cast<double>(device.total_duration) / kNsPerMs /
                         static_cast<double>(device.steps.size());
  context.complete_steps = static_cast<int>(device.steps.size());
  context.roofline = &a.roofline;
  context.occupancy = &a.occupancy;
  context.host_only = device.device == kHostTimelineDevice;
  a.replay_error = context.ReplayError();
  a.recommendations = Recommend(context, options.executor);
  laps.Lap("rules");
  ExplainRanking(a);
  if (a.replay_error > 0.15)
    a.notes.push_back(fmt::format(
        "the replay of the steps is {:.0f}% off the measured step time: savings are rough",
        100 * a.replay_error));
}

// One roofline per device that ran a kernel.
std::vector<RooflineResult> ComputeRooflines(const Trace& trace,
                                             const std::vector<KernelClass>& classes,
                                             const StepWindows& windows,
                                             const DevicePeakTable& peaks) {
  std::vector<int> devices;
  const GpuOpTable& g = trace.gpu_ops();
  for (size_t i = 0; i < g.size(); ++i)
    if (g.kind[i] == GpuOpKind::kKernel &&
        std::find(devices.begin(), devices.end(), g.device[i]) == devices.end())
      devices.push_back(g.device[i]);
  if (devices.empty() && trace.kernel_counters().size() > 0) {
    // Counters without kernel activity: the device the trace describes, if one.
    devices.push_back(trace.devices().empty() ? -1 : trace.devices().front().id);
  }
  std::vector<RooflineResult> out;
  for (int d : devices)
    out.push_back(ComputeRoofline(trace, classes, windows, d, peaks));
  return out;
}

// The share of the useful (compute and memory-bound) kernel time of the complete steps whose
// role the roofline decided.
double RooflineEvidenceShare(const Trace& trace, const std::vector<KernelClass>& classes,
                             const StepWindows& windows, int device,
                             const std::vector<int8_t>& memory_bound) {
  const GpuOpTable& g = trace.gpu_ops();
  TimeNs useful = 0, decided = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kKernel || g.device[i] != device) continue;
    if (RoleOf(classes[i]) == KernelRole::kCommunication || !windows.Contains(g.start_ns[i]))
      continue;
    useful += g.duration(i);
    if (memory_bound[i] >= 0) decided += g.duration(i);
  }
  return useful > 0 ? static_cast<double>(decided) / static_cast<double>(useful) : 0.0;
}

// "3 processes: the main process (pid 100) and its 2 forked children (DataLoader workers,
// pids 101, 102)..." — the processes a collector trace of a rank folds together.
std::string DescribeProcesses(const std::vector<ProcessInfo>& processes) {
  std::string forked, spawned;
  int forked_count = 0, spawned_count = 0;
  for (size_t i = 1; i < processes.size(); ++i) {
    const bool fork = processes[i].role == ProcessRole::kForkedChild;
    std::string& list = fork ? forked : spawned;
    list += (list.empty() ? "" : ", ") + std::to_string(processes[i].pid);
    ++(fork ? forked_count : spawned_count);
  }
  std::string text = fmt::format("{} processes in this rank: the main process (pid {})",
                                 processes.size(), processes.front().pid);
  if (forked_count)
    text += fmt::format(", {} forked child{} (DataLoader workers in the fork context; pid{} {})",
                        forked_count, forked_count == 1 ? "" : "ren", forked_count == 1 ? "" : "s",
                        forked);
  if (spawned_count)
    text += fmt::format(
        ", {} child{} started by Python multiprocessing (spawned workers, its resource tracker; "
        "pid{} {})",
        spawned_count, spawned_count == 1 ? "" : "ren", spawned_count == 1 ? "" : "s", spawned);
  return text + "; each process's events keep its pid";
}

}  // namespace

Result<TraceAnalysis> AnalyzeTrace(const Trace& trace, const AnalysisOptions& options) {
  TraceAnalysis a;
  const TraceInfo& info = trace.info();
  a.file = info.path;
  a.producer = info.producer;
  a.format = info.format;
  a.gzip = info.gzip;
  a.vendor = info.vendor;
  a.rank = trace.distributed().rank;
  a.world_size = trace.distributed().world_size;
  a.backend = trace.distributed().backend;
  a.read = trace.stats();
  a.model_events = static_cast<int64_t>(trace.gpu_ops().size() + trace.host_slices().size() +
                                        trace.counters().size() + trace.memory_events().size() +
                                        trace.instants().size() + trace.flows().size() +
                                        trace.gpu_annotations().size());

  // The chain steps → kernel classes → roofline → device timelines → breakdown → bound class →
  // input cause → diagnosis runs on this thread; analyses that need only part of it run beside
  // it, as tasks on the executor, as soon as what they need is known. Everything they read is
  // declared before the groups, which wait for them when they go.
  std::optional<StepWindows> windows;
  KernelClassifier builtin;
  const KernelClassifier& classifier = options.classifier ? *options.classifier : builtin;
  std::vector<KernelClass> classes;
  std::vector<DeviceTimeline> timelines;
  std::optional<RankProcesses> processes;
  TaskGroup side(options.executor);
  TaskGroup io(options.executor);  // what the input cause needs, waited for before it
  auto beside = [&](TaskGroup& group, std::string_view name, auto work) {
    group.Spawn([&options, name, work] {
      ScopedPhase phase(options.timings, name, CpuClock::kThread);
      work();
    });
  };
  beside(side, "analysis: hta temporal", [&] { a.temporal = ComputeHtaTemporal(trace); });
  beside(side, "analysis: memory headroom", [&] { a.memory = MeasureMemoryHeadroom(trace); });

  PhaseLaps laps(options.timings, "analysis: ", CpuClock::kThread);
  auto steps = DetectSteps(trace, options.steps);
  if (!steps.ok()) return steps.error();
  a.steps = std::move(steps.value());
  windows.emplace(a.steps);
  a.complete_steps = windows->count();
  a.mean_step_ms = a.steps.duration_ms.mean;
  beside(side, "analysis: memcpy", [&] { a.memcpy = SummarizeMemcpy(trace, *windows); });
  processes = FindRankProcesses(trace, a.steps);
  beside(io, "analysis: io", [&] { a.io = ProfileIo(trace, a.steps, *processes); });
  laps.Lap("steps");

  classes = classifier.ClassifyTrace(trace);
  beside(side, "analysis: kernel stats",
         [&] { a.kernels = SummarizeKernels(trace, classes, *windows, options.top_kernels); });
  beside(side, "analysis: communication",
         [&] { a.comm = SummarizeCommunication(trace, classes, *windows); });
  beside(side, "analysis: step timeline",
         [&] { a.timeline = BuildStepTimeline(trace, a.steps, classes); });
  laps.Lap("kernel classes");
  // The roofline of every device that ran kernels decides which of its kernels are compute and
  // which memory-bound, where the trace gives the evidence (shapes or counters).
  const DevicePeakTable& peaks =
      options.device_peaks ? *options.device_peaks : DevicePeakTable::Builtin();
  std::vector<RooflineResult> rooflines = ComputeRooflines(trace, classes, *windows, peaks);
  std::vector<int8_t> memory_bound(trace.gpu_ops().size(), -1);
  for (const RooflineResult& r : rooflines)
    for (size_t i = 0; i < memory_bound.size(); ++i)
      if (const int m = r.MemoryBound(i); m >= 0) memory_bound[i] = static_cast<int8_t>(m);
  laps.Lap("roofline");
  timelines = BuildDeviceTimelines(trace, classes, &memory_bound);
  a.has_gpu_activity = !timelines.empty();
  laps.Lap("device timelines");

  a.breakdown = ComputeBreakdown(trace, a.steps, timelines);
  ThreadIndex training_thread = kNoThread;
  if (!a.has_gpu_activity) {
    // No GPU: the training thread's host timeline is the one timeline there is.
    training_thread = TrainingThread(trace, a.steps);
    if (training_thread != kNoThread) {
      a.breakdown.devices.push_back(ComputeHostBreakdown(trace, a.steps, training_thread));
      a.breakdown.primary_device = kHostTimelineDevice;
      a.breakdown.host_timeline = true;
    }
  }
  a.primary_device = a.breakdown.primary_device;
  for (const DeviceBreakdown& d : a.breakdown.devices) {
    if (d.device == kHostTimelineDevice) continue;  // not a GPU
    DeviceSummary s;
    s.device = d.device;
    if (const DeviceInfo* info_dev = trace.FindDevice(d.device)) s.name = info_dev->name;
    if (d.total_duration > 0) {
      s.gpu_utilization = static_cast<double>(d.kernel_ns) / d.total_duration;
      s.gpu_busy = static_cast<double>(d.busy_ns) / d.total_duration;
    }
    for (const DeviceTimeline& t : timelines)
      if (t.device == d.device) s.kernel_count = t.kernel_count;
    if (d.device == a.primary_device) {
      a.gpu_utilization = s.gpu_utilization;
      a.gpu_busy = s.gpu_busy;
    }
    a.devices.push_back(std::move(s));
  }
  if (const DeviceBreakdown* p = a.breakdown.Primary(); p && !p->steps.empty()) {
    const double n = static_cast<double>(p->steps.size());
    for (size_t c = 0; c < kTimeCategoryCount; ++c) {
      auto cat = static_cast<TimeCategory>(c);
      BreakdownShare share{cat, static_cast<double>(p->total[cat]) / kNsPerMs / n,
                           p->total_duration ? static_cast<double>(p->total[cat]) /
                                                   static_cast<double>(p->total_duration)
                                             : 0.0};
      a.shares.push_back(share);
    }
    a.exposed_comm_ms_per_step =
        static_cast<double>(p->total[TimeCategory::kCommunication]) / kNsPerMs / n;
  }
  beside(side, "analysis: occupancy",
         [&] { a.occupancy = AnalyzeOccupancy(trace, a.steps, classes, a.primary_device); });
  for (RooflineResult& r : rooflines)
    if (r.device == a.primary_device) a.roofline = std::move(r);
  if (a.primary_device < 0 && !rooflines.empty()) a.roofline = std::move(rooflines.front());
  a.bound = ClassifyRun(
      a.breakdown, RooflineEvidenceShare(trace, classes, *windows, a.primary_device, memory_bound));
  laps.Lap("breakdown");

  a.resources = ProfileResources(trace, a.steps, *processes, a.primary_device, a.gpu_utilization);
  io.Wait();
  a.input = DiagnoseInput(
      {trace, a.steps, *processes, a.io, a.resources, a.bound, a.breakdown.Primary()});
  laps.Lap("resources and input");

  const DeviceBreakdown* primary = a.breakdown.Primary();
  if (primary && !primary->steps.empty()) {
    a.stalls = FindPeriodicStalls(*primary, a.steps);
    laps.Lap("periodic stalls");
  }
  side.Wait();  // the rules read what the analyses beside found
  if (primary && !primary->steps.empty() && options.recommend)
    Diagnose(trace, timelines, classes, *primary, training_thread, options, a);

  // Per-kernel links served the breakdown and the rules; reports need only the op groups, and a
  // run's analyses stay in memory for every rank.
  std::vector<int32_t>().swap(a.roofline.op_of_kernel);
  if (!a.has_gpu_activity)
    a.notes.push_back(
        a.breakdown.host_timeline
            ? "no GPU activity in this trace (no kernels, memcpy or memset): it was recorded "
              "without CUDA activities, or on a CPU-only rank; the breakdown, bound class and "
              "recommendations are of the training thread's host timeline (input waits, compute "
              "ops, synchronization, other CPU work)"
            : "no GPU activity in this trace (no kernels, memcpy or memset): it was "
              "recorded without CUDA activities, or on a CPU-only rank");
  for (const std::string& w : a.steps.warnings)
    a.notes.push_back(w);
  if (info.processes.size() > 1) a.notes.push_back(DescribeProcesses(info.processes));
  return a;
}

}  // namespace teye
