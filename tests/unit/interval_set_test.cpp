#include "teye/analyzers/interval_set.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

TEST(IntervalSet, UnionMergesOverlapsAndTouches) {
  auto s = IntervalSet::Union({{10, 20}, {15, 30}, {30, 40}, {50, 60}, {5, 5}, {70, 65}});
  ASSERT_EQ(s.intervals().size(), 2u);
  EXPECT_EQ(s.intervals()[0], (Interval{10, 40}));
  EXPECT_EQ(s.intervals()[1], (Interval{50, 60}));
  EXPECT_EQ(s.Length(), 40);
}

TEST(IntervalSet, ClipSubtractIntersectComplement) {
  auto a = IntervalSet::Union({{0, 10}, {20, 30}, {40, 50}});
  auto b = IntervalSet::Union({{5, 25}, {45, 100}});
  EXPECT_EQ(a.LengthWithin({5, 45}), 5 + 10 + 5);
  EXPECT_EQ(a.Clip({5, 45}).Length(), 20);
  auto diff = a.Subtract(b);
  ASSERT_EQ(diff.intervals().size(), 3u);
  EXPECT_EQ(diff.intervals()[0], (Interval{0, 5}));
  EXPECT_EQ(diff.intervals()[1], (Interval{25, 30}));
  EXPECT_EQ(diff.intervals()[2], (Interval{40, 45}));
  EXPECT_EQ(a.Intersect(b).Length(), 5 + 5 + 5);
  auto gaps = a.ComplementWithin({0, 60});
  ASSERT_EQ(gaps.intervals().size(), 3u);
  EXPECT_EQ(gaps.Length(), 30);
  EXPECT_TRUE(a.Contains(0));
  EXPECT_FALSE(a.Contains(10));
  EXPECT_TRUE(a.Contains(49));
  EXPECT_TRUE(IntervalSet().ComplementWithin({5, 5}).empty());
}

}  // namespace
}  // namespace teye
