#include "teye/analyzers/hta_temporal.h"

#include <gtest/gtest.h>

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

TEST(HtaTemporal, SpanIdleComputeNonCompute) {
  // Span 0-100 µs: compute 0-40, nccl 30-60 (non-compute), memcpy 70-80, idle 60-70 + 80-90...
  TraceMaker m;
  m.Kernel("volta_sgemm_128x64_nn", 0, 40)
      .Kernel("ncclKernel_AllReduce_RING_LL_Sum_float", 30, 30, -1, 21)
      .Memcpy("Memcpy HtoD (Pinned -> Device)", 70, 10, 1024)
      .Kernel("volta_sgemm_128x64_nn", 90, 10);
  TemporalBreakdown t = ComputeHtaTemporal(m.Build());
  ASSERT_TRUE(t.has_gpu_events);
  EXPECT_DOUBLE_EQ(t.span, 100);
  EXPECT_DOUBLE_EQ(t.idle, 20);
  EXPECT_DOUBLE_EQ(t.compute, 50);
  EXPECT_DOUBLE_EQ(t.non_compute, 30);
  EXPECT_DOUBLE_EQ(t.idle_pct, 20);
}

TEST(HtaTemporal, RoundsStartsUpAndEndsDown) {
  TraceMaker m;
  m.Kernel("k", 0.4, 10.2).Kernel("k", 20.6, 4.8);  // [1, 10] and [21, 25]
  TemporalBreakdown t = ComputeHtaTemporal(m.Build());
  EXPECT_DOUBLE_EQ(t.span, 24);
  EXPECT_DOUBLE_EQ(t.idle, 24 - 9 - 4);
}

TEST(HtaTemporal, DropsWorkLaunchedInTheLastStep) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 100)
      .Host("user_annotation", "ProfilerStep#2", 100, 100)
      .Kernel("k", 10, 40, 5)
      .Kernel("k", 120, 50, 110);  // launched in the last step: HTA leaves it out
  TemporalBreakdown t = ComputeHtaTemporal(m.Build());
  EXPECT_TRUE(t.dropped_last_step);
  EXPECT_EQ(t.events, 1);
  EXPECT_DOUBLE_EQ(t.span, 40);
}

TEST(HtaTemporal, CpuOnlyTraceHasNoGpuEvents) {
  TraceMaker m;
  m.Host("cpu_op", "aten::add", 0, 10);
  EXPECT_FALSE(ComputeHtaTemporal(m.Build()).has_gpu_events);
}

}  // namespace
}  // namespace teye
