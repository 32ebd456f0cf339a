#include "teye/analyzers/steps.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

TEST(Steps, ProfilerStepsWithGpuTailExtension) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#7", 0, 100)
      .Host("user_annotation", "ProfilerStep#8", 100, 100)
      .Host("user_annotation", "ProfilerStep#9", 200, 100)
      .Kernel("k", 90, 30, /*launch_ts=*/50)     // step 7's kernel runs into step 8: clipped
      .Kernel("k", 280, 60, /*launch_ts=*/250);  // the last step extends to 340
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  const auto& s = r->steps;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(r->source, StepSource::kProfilerStep);
  EXPECT_EQ(s[0].number, 7);
  EXPECT_EQ(s[0].duration(), 100 * kNsPerUs);  // not double counted with step 8
  EXPECT_EQ(s[2].end() - s[2].start(), 140 * kNsPerUs);
  EXPECT_EQ(r->duration_ms.count, 3);
  EXPECT_NEAR(r->duration_ms.median, 0.1, 1e-9);
}

TEST(Steps, NestedMarkersOnlyCountOnceAndTheBusiestThreadWins) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 100)
      .Host("user_annotation", "ProfilerStep#1", 10, 20)  // same name nested inside: not a step
      .Host("user_annotation", "ProfilerStep#2", 100, 100)
      .Host("user_annotation", "ProfilerStep#99", 0, 5, /*tid=*/2);
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->steps.size(), 2u);
}

TEST(Steps, TruncatedLastStepIsLeftOut) {
  TraceMaker m;
  for (int i = 0; i < 4; ++i)
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(i), i * 100.0, 100);
  m.Host("user_annotation", "ProfilerStep#4", 400, 3);
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->steps.size(), 5u);
  EXPECT_FALSE(r->steps.back().complete);
  EXPECT_EQ(r->duration_ms.count, 4);
  EXPECT_FALSE(r->warnings.empty());
}

TEST(Steps, RegexThenDataLoaderThenWholeTrace) {
  TraceMaker m;
  m.Host("user_annotation", "train_iter", 0, 50)
      .Host("user_annotation", "train_iter", 60, 50)
      .Host("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", 0, 5)
      .Host("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", 60, 5)
      .Kernel("k", 10, 10, 5)
      .Kernel("k", 70, 10, 66);
  Trace t = m.Build();
  StepOptions o;
  o.step_regex = "^train_";
  auto by_regex = DetectSteps(t, o);
  ASSERT_TRUE(by_regex.ok());
  EXPECT_EQ(by_regex->source, StepSource::kRegex);
  EXPECT_EQ(by_regex->steps.size(), 2u);

  auto by_loader = DetectSteps(t, {});
  ASSERT_TRUE(by_loader.ok());
  EXPECT_EQ(by_loader->source, StepSource::kDataLoader);
  EXPECT_EQ(by_loader->steps.size(), 2u);
  EXPECT_EQ(by_loader->steps[0].duration(), 60 * kNsPerUs);

  TraceMaker bare;
  bare.Kernel("k", 10, 10, 5).Host("cpu_op", "aten::add", 0, 30);
  auto whole = DetectSteps(bare.Build(), {});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->source, StepSource::kWholeTrace);
  ASSERT_EQ(whole->steps.size(), 1u);
  EXPECT_EQ(whole->steps[0].duration(), 30 * kNsPerUs);
  EXPECT_FALSE(whole->warnings.empty());

  StepOptions bad;
  bad.step_regex = "([";
  EXPECT_FALSE(DetectSteps(t, bad).ok());
}

TEST(Steps, OverlappingWindowsAreSplitWhereTheNextStepsGpuWorkBegins) {
  // The GPU runs behind: each step's kernel ends after the next step's host part has begun.
  TraceMaker m;
  for (int i = 0; i < 3; ++i)
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(i), i * 100.0, 100);
  m.Kernel("k", 90, 80, 50).Kernel("k", 170, 90, 150).Kernel("k", 260, 90, 250);
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  const auto& s = r->steps;
  ASSERT_EQ(s.size(), 3u);  // not merged
  EXPECT_EQ(s[0].start(), 0);
  EXPECT_EQ(s[0].end(), 170 * kNsPerUs);  // where step 1's kernel starts
  EXPECT_EQ(s[1].start(), 170 * kNsPerUs);
  EXPECT_EQ(s[1].end(), 260 * kNsPerUs);
  EXPECT_EQ(s[2].end(), 350 * kNsPerUs);  // the last keeps its whole extension
  EXPECT_EQ(r->duration_ms.count, 3);
}

TEST(Steps, HostFarAheadEveryStepCountsAndTheGpuIsBusyInThem) {
  // Ten host steps of 100 µs; each step's 3 ms of GPU work runs long after.
  TraceMaker m;
  for (int i = 0; i < 10; ++i) {
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(i), i * 100.0, 100);
    m.Kernel("ampere_sgemm_128x64_nn", 1000 + 3000.0 * i, 3000, i * 100.0 + 50);
  }
  auto a = AnalyzeTrace(m.Build(), {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->complete_steps, 10);
  EXPECT_NEAR(a->steps.duration_ms.median, 3.0, 1e-9);
  // 30 ms of kernels in 31 ms of windows (the first step also holds the 1 ms before its GPU work).
  EXPECT_NEAR(a->gpu_utilization, 30.0 / 31.0, 1e-6);
}

TEST(Steps, GpuUserAnnotationsGiveTheGpuExtent) {
  TraceMaker m;
  for (int i = 0; i < 3; ++i) {
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(i), i * 100.0, 100);
    // Kineto's GPU-side ranges of each step; the kernel inside has no known launch.
    m.Raw(fmt::format(R"({{"ph":"X","cat":"gpu_user_annotation","name":"ProfilerStep#{}",)"
                      R"("pid":0,"tid":7,"ts":{},"dur":120,"args":{{"device":0,"stream":7}}}})",
                      i, 60 + 120.0 * i));
    m.Kernel("k", 60 + 120.0 * i, 120);
  }
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->gpu_annotations);
  ASSERT_EQ(r->steps.size(), 3u);
  EXPECT_EQ(r->steps[0].gpu_start, 60 * kNsPerUs);
  EXPECT_EQ(r->steps[0].end(), 180 * kNsPerUs);  // step 1's GPU range starts there
  EXPECT_EQ(r->steps[2].end(), 420 * kNsPerUs);
}

TEST(Steps, TheLoadersStopIterationIsNotAStep) {
  // Three iterations that train (a launch after each) and a last __next__ that raises
  // StopIteration: nothing follows it.
  TraceMaker m;
  for (int i = 0; i < 4; ++i)
    m.Host("user_annotation", "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__",
           i * 100.0, i < 3 ? 10 : 2);
  for (int i = 0; i < 3; ++i)
    m.Kernel("k", i * 100.0 + 30, 50, i * 100.0 + 20);
  auto r = DetectSteps(m.Build(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, StepSource::kDataLoader);
  EXPECT_EQ(r->steps.size(), 3u);
}

TEST(Steps, SummarizeQuantiles) {
  auto s = Summarize({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_DOUBLE_EQ(s.median, 5.5);
  EXPECT_DOUBLE_EQ(s.p90, 9.1);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
}

}  // namespace
}  // namespace teye
