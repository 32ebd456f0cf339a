#include "teye/model/trace_builder.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

FileTime Us(int64_t whole, int32_t milli = 0) {
  return FileTime{whole, milli};
}

HostSliceRecord Slice(ThreadIndex thread, std::string_view name, FileTime ts, FileTime dur) {
  HostSliceRecord s;
  s.thread = thread;
  s.name = name;
  s.ts = ts;
  s.dur = dur;
  s.kind = HostSliceKind::kCpuOp;
  return s;
}

TEST(TraceBuilder, MicrosecondsWithFractionsBecomeExactNanoseconds) {
  TraceBuilder b;
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  ASSERT_TRUE(b.AddHostSlice(Slice(t, "op", Us(1712195495519689, 123), Us(63, 813))));
  Trace trace = std::move(b).Build();
  ASSERT_EQ(trace.host_slices().size(), 1u);
  EXPECT_EQ(trace.host_slices().start_ns[0], 1712195495519689123);
  EXPECT_EQ(trace.host_slices().duration(0), 63813);
  EXPECT_EQ(trace.info().file_time_unit_ns, 1000);
}

TEST(TraceBuilder, DisplayTimeUnitNsWithWholeNumbersMeansNanoseconds) {
  TraceBuilder b;
  b.info().display_time_unit = "ns";
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  ASSERT_TRUE(b.AddHostSlice(Slice(t, "op", Us(1700000000000000000), Us(2500))));
  Trace trace = std::move(b).Build();
  EXPECT_EQ(trace.info().file_time_unit_ns, 1);
  EXPECT_EQ(trace.host_slices().start_ns[0], 1700000000000000000);
  EXPECT_EQ(trace.host_slices().duration(0), 2500);
}

TEST(TraceBuilder, DisplayTimeUnitNsWithFractionsIsStillMicroseconds) {
  // PyTorch writes µs with ns fractions and says displayTimeUnit "ns".
  TraceBuilder b;
  b.info().display_time_unit = "ns";
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  ASSERT_TRUE(b.AddHostSlice(Slice(t, "op", Us(100, 500), Us(2))));
  Trace trace = std::move(b).Build();
  EXPECT_EQ(trace.info().file_time_unit_ns, 1000);
  EXPECT_EQ(trace.host_slices().start_ns[0], 100500);
}

TEST(TraceBuilder, BaseTimeNanosecondsIsAdded) {
  TraceBuilder b;
  b.info().file_time_zero_ns = 1735632360000000000;
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  ASSERT_TRUE(b.AddHostSlice(Slice(t, "op", Us(4203669604595, 407), Us(1))));
  Trace trace = std::move(b).Build();
  EXPECT_EQ(trace.host_slices().start_ns[0], 1735632360000000000 + 4203669604595407);
}

TEST(TraceBuilder, PairsBeginEndPerThreadAndNests) {
  TraceBuilder b;
  ThreadIndex t1 = b.InternThread({1, {}, 1, {}});
  ThreadIndex t2 = b.InternThread({1, {}, 2, {}});
  HostSliceRecord outer = Slice(t1, "outer", Us(10), {});
  HostSliceRecord inner = Slice(t1, "inner", Us(20), {});
  HostSliceRecord other = Slice(t2, "other", Us(15), {});
  b.BeginSlice(outer);
  b.BeginSlice(other);
  b.BeginSlice(inner);
  b.EndSlice(t1, Us(30));  // closes inner
  b.EndSlice(t2, Us(40));  // closes other
  b.EndSlice(t1, Us(50));  // closes outer
  b.EndSlice(t1, Us(60));  // unmatched
  Trace trace = std::move(b).Build();
  const auto& h = trace.host_slices();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(trace.stats().Skipped(SkipReason::kUnmatchedEnd), 1);
  // Thread-major order: t1's outer, inner; then t2's other.
  EXPECT_EQ(trace.str(h.name[0]), "outer");
  EXPECT_EQ(trace.str(h.name[1]), "inner");
  EXPECT_EQ(h.parent[1], 0);
  EXPECT_EQ(h.depth[1], 1);
  EXPECT_EQ(h.end_ns[0], 50000);
  EXPECT_EQ(trace.str(h.name[2]), "other");
  EXPECT_EQ(trace.threads().slice_begin[t2], 2);
  EXPECT_EQ(trace.threads().slice_end[t2], 3);
}

TEST(TraceBuilder, UnclosedBeginIsKeptToTheEndAndCounted) {
  TraceBuilder b;
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  b.BeginSlice(Slice(t, "open", Us(10), {}));
  b.AddHostSlice(Slice(t, "later", Us(20), Us(80)));
  Trace trace = std::move(b).Build();
  EXPECT_EQ(trace.stats().Skipped(SkipReason::kUnclosedBegin), 1);
  EXPECT_EQ(trace.host_slices().end_ns[0], 100000);
}

TEST(TraceBuilder, NegativeDurationIsSkipped) {
  TraceBuilder b;
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  EXPECT_FALSE(b.AddHostSlice(Slice(t, "bad", Us(10), Us(-1))));
  Trace trace = std::move(b).Build();
  EXPECT_EQ(trace.host_slices().size(), 0u);
  EXPECT_EQ(trace.stats().Skipped(SkipReason::kNegativeDuration), 1);
}

TEST(TraceBuilder, LinksKernelsToLaunchesByCorrelation) {
  TraceBuilder b;
  ThreadIndex t = b.InternThread({1, {}, 1, {}});
  HostSliceRecord launch = Slice(t, "cudaLaunchKernel", Us(10), Us(5));
  launch.kind = HostSliceKind::kRuntime;
  launch.correlation = 42;
  b.AddHostSlice(launch);
  GpuOpRecord k;
  k.ts = Us(20);
  k.dur = Us(3);
  k.name = "kernel";
  k.device = 0;
  k.stream = 7;
  k.correlation = 42;
  b.AddGpuOp(k);
  Trace trace = std::move(b).Build();
  ASSERT_EQ(trace.gpu_ops().size(), 1u);
  ASSERT_NE(trace.gpu_ops().launch[0], kNoRow);
  EXPECT_EQ(trace.str(trace.host_slices().name[trace.gpu_ops().launch[0]]), "cudaLaunchKernel");
}

TEST(TraceBuilder, MergeKeepsFileOrderAndRemapsIds) {
  TraceBuilder main, part1, part2;
  ThreadIndex a = part1.InternThread({7, {}, 1, {}});
  part1.AddHostSlice(Slice(a, "first", Us(1000), Us(10)));
  part1.BeginSlice(Slice(a, "spans", Us(1005), {}));
  ThreadIndex b2 = part2.InternThread({7, {}, 1, {}});
  part2.EndSlice(b2, Us(1100));  // closes the B from part1
  part2.AddHostSlice(Slice(b2, "second", Us(2000), Us(10)));
  main.Merge(std::move(part1));
  main.Merge(std::move(part2));
  Trace trace = std::move(main).Build();
  const auto& h = trace.host_slices();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(trace.threads().size(), 1u);
  EXPECT_EQ(trace.str(h.name[0]), "first");
  EXPECT_EQ(trace.str(h.name[1]), "spans");
  EXPECT_EQ(h.end_ns[1], 1100000);
  EXPECT_EQ(trace.str(h.name[2]), "second");
  EXPECT_EQ(h.start_ns[2], 2000000);
}

}  // namespace
}  // namespace teye
