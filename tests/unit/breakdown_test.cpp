#include "teye/analyzers/breakdown.h"

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

TraceAnalysis Analyze(const TraceMaker& m) {
  Trace t = m.Build();
  auto a = AnalyzeTrace(t, {});
  if (!a.ok()) throw std::runtime_error(a.error().ToString());
  return std::move(a.value());
}

double Ms(const TraceAnalysis& a, TimeCategory c) {
  for (const auto& s : a.shares)
    if (s.category == c) return s.ms_per_step;
  return -1;
}

constexpr const char* kGemm = "ampere_sgemm_128x64_nn";
constexpr const char* kAdd =
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>>";
constexpr const char* kNccl = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage)";

TEST(Breakdown, ExclusivePrioritySumsToStepTime) {
  // One 1000 µs step: compute 0-300, memory-bound 200-500 (overlaps compute by 100),
  // NCCL 450-700 (overlaps memory by 50), memcpy 650-800, rest idle.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Kernel(kGemm, 0, 300, -1)
      .Kernel(kAdd, 200, 300, -1, 8)
      .Kernel(kNccl, 450, 250, -1, 21)
      .Memcpy("Memcpy DtoD (Device -> Device)", 650, 150, 1 << 20);
  TraceAnalysis a = Analyze(m);
  EXPECT_NEAR(Ms(a, TimeCategory::kCompute), 0.300, 1e-9);
  EXPECT_NEAR(Ms(a, TimeCategory::kMemoryBound), 0.200, 1e-9);
  EXPECT_NEAR(Ms(a, TimeCategory::kCommunication), 0.200, 1e-9);  // exposed part only
  EXPECT_NEAR(Ms(a, TimeCategory::kMemcpy), 0.100, 1e-9);
  double total = 0;
  for (const auto& s : a.shares)
    total += s.ms_per_step;
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_NEAR(a.gpu_utilization, 0.7, 1e-9);  // kernels cover 0-700
  EXPECT_NEAR(a.gpu_busy, 0.8, 1e-9);
  EXPECT_NEAR(a.exposed_comm_ms_per_step, 0.2, 1e-9);
}

TEST(Breakdown, IdleWhileWaitingForTheDataLoaderIsInput) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Host("user_annotation", "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__", 0,
            600)
      .Kernel(kGemm, 610, 390, 605);
  TraceAnalysis a = Analyze(m);
  EXPECT_NEAR(Ms(a, TimeCategory::kInput), 0.600, 1e-9);
  EXPECT_NEAR(Ms(a, TimeCategory::kCompute), 0.390, 1e-9);
  const auto* p = a.breakdown.Primary();
  ASSERT_NE(p, nullptr);
  const auto& who = p->contributors[static_cast<size_t>(TimeCategory::kInput)];
  ASSERT_FALSE(who.empty());
  EXPECT_EQ(who[0].name, "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__");
  ASSERT_FALSE(p->largest_gaps.empty());
  EXPECT_EQ(p->largest_gaps[0].reason, TimeCategory::kInput);
}

TEST(Breakdown, SyncDrainsTheQueueAndOwnsTheRefillGap) {
  // The host blocks in cudaStreamSynchronize until the GPU drains at 300, returns at 310,
  // then runs Python (other CPU) until it launches again at 700: all of 300-710 is sync.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Kernel(kGemm, 0, 300, 0)
      .Host("cuda_runtime", "cudaStreamSynchronize", 100, 210)
      .Host("python_function", "train.py(42): log_metrics", 320, 370)
      .Kernel(kGemm, 710, 290, 700);
  TraceAnalysis a = Analyze(m);
  EXPECT_NEAR(Ms(a, TimeCategory::kSync), 0.410, 1e-9);
  EXPECT_NEAR(Ms(a, TimeCategory::kOtherCpu), 0.0, 1e-9);
}

TEST(Breakdown, LaunchBoundAndOtherCpuAndUnknown) {
  // Idle 100-200 while the host is inside aten ops issuing work (launch), 300-400 in plain
  // Python (other CPU), 500-600 with nothing recorded on the launching thread (unknown).
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 500)
      .Kernel(kGemm, 0, 100, 0)
      .Host("cpu_op", "aten::linear", 100, 100)
      .Kernel(kGemm, 200, 100, 195)
      .Host("python_function", "model.py(10): forward", 300, 100)
      .Kernel(kGemm, 400, 100, 395)
      .Kernel(kGemm, 600, 100, -1);
  Trace t = m.Build();
  auto steps = DetectSteps(t, {});
  ASSERT_TRUE(steps.ok());
  // Make the step cover 0-700 by hand to include the unattributed tail.
  steps->steps[0].window_end = 700 * kNsPerUs;
  KernelClassifier classifier;
  auto timelines = BuildDeviceTimelines(t, classifier.ClassifyTrace(t));
  auto b = ComputeBreakdown(t, steps.value(), timelines);
  const auto& total = b.Primary()->total;
  // The 2 µs cudaLaunchKernel inside the Python range is issuing work too.
  EXPECT_EQ(total[TimeCategory::kLaunch], 102 * kNsPerUs);
  EXPECT_EQ(total[TimeCategory::kOtherCpu], 98 * kNsPerUs);
  EXPECT_EQ(total[TimeCategory::kUnknown], 100 * kNsPerUs);
  EXPECT_EQ(total[TimeCategory::kCompute], 400 * kNsPerUs);
}

TEST(Breakdown, PageableCopyBlocksLikeASync) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Kernel(kGemm, 0, 100, 0)
      // The runtime call covers the whole copy, as a pageable copy does.
      .Memcpy("Memcpy HtoD (Pageable -> Device)", 400, 300, 64 << 20, /*launch_ts=*/100,
              /*api_dur=*/620)
      .Kernel(kGemm, 800, 200, 790);
  TraceAnalysis a = Analyze(m);
  EXPECT_GT(Ms(a, TimeCategory::kSync), 0.2);
  EXPECT_NEAR(Ms(a, TimeCategory::kMemcpy), 0.3, 1e-9);
}

}  // namespace
}  // namespace teye
