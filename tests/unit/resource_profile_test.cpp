// The resource profile, the I/O profile and the input cause on small collector-style traces
// whose expected numbers are worked out by hand next to each trace (docs/metrics.md).
#include <algorithm>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"

#include "collector_trace_maker.h"

namespace teye::test {
namespace {

// The training step's end, as the collector's Python shim marks it: the steps then end at 550 ms.
void OptimizerStep(CollectorTraceMaker& m, int64_t pid, int k) {
  m.Range("user_annotation", "Optimizer.step#SGD.step", pid, 50.0 * k + 45, 5);
}

TraceAnalysis Analyze(const CollectorTraceMaker& m) {
  Trace trace = m.Build();
  auto a = AnalyzeTrace(trace, {});
  EXPECT_TRUE(a.ok());
  return std::move(a.value());
}

constexpr int64_t kMain = 100;
constexpr double kMb = 1e6;

// 11 DataLoader iterations 50 ms apart: 30 ms loading inline, then 20 ms of training. CPU samples
// every 10 ms hold `loader_cpu` % while loading and 100 % while training. Three `recv` calls of
// `read_ms` each per iteration, 1000 bytes each.
CollectorTraceMaker InlineLoader(double read_ms, double loader_cpu, int cpus) {
  CollectorTraceMaker m(cpus);
  for (int k = 0; k <= 10; ++k) {
    const double t = 50.0 * k;
    m.Loader(kMain, t, 30);
    OptimizerStep(m, kMain, k);
    for (int j = 0; j < 3; ++j)
      m.Io("recv", kMain, t + 1 + 9 * j, read_ms, 1000);
    for (int s = 1; s <= 5; ++s)
      m.Counter("CPU Utilization (%)", kMain, t + 10 * s, s <= 3 ? loader_cpu : 100);
  }
  return m;
}

TEST(InputCause, InlineLoaderWaitingInReadsIsStorageBound) {
  const TraceAnalysis a = Analyze(InlineLoader(/*read_ms=*/8, /*loader_cpu=*/10, /*cpus=*/4));
  ASSERT_EQ(a.complete_steps, 11);
  const InputDiagnosis& in = a.input;
  ASSERT_TRUE(in.present);
  EXPECT_TRUE(in.relevant);  // no GPU: a 30 ms wait in a 50 ms step
  EXPECT_EQ(in.loader, "inline");
  EXPECT_EQ(in.workers, 0);
  EXPECT_NEAR(in.wait_ms_per_step, 30, 1e-9);
  EXPECT_NEAR(in.read_ms_per_step, 24, 1e-9);  // 3 × 8 ms
  EXPECT_NEAR(in.read_bytes_per_step, 3000, 1e-9);
  EXPECT_NEAR(in.cpu_ms_per_step, 3, 1e-6);  // 30 ms at 10 %
  EXPECT_TRUE(in.cpu_measured);
  EXPECT_EQ(in.cause, InputCause::kStorage);
  // A worker needs the 30 ms of one iteration per batch; training without waiting takes
  // 50 − 30 + 0.5 ms. The processes use 3 + 20 = 23 ms of CPU per step: 5.75 ms on 4 cores.
  EXPECT_EQ(in.fix.workers, 2);
  EXPECT_NEAR(in.fix.predicted_step_ms, 20.5, 1e-6);
  EXPECT_EQ(in.fix.limit, "training");
}

TEST(InputCause, InlineLoaderComputingIsCpuBoundAndCappedByCores) {
  const TraceAnalysis a = Analyze(InlineLoader(/*read_ms=*/0.5, /*loader_cpu=*/100, /*cpus=*/2));
  const InputDiagnosis& in = a.input;
  EXPECT_EQ(in.cause, InputCause::kCpu) << in.reason;
  EXPECT_NEAR(in.read_ms_per_step, 1.5, 1e-9);
  EXPECT_NEAR(in.cpu_ms_per_step, 30, 1e-6);
  // 30 + 20 ms of CPU per step on 2 cores: no step shorter than 25 ms, whatever the workers.
  EXPECT_EQ(in.fix.workers, 2);
  EXPECT_NEAR(in.fix.predicted_step_ms, 25, 1e-6);
  EXPECT_EQ(in.fix.limit, "cores");
  EXPECT_NE(in.fix.method.find("2 cores"), std::string::npos) << in.fix.method;
}

TEST(InputCause, WithoutCpuSamplesTheTimeNotReadingCountsAsComputing) {
  CollectorTraceMaker m(2);
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 30);
    OptimizerStep(m, kMain, k);
    m.Io("read", kMain, 50.0 * k + 1, 2, 4096, "/data/x.jpg");
  }
  const TraceAnalysis a = Analyze(m);
  EXPECT_FALSE(a.input.cpu_measured);
  EXPECT_NEAR(a.input.cpu_ms_per_step, 28, 1e-6);
  EXPECT_EQ(a.input.cause, InputCause::kCpu);
}

TEST(InputCause, AProfilerTraceCannotTellAndSaysWhatRecordingWould) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    m.Range("python_function", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", kMain,
            50.0 * k, 30);
    OptimizerStep(m, kMain, k);
  }
  const TraceAnalysis a = Analyze(m);
  ASSERT_TRUE(a.input.present);
  EXPECT_EQ(a.input.cause, InputCause::kUnknown);
  EXPECT_NE(a.input.reason.find("teye record"), std::string::npos) << a.input.reason;
  EXPECT_EQ(a.input.fix.workers, 0);
}

TEST(InputCause, WorkersThatAreNotInTheRankAreUnknown) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 30, /*workers=*/true);
    OptimizerStep(m, kMain, k);
    m.Io("read", kMain, 50.0 * k + 1, 0.01, 100);
  }
  const TraceAnalysis a = Analyze(m);
  EXPECT_EQ(a.input.loader, "workers");
  EXPECT_EQ(a.input.workers, 0);
  EXPECT_EQ(a.input.cause, InputCause::kUnknown);
  EXPECT_NE(a.input.reason.find("not part of this rank"), std::string::npos);
}

// Two workers each fetch a batch every 100 ms, reading for `worker_read_ms` of it (worker 201 at
// 0, 100, …, 500 ms, its last read cut at the trace's end at 550 ms; worker 202 at 50, …, 450 ms),
// with CPU samples at `worker_cpu` %. The training loop waits 20 ms of every 50 ms step but the
// last, where the batch was ready (1 ms).
CollectorTraceMaker WorkerLoader(double worker_read_ms, double worker_cpu) {
  CollectorTraceMaker m(8);
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, k == 10 ? 1 : 20, /*workers=*/true);
    OptimizerStep(m, kMain, k);
    for (int s = 1; s <= 5; ++s)
      m.Counter("CPU Utilization (%)", kMain, 50.0 * k + 10 * s, 100);
  }
  for (int b = 0; b <= 5; ++b)
    m.Io("recv", 201, 100.0 * b, b == 5 ? std::min(worker_read_ms, 50.0) : worker_read_ms, 2000);
  for (int b = 0; b <= 4; ++b)
    m.Io("recv", 202, 100.0 * b + 50, worker_read_ms, 2000);
  for (int64_t w : {201, 202})
    for (int s = 1; s <= 55; ++s)
      m.Counter("CPU Utilization (%)", w, 10.0 * s, worker_cpu);
  return m;
}

TEST(InputCause, WorkersWaitingInReadsAreStorageBound) {
  const TraceAnalysis a = Analyze(WorkerLoader(80, 10));
  const InputDiagnosis& in = a.input;
  EXPECT_EQ(in.loader, "workers");
  EXPECT_EQ(in.workers, 2);
  EXPECT_EQ(in.cause, InputCause::kStorage) << in.reason;
  // Over 11 steps of 50 ms: 2 × 550 ms of the workers' time, 10 × 80 + 50 ms of reads, 2 × 55 ms
  // of CPU (10 % of 550 ms each).
  EXPECT_NEAR(in.loader_ms_per_step, 100, 1e-6);
  EXPECT_NEAR(in.read_ms_per_step, 850.0 / 11, 1e-6);
  EXPECT_NEAR(in.cpu_ms_per_step, 10, 1e-6);
  EXPECT_NEAR(in.wait_ms_per_step, 201.0 / 11, 1e-6);
  // A worker makes a batch in (850 + 110) / 11 ms; the loop needs 50 − 201/11 + 1 ms (the
  // shortest iteration takes a ready batch): three workers keep up.
  EXPECT_EQ(in.fix.workers, 3);
  EXPECT_NEAR(in.fix.predicted_step_ms, 51 - 201.0 / 11, 1e-6);
  EXPECT_EQ(a.io.max_concurrent_reads, 2);
}

// Two workers read 4 MB chunks of a file for 44 ms of every 50 ms step, mostly side by side: alone
// a read takes 4 ms, two at once take 8 ms each — the store gives 1000 MB/s however many read.
TEST(InputCause, AStoreAtItsBandwidthLimitsTheFix) {
  CollectorTraceMaker m(8);
  for (int k = 0; k <= 10; ++k) {
    const double t = 50.0 * k;
    m.Loader(kMain, t, k == 10 ? 1 : 20, /*workers=*/true);
    OptimizerStep(m, kMain, k);
    m.Io("read", 201, t, 4, 4'000'000, "/data/shard.bin");
    for (int j = 0; j < 5; ++j)
      for (int64_t w : {201, 202})
        m.Io("read", w, t + 4 + 8 * j, 8, 4'000'000, "/data/shard.bin");
    m.Io("read", 202, t + 44, 4, 4'000'000, "/data/shard.bin");
  }
  for (int64_t w : {201, 202})
    for (int s = 1; s <= 55; ++s)
      m.Counter("CPU Utilization (%)", w, 10.0 * s, 5);
  const TraceAnalysis a = Analyze(m);
  EXPECT_TRUE(a.io.store_saturated);
  EXPECT_NEAR(a.io.single_read_mb_per_s, 1000, 1e-6);
  EXPECT_NEAR(a.io.concurrent_read_mb_per_s, 1000, 1e-6);
  const InputDiagnosis& in = a.input;
  EXPECT_EQ(in.cause, InputCause::kStorage) << in.reason;
  // 12 reads of 4 MB per step at 1000 MB/s: no step below 48 ms, whatever the workers (the
  // training loop alone would need 50 − 201/11 + 1 ms).
  EXPECT_NEAR(in.read_bytes_per_step, 48e6, 1e-3);
  EXPECT_EQ(in.fix.workers, 2);
  EXPECT_NEAR(in.fix.predicted_step_ms, 48, 1e-6);
  EXPECT_EQ(in.fix.limit, "store");
}

TEST(InputCause, BusyComputingWorkersAreCpuBound) {
  const TraceAnalysis a = Analyze(WorkerLoader(1, 95));
  EXPECT_EQ(a.input.cause, InputCause::kCpu) << a.input.reason;
  EXPECT_NEAR(a.input.cpu_ms_per_step, 95, 1e-6);
}

TEST(InputCause, IdleWorkersWithSteadyWaitsAreTransfer) {
  const TraceAnalysis a = Analyze(WorkerLoader(1, 5));
  EXPECT_EQ(a.input.cause, InputCause::kTransfer) << a.input.reason;
}

TEST(Resources, ProcessAndRankNumbersComeFromTheSamples) {
  CollectorTraceMaker m(4);
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 5);
    OptimizerStep(m, kMain, k);
  }
  const double cpu[] = {50, 100, 150, 80, 20};
  for (int s = 1; s <= 55; ++s) {
    m.Counter("CPU Utilization (%)", kMain, 10.0 * s, cpu[s % 5]);
    m.Counter("Host Memory RSS (bytes)", kMain, 10.0 * s, s == 30 ? 900 * kMb : 500 * kMb);
    m.Counter("Run Queue Wait (%)", kMain, 10.0 * s, 25);
  }
  const TraceAnalysis a = Analyze(m);
  const ResourceProfile& r = a.resources;
  ASSERT_TRUE(r.has_host);
  ASSERT_EQ(r.processes.size(), 1u);
  // The span is the steps: 0 to 550 ms; the 55 samples at 10..550 ms are all in it, 11 of each
  // value: the mean is (50 + 100 + 150 + 80 + 20) / 5.
  EXPECT_EQ(r.cpu_pct.samples, 55);
  EXPECT_NEAR(r.cpu_pct.mean, 80, 1e-9);
  EXPECT_NEAR(r.cpu_pct.max, 150, 1e-9);
  EXPECT_NEAR(r.cpu_cores, 0.8, 1e-9);
  EXPECT_NEAR(r.cpu_machine_share, 0.2, 1e-9);
  EXPECT_EQ(r.rss_max_bytes, 900 * kMb);
  EXPECT_EQ(r.processes[0].rss_max_bytes, 900 * kMb);
  EXPECT_NEAR(r.processes[0].run_queue_pct.mean, 25, 1e-9);
  EXPECT_FALSE(r.processes[0].rss_leak);
  EXPECT_TRUE(r.warnings.empty());
  // Step 0 is [0, 50): the samples at 10..50 ms cover it exactly, values 100 150 80 20 50.
  ASSERT_FALSE(r.per_step.empty());
  ASSERT_TRUE(r.per_step[0].cpu_pct.has_value());
  EXPECT_NEAR(*r.per_step[0].cpu_pct, 80, 1e-9);
  EXPECT_FALSE(r.per_step[0].gpu_utilization_pct.has_value());
}

TEST(Resources, WorkersAddUpAtTheTrainingProcessSampleTimes) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 5, /*workers=*/true);
    OptimizerStep(m, kMain, k);
  }
  for (int s = 1; s <= 55; ++s) {
    m.Counter("CPU Utilization (%)", kMain, 10.0 * s, 100);
    m.Counter("Host Memory RSS (bytes)", kMain, 10.0 * s, 400 * kMb);
    // The worker samples half-way between, and only during the first half of the run: its
    // sample at 10 s − 5 ms holds over (10 s − 15, 10 s − 5] ms.
    if (s <= 27) {
      m.Counter("CPU Utilization (%)", 300, 10.0 * s - 5, 60);
      m.Counter("Host Memory RSS (bytes)", 300, 10.0 * s - 5, 100 * kMb);
    }
  }
  const TraceAnalysis a = Analyze(m);
  const ResourceProfile& r = a.resources;
  ASSERT_EQ(r.processes.size(), 2u);
  EXPECT_FALSE(r.processes[0].worker);
  EXPECT_TRUE(r.processes[1].worker);
  EXPECT_NEAR(r.processes[1].cpu_pct.mean, 60, 1e-9);
  // At the training process's samples 10, 20, …, 550 ms the worker's sample holding is the one
  // 5 ms later, up to its last at 265 ms: 26 of the 55 sums are 160 %, the rest 100 %.
  EXPECT_NEAR(r.cpu_pct.mean, (26 * 160.0 + 29 * 100.0) / 55, 1e-9);
  EXPECT_NEAR(r.cpu_pct.max, 160, 1e-9);
  EXPECT_EQ(r.rss_max_bytes, 500 * kMb);
}

TEST(Resources, SteadyGrowthOfHostMemoryIsALeak) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 5);
    OptimizerStep(m, kMain, k);
  }
  for (int s = 1; s <= 55; ++s)
    m.Counter("Host Memory RSS (bytes)", kMain, 10.0 * s, 300 * kMb + s * 4 * kMb);
  const TraceAnalysis a = Analyze(m);
  ASSERT_EQ(a.resources.processes.size(), 1u);
  const ProcessResources& p = a.resources.processes[0];
  EXPECT_TRUE(p.rss_leak);
  EXPECT_NEAR(p.rss_slope_bytes_per_s, 400 * kMb, 1);  // 4 MB every 10 ms
  EXPECT_NEAR(p.rss_correlation, 1, 1e-9);
  ASSERT_EQ(a.resources.warnings.size(), 1u);
  EXPECT_NE(a.resources.warnings[0].find("grows steadily"), std::string::npos);
}

TEST(Resources, GpuMemoryNearItsLimitWarns) {
  CollectorTraceMaker m;
  m.Device(80'000'000'000);
  for (int k = 0; k <= 10; ++k) {
    m.Loader(kMain, 50.0 * k, 5);
    OptimizerStep(m, kMain, k);
  }
  for (int s = 1; s <= 55; ++s) {
    m.Counter("GPU Utilization (%)", 0, 10.0 * s, s % 2 ? 90 : 30);
    m.Counter("GPU Memory Used (bytes)", 0, 10.0 * s, s == 40 ? 76e9 : 60e9);
  }
  const TraceAnalysis a = Analyze(m);
  const ResourceProfile& r = a.resources;
  ASSERT_TRUE(r.has_gpu);
  ASSERT_EQ(r.gpus.size(), 1u);
  const GpuResources& g = r.gpus[0];
  EXPECT_EQ(g.utilization_source, "nvml");
  EXPECT_NEAR(g.utilization_pct.mean, (28 * 90.0 + 27 * 30.0) / 55, 1e-9);
  EXPECT_EQ(g.memory_source, "nvml");
  EXPECT_EQ(g.memory_max_bytes, 76e9);
  EXPECT_NEAR(g.memory_max_fraction, 0.95, 1e-12);
  EXPECT_TRUE(g.memory_near_limit);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("GPU 0 memory peaks at 76.0 of 80.0 GB"), std::string::npos)
      << r.warnings[0];
}

TEST(Io, PerProcessCallsLatencyPathsAndWaitShare) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    const double t = 50.0 * k;
    m.Loader(kMain, t, 20);
    OptimizerStep(m, kMain, k);
    m.Io("open", kMain, t + 1, 1, 0, "/data/a.jpg");
    m.Io("read", kMain, t + 2, 4, 8000, "/data/a.jpg");
    m.Io("pread", kMain, t + 6, 0.1 * (k + 1), 2000, "/data/b.jpg");
    m.Io("write", kMain, t + 30, 5, 100);  // not a read
  }
  const TraceAnalysis a = Analyze(m);
  ASSERT_TRUE(a.io.present);
  ASSERT_EQ(a.io.processes.size(), 1u);
  const ProcessIo& p = a.io.processes[0];
  EXPECT_EQ(a.io.batches, 11);
  EXPECT_EQ(p.read_calls, 22);
  EXPECT_EQ(p.read_bytes, 11 * 10000);
  EXPECT_EQ(p.open_calls, 11);
  EXPECT_NEAR(p.opens_per_batch, 1, 1e-12);
  EXPECT_NEAR(p.read_calls_per_step, 2, 1e-12);
  EXPECT_NEAR(p.read_bytes_per_step, 10000, 1e-9);
  // Read time: 11 × 4 ms + 0.1 × (1 + … + 11) = 44 + 6.6 ms.
  EXPECT_NEAR(p.read_ms_per_step, 50.6 / 11, 1e-9);
  // Latencies: 11 × 4000 µs and 100, 200, …, 1100 µs: the median of 22 is between the 11th
  // (1100) and 12th (4000) values.
  EXPECT_NEAR(p.read_latency_us_p50, 2550, 1e-6);
  EXPECT_NEAR(p.read_latency_us_max, 4000, 1e-6);
  // Reads and opens take 1 + 4 + 0.1 (k + 1) ms of each 20 ms iteration.
  EXPECT_NEAR(p.read_wait_share, (11 * 5 + 6.6) / (11 * 20), 1e-9);
  ASSERT_EQ(p.top_paths.size(), 2u);
  EXPECT_EQ(p.top_paths[0].path, "/data/a.jpg");
  EXPECT_EQ(p.top_paths[0].calls, 22);
  EXPECT_EQ(p.top_paths[0].bytes, 11 * 8000);
}

// Two workers read a file at once. Each read moves 4 MB; alone it takes 4 ms (1000 MB/s).
CollectorTraceMaker ParallelReads(double parallel_read_ms) {
  CollectorTraceMaker m;
  for (int k = 0; k <= 10; ++k) {
    const double t = 50.0 * k;
    m.Loader(kMain, t, 20, /*workers=*/true);
    OptimizerStep(m, kMain, k);
    m.Io("read", 201, t + 1, 4, 4'000'000, "/data/shard.bin");  // alone
    m.Io("read", 201, t + 10, parallel_read_ms, 4'000'000, "/data/shard.bin");
    m.Io("read", 202, t + 10, parallel_read_ms, 4'000'000, "/data/shard.bin");
    m.Io("read", 202, t + 30, 1, 10);  // a pipe between processes: not the store
  }
  return m;
}

TEST(Io, AStoreThatGivesNoMoreToParallelReadsIsSaturated) {
  // Two reads in 8 ms: 1000 MB/s together, no more than one alone.
  const TraceAnalysis a = Analyze(ParallelReads(8));
  EXPECT_EQ(a.io.max_concurrent_reads, 2);
  EXPECT_NEAR(a.io.single_read_mb_per_s, 1000, 1e-6);
  EXPECT_NEAR(a.io.concurrent_read_mb_per_s, 1000, 1e-6);
  EXPECT_TRUE(a.io.store_saturated);
}

TEST(Io, AStoreThatScalesWithParallelReadsIsNotSaturated) {
  const TraceAnalysis a = Analyze(ParallelReads(4));
  EXPECT_NEAR(a.io.concurrent_read_mb_per_s, 2000, 1e-6);
  EXPECT_FALSE(a.io.store_saturated);
}

}  // namespace
}  // namespace teye::test

namespace teye::test {
namespace {

// A GPU job whose training thread loads each batch inline for 30 ms of every 50 ms step, busy on
// the CPU (100 % samples, reads of 0.5 ms), then launches an 18 ms kernel. Two CPUs.
TEST(InputCauseRule, TheLoaderRecommendationFollowsTheCauseAndIsCappedByTheCores) {
  CollectorTraceMaker m(/*cpus=*/2);
  m.Device(80'000'000'000);
  for (int k = 0; k <= 10; ++k) {
    const double t = 50.0 * k;
    m.Range("user_annotation", fmt::format("ProfilerStep#{}", k), kMain, t, 50);
    m.Loader(kMain, t, 30);
    for (int j = 0; j < 3; ++j)
      m.Io("read", kMain, t + 1 + 9 * j, 0.5, 4096, "/data/img.jpg");
    m.Raw(fmt::format(R"({{"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","pid":{},)"
                      R"("tid":{},"ts":{},"dur":10,"args":{{"correlation":{}}}}})",
                      kMain, kMain, (t + 31) * 1000, k + 1));
    m.Raw(fmt::format(R"({{"ph":"X","cat":"kernel","name":"ampere_sgemm_128x64_tn","pid":0,)"
                      R"("tid":7,"ts":{},"dur":18000,"args":{{"device":0,"stream":7,)"
                      R"("correlation":{}}}}})",
                      (t + 31.5) * 1000, k + 1));
    for (int s = 1; s <= 5; ++s)
      m.Counter("CPU Utilization (%)", kMain, t + 10 * s, 100);
  }
  const TraceAnalysis a = Analyze(m);
  ASSERT_TRUE(a.bound.valid);
  EXPECT_EQ(a.bound.run.cls, BoundClass::kInput);
  EXPECT_EQ(a.input.cause, InputCause::kCpu) << a.input.reason;
  // 50 ms of CPU per step on 2 cores: no step below 25 ms, reached with 2 workers.
  EXPECT_EQ(a.input.fix.workers, 2);
  EXPECT_NEAR(a.input.fix.predicted_step_ms, 25, 1e-6);
  const Recommendation* workers = nullptr;
  for (const Recommendation& r : a.recommendations)
    if (r.id == "dataloader_workers") workers = &r;
  ASSERT_NE(workers, nullptr);
  // The replay cuts each 30 ms wait to 1 ms (about 29 ms saved); the cores allow 50 − 25 ms.
  EXPECT_NEAR(workers->saving_ms, 25, 1e-6);
  EXPECT_NE(workers->method.find("capped at 25.0 ms"), std::string::npos) << workers->method;
  EXPECT_NE(workers->action.find("num_workers=2"), std::string::npos) << workers->action;
  EXPECT_NE(workers->action.find("CPU-bound"), std::string::npos) << workers->action;
  bool cause_in_evidence = false;
  for (const std::string& e : workers->evidence)
    cause_in_evidence |= e.starts_with("input cause cpu:");
  EXPECT_TRUE(cause_in_evidence);
}

}  // namespace
}  // namespace teye::test
