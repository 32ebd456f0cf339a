// The diagnosis's parts on inputs built by hand, each expected value worked out here from the
// definitions in docs/metrics.md: the bound class (margin, runner-up), recurring stalls, memory
// headroom, copies and collectives, kernel statistics.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "teye/analyzers/bound_class.h"
#include "teye/analyzers/kernel_stats.h"
#include "teye/analyzers/memory_headroom.h"
#include "teye/analyzers/periodic_stalls.h"
#include "teye/analyzers/steps.h"
#include "teye/analyzers/transfer_stats.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

BoundShares Shares(double input, double compute, double memory, double comm, double host,
                   double unassigned = 0) {
  BoundShares s;
  s[BoundClass::kInput] = input;
  s[BoundClass::kCompute] = compute;
  s[BoundClass::kMemory] = memory;
  s[BoundClass::kCommunication] = comm;
  s[BoundClass::kHost] = host;
  s.unassigned = unassigned;
  return s;
}

TEST(BoundClass, StarvedByInputWithTheThresholdNearerThanTheNextCause) {
  // Useful GPU 0.65: starved; input 0.30 beats host 0.05 by 0.25, but the 80% line is only 0.15
  // away: the runner-up is the fed verdict, compute.
  const BoundVerdict v = Classify(Shares(0.30, 0.60, 0.05, 0, 0.05));
  EXPECT_EQ(v.cls, BoundClass::kInput);
  EXPECT_NEAR(v.useful_gpu, 0.65, 1e-12);
  EXPECT_NEAR(v.margin, 0.15, 1e-12);
  EXPECT_EQ(v.runner_up, BoundClass::kCompute);
}

TEST(BoundClass, StarvedWithTheNextCauseNearer) {
  // Useful 0.5 (0.3 from the line); input 0.3 vs host 0.2: 0.1 apart, so host is the runner-up.
  const BoundVerdict v = Classify(Shares(0.30, 0.40, 0.10, 0, 0.20));
  EXPECT_EQ(v.cls, BoundClass::kInput);
  EXPECT_NEAR(v.margin, 0.10, 1e-12);
  EXPECT_EQ(v.runner_up, BoundClass::kHost);
}

TEST(BoundClass, FedComputeAndFedMemory) {
  // Useful 0.85 ≥ 0.8: compute 0.5 > memory 0.35. 0.05 from the line, 0.15 from memory.
  BoundVerdict v = Classify(Shares(0.10, 0.50, 0.35, 0, 0.05));
  EXPECT_EQ(v.cls, BoundClass::kCompute);
  EXPECT_NEAR(v.margin, 0.05, 1e-12);
  EXPECT_EQ(v.runner_up, BoundClass::kInput);  // the largest starvation cause
  // Memory-bound kernels most of the useful time.
  v = Classify(Shares(0.02, 0.30, 0.60, 0.05, 0.03));
  EXPECT_EQ(v.cls, BoundClass::kMemory);
  EXPECT_NEAR(v.margin, 0.10, 1e-12);  // useful 0.90: 0.10 from the line, 0.30 from compute
  EXPECT_EQ(v.runner_up, BoundClass::kCommunication);
}

TEST(BoundClass, UnknownTimeOutweighingTheClassLeavesNoMargin) {
  const BoundVerdict v = Classify(Shares(0.10, 0.25, 0, 0, 0.05, 0.60));
  EXPECT_EQ(v.cls, BoundClass::kInput);
  EXPECT_EQ(v.margin, 0);
  EXPECT_NE(v.reason.find("may be wrong"), std::string::npos) << v.reason;
}

TEST(BoundClass, HostTimelineUsesTheSameRuleOnComputeOps) {
  BoundVerdict v = Classify(Shares(0.55, 0.40, 0, 0, 0.05), /*host_timeline=*/true);
  EXPECT_EQ(v.cls, BoundClass::kInput);
  EXPECT_NE(v.reason.find("no GPU activity"), std::string::npos) << v.reason;
  EXPECT_NEAR(v.margin, 0.40, 1e-12);  // 0.4 from the line; input − host = 0.5
  v = Classify(Shares(0.05, 0.90, 0, 0, 0.05), true);
  EXPECT_EQ(v.cls, BoundClass::kCompute);
}

TEST(BoundClass, SharesFromCategoryTimes) {
  CategoryTimes t;
  t[TimeCategory::kCompute] = 400;
  t[TimeCategory::kMemoryBound] = 100;
  t[TimeCategory::kMemcpy] = 150;  // 100 of it an exposed host-to-device copy
  t[TimeCategory::kMemset] = 50;
  t[TimeCategory::kInput] = 100;
  t[TimeCategory::kSync] = 60;
  t[TimeCategory::kLaunch] = 30;
  t[TimeCategory::kOtherCpu] = 10;
  t[TimeCategory::kUnknown] = 100;
  const BoundShares s = SharesOf(t, /*exposed_h2d=*/100, /*duration=*/1000);
  EXPECT_NEAR(s[BoundClass::kInput], 0.20, 1e-12);  // 100 idle + 100 copy
  EXPECT_NEAR(s[BoundClass::kCompute], 0.40, 1e-12);
  EXPECT_NEAR(s[BoundClass::kMemory], 0.10, 1e-12);
  EXPECT_NEAR(s[BoundClass::kHost], 0.10, 1e-12);  // 60 + 30 + 10
  EXPECT_NEAR(s.unassigned, 0.20, 1e-12);          // 50 other copy + 50 memset + 100 unknown
}

TEST(BoundClass, PerStepCountsFromTheBreakdown) {
  BreakdownResult b;
  DeviceBreakdown d;
  d.device = 0;
  for (int i = 0; i < 3; ++i) {
    StepBreakdown sb;
    sb.step = i;
    sb.duration = 1000;
    sb.times[TimeCategory::kCompute] = i < 2 ? 900 : 200;
    sb.times[TimeCategory::kInput] = i < 2 ? 100 : 800;
    d.total.Add(sb.times);
    d.total_duration += sb.duration;
    d.steps.push_back(sb);
  }
  b.devices.push_back(d);
  b.primary_device = 0;
  const BoundResult r = ClassifyRun(b);
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.step_counts[static_cast<size_t>(BoundClass::kCompute)], 2);
  EXPECT_EQ(r.step_counts[static_cast<size_t>(BoundClass::kInput)], 1);
  // Over all steps: compute 2000/3000 < 0.8, input 1000/3000: input-bound.
  EXPECT_EQ(r.run.cls, BoundClass::kInput);
}

// Steps of 100 ms (`n` complete ones) for the stall finder.
StepsResult HundredMsSteps(int n) {
  StepsResult s;
  for (int i = 0; i < n; ++i) {
    Step step;
    step.index = i;
    step.window_start = i * 100 * kNsPerMs;
    step.window_end = (i + 1) * 100 * kNsPerMs;
    s.steps.push_back(step);
  }
  s.duration_ms = Summarize(std::vector<double>(static_cast<size_t>(n), 100.0));
  return s;
}

IdleGap Gap(int step, double start_ms, double ms, TimeCategory reason, std::string evidence) {
  IdleGap g;
  g.step = step;
  g.start = static_cast<TimeNs>(start_ms * kNsPerMs);
  g.end = g.start + static_cast<TimeNs>(ms * kNsPerMs);
  g.reason = reason;
  g.evidence = std::move(evidence);
  return g;
}

TEST(PeriodicStalls, EveryThirdStepAndNotEveryStep) {
  DeviceBreakdown d;
  // A 20 ms DataLoader refill in steps 2, 5, 8; a 6 ms sync in every step (the breakdown's
  // business, not a recurring stall); a 0.5 ms gap (under 1 ms) in steps 1, 4, 7.
  for (int s : {2, 5, 8})
    d.long_gaps.push_back(Gap(s, s * 100.0 + 10, 20, TimeCategory::kInput,
                              "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__"));
  for (int s = 0; s < 9; ++s)
    d.long_gaps.push_back(Gap(s, s * 100.0 + 50, 6, TimeCategory::kSync, "cudaStreamSynchronize"));
  for (int s : {1, 4, 7})
    d.long_gaps.push_back(Gap(s, s * 100.0 + 70, 0.5, TimeCategory::kOtherCpu, "x"));
  std::sort(d.long_gaps.begin(), d.long_gaps.end(),
            [](const IdleGap& a, const IdleGap& b) { return a.start < b.start; });
  const std::vector<StallPattern> p = FindPeriodicStalls(d, HundredMsSteps(9));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].reason, TimeCategory::kInput);
  EXPECT_EQ(p[0].activity, "DataLoader refill");
  EXPECT_EQ(p[0].every_steps, 3);
  EXPECT_EQ(p[0].occurrences, 3);
  EXPECT_NEAR(p[0].mean_ms, 20, 1e-9);
  EXPECT_NEAR(p[0].period_ms, 300, 1e-9);
  EXPECT_NEAR(p[0].ms_per_step, 60.0 / 9, 1e-9);
  EXPECT_EQ(p[0].steps, (std::vector<int>{2, 5, 8}));
}

TEST(PeriodicStalls, ActivitiesByName) {
  EXPECT_EQ(DescribeActivity(TimeCategory::kOtherCpu, "torch.save(state_dict)"), "checkpointing");
  EXPECT_EQ(DescribeActivity(TimeCategory::kOtherCpu, "gc.collect"), "garbage collection");
  EXPECT_EQ(DescribeActivity(TimeCategory::kOtherCpu, "wandb.log"), "logging");
  EXPECT_EQ(DescribeActivity(TimeCategory::kSync, "cudaDeviceSynchronize"), "synchronization");
}

TEST(PeriodicStalls, TooFewStepsOrUnevenLengthsAreNotAPattern) {
  DeviceBreakdown d;
  for (int s : {0, 2})
    d.long_gaps.push_back(Gap(s, s * 100.0, 20, TimeCategory::kInput, "load_batch"));
  EXPECT_TRUE(FindPeriodicStalls(d, HundredMsSteps(2)).empty());
  d.long_gaps.clear();
  const double lengths[] = {2, 40, 3, 60};  // every 2 steps, but nothing like one stall
  for (int i = 0; i < 4; ++i)
    d.long_gaps.push_back(Gap(2 * i, 200.0 * i, lengths[i], TimeCategory::kInput, "load_batch"));
  EXPECT_TRUE(FindPeriodicStalls(d, HundredMsSteps(8)).empty());
}

TEST(MemoryHeadroom, PeakOfTheAllocatorAgainstTheDevice) {
  TraceMaker m;  // its device 0 has 85 899 345 920 bytes
  const double allocated[] = {10e9, 42.9496729e9, 30e9};
  const double reserved[] = {12e9, 60e9, 64.424509440e9};
  for (int i = 0; i < 3; ++i)
    m.Raw(fmt::format(R"({{"ph":"i","cat":"cpu_instant_event","s":"t","name":"[memory]","pid":1,)"
                      R"("tid":1,"ts":{},"args":{{"Device Type":1,"Device Id":0,"Addr":1,)"
                      R"("Bytes":1,"Total Allocated":{:.0f},"Total Reserved":{:.0f}}}}})",
                      10 * i, allocated[i], reserved[i]));
  // Host memory (Device Type 0) is not a device's.
  m.Raw(R"({"ph":"i","cat":"cpu_instant_event","s":"t","name":"[memory]","pid":1,"tid":1,)"
        R"("ts":5,"args":{"Device Type":0,"Device Id":-1,"Addr":1,"Bytes":1,)"
        R"("Total Allocated":99000000000,"Total Reserved":99000000000}})");
  const std::vector<MemoryHeadroom> h = MeasureMemoryHeadroom(m.Build());
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].device, 0);
  EXPECT_EQ(h[0].peak_allocated, 42949672900);
  EXPECT_EQ(h[0].peak_reserved, 64424509440);
  EXPECT_EQ(h[0].total, 85899345920);
  EXPECT_NEAR(h[0].peak_fraction, 0.5, 1e-9);
  EXPECT_NEAR(h[0].reserved_fraction, 0.75, 1e-9);
}

// One 10 ms step with two copies, a memset and three collectives, and a copy after the step.
Trace CopiesAndCollectives() {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 10000)
      .Memcpy("Memcpy HtoD (Pageable -> Device)", 100, 500, 10'000'000, 90)
      .Memcpy("Memcpy HtoD (Pageable -> Device)", 1000, 1500, 20'000'000, 990)
      .Memcpy("Memcpy DtoH (Device -> Pinned)", 3000, 100, 4'000'000, 2990)
      .Raw(R"j({"ph":"X","cat":"gpu_memset","name":"Memset (Device)","pid":0,"tid":7,)j"
           R"j("ts":4000,"dur":10,"args":{"device":0,"stream":7,"bytes":1024}})j")
      .Kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 5000,
              300, 4990, 21, 1,
              R"("Collective name":"allreduce","In msg nelems":1000000,"dtype":"Float")")
      .Kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)", 6000,
              100, 5990, 21, 1,
              R"("Collective name":"allreduce","In msg nelems":250000,"dtype":"Float")")
      .Kernel("ncclKernel_AllGather_RING_LL_Sum_int8_t(ncclWorkElem)", 7000, 50, 6990, 21)
      .Memcpy("Memcpy HtoD (Pageable -> Device)", 20000, 500, 99'000'000, 19990);
  return m.Build();
}

TEST(TransferStats, CopiesByDirectionAndMemoryInsideTheSteps) {
  const Trace t = CopiesAndCollectives();
  auto steps = DetectSteps(t, {});
  ASSERT_TRUE(steps.ok());
  // The step is 0–10 ms (its GPU work ends inside it); the last copy starts after it.
  const MemcpySummary m = SummarizeMemcpy(t, StepWindows(steps.value()));
  ASSERT_EQ(m.copies.size(), 2u);
  EXPECT_EQ(m.copies[0].kind, CopyKind::kHtoD);
  EXPECT_EQ(m.copies[0].host_memory, MemoryKind::kPageable);
  EXPECT_EQ(m.copies[0].count, 2);
  EXPECT_EQ(m.copies[0].bytes, 30'000'000);
  EXPECT_EQ(m.copies[0].total_ns, 2000 * kNsPerUs);
  EXPECT_NEAR(m.copies[0].gb_per_s(), 15.0, 1e-9);  // 30 MB in 2 ms
  EXPECT_EQ(m.copies[1].kind, CopyKind::kDtoH);
  EXPECT_EQ(m.copies[1].host_memory, MemoryKind::kPinned);
  EXPECT_NEAR(m.copies[1].gb_per_s(), 40.0, 1e-9);  // 4 MB in 100 µs
  EXPECT_EQ(m.memset_count, 1);
  EXPECT_EQ(m.memset_bytes, 1024);
  EXPECT_EQ(m.memset_ns, 10 * kNsPerUs);
}

TEST(TransferStats, CollectivesByOperation) {
  const Trace t = CopiesAndCollectives();
  auto steps = DetectSteps(t, {});
  ASSERT_TRUE(steps.ok());
  KernelClassifier classifier;
  const CommSummary c =
      SummarizeCommunication(t, classifier.ClassifyTrace(t), StepWindows(steps.value()));
  EXPECT_EQ(c.kernel_count, 3);
  EXPECT_EQ(c.kernel_ns, 450 * kNsPerUs);
  ASSERT_EQ(c.collectives.size(), 2u);
  EXPECT_EQ(c.collectives[0].op, "allreduce");  // from the args
  EXPECT_EQ(c.collectives[0].count, 2);
  EXPECT_EQ(c.collectives[0].total_ns, 400 * kNsPerUs);
  EXPECT_EQ(c.collectives[0].bytes, 5'000'000);  // 1.25 M floats of 4 bytes
  EXPECT_EQ(c.collectives[1].op, "AllGather");   // from the kernel name
  EXPECT_EQ(c.collectives[1].bytes, 0);
  EXPECT_EQ(CollectiveFromKernelName("ncclDevKernel_ReduceScatter_Sum_bf16_RING_LL(x)"),
            "ReduceScatter");
  EXPECT_EQ(CollectiveFromKernelName("void my_kernel<int>(int*)"), "my_kernel<int>");
}

TEST(KernelStats, TopKernelsClassesAndShares) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 10000);
  const double gemm[] = {1000, 3000};
  for (int i = 0; i < 2; ++i)
    m.Kernel("ampere_sgemm_128x64_nn", 100 + 4000 * i, gemm[i], 90 + 4000 * i);
  for (int i = 0; i < 4; ++i)
    m.Kernel(
        "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
        "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, "
        "at::detail::Array<char*, 3>)",
        8000 + 300 * i, 250, 7990 + 300 * i);
  m.Kernel("my_custom_kernel", 9500, 500, 9490);
  const Trace t = m.Build();
  auto steps = DetectSteps(t, {});
  ASSERT_TRUE(steps.ok());
  KernelClassifier classifier;
  const KernelSummary k =
      SummarizeKernels(t, classifier.ClassifyTrace(t), StepWindows(steps.value()), 2);
  EXPECT_EQ(k.count, 7);
  EXPECT_EQ(k.total_ns, 5500 * kNsPerUs);  // 4000 + 1000 + 500
  ASSERT_EQ(k.top.size(), 2u);             // top_n = 2
  EXPECT_EQ(k.top[0].name, "ampere_sgemm_128x64_nn");
  EXPECT_EQ(k.top[0].count, 2);
  EXPECT_EQ(k.top[0].min_ns, 1000 * kNsPerUs);
  EXPECT_EQ(k.top[0].max_ns, 3000 * kNsPerUs);
  EXPECT_NEAR(k.top[0].mean_ns(), 2000.0 * kNsPerUs, 1e-9);
  EXPECT_EQ(k.top[1].count, 4);
  ASSERT_EQ(k.classes.size(), 3u);
  EXPECT_EQ(k.classes[0].cls, KernelClass::kGemmSimt);
  EXPECT_NEAR(k.classes[0].share, 4000.0 / 5500, 1e-12);
  EXPECT_EQ(k.classes[1].cls, KernelClass::kElementwise);
  EXPECT_NEAR(k.classes[1].share, 1000.0 / 5500, 1e-12);
  ASSERT_EQ(k.top_other.size(), 1u);
  EXPECT_EQ(k.top_other[0].name, "my_custom_kernel");
}

}  // namespace
}  // namespace teye
