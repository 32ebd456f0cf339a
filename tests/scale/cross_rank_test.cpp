// AnalyzeCrossRank on hand-made rank summaries: matching, the transfer/wait split, stragglers.
#include "teye/analyzers/cross_rank.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

constexpr TimeNs kMs = 1000 * 1000;

// A rank with one step of `step_ms` and the given phase times, and all-reduces that start at
// `arrivals` and all end at arrival of the last rank + 1 ms (set by the caller).
RankSummary Rank(int rank, double input_ms, double compute_ms, double launch_ms) {
  RankSummary s;
  s.file = "rank" + std::to_string(rank) + ".json";
  s.rank = rank;
  s.world_size = 3;
  s.complete_steps = 1;
  s.step_ms = 20;
  s.gpu_utilization = 0.5;
  s.phase_ms = {
      {"compute", compute_ms}, {"communication", 2}, {"input", input_ms}, {"launch", launch_ms}};
  return s;
}

void AddCollective(RankSummary& s, TimeNs start, TimeNs end, std::string op = "allreduce") {
  CollectiveTiming c;
  c.group = "0";
  c.op = std::move(op);
  c.start_ns = start;
  c.end_ns = end;
  c.bytes = 1000;
  c.in_step = true;
  s.collectives.push_back(c);
}

TEST(CrossRank, SplitsTransferAndWaitAndNamesTheLateRank) {
  std::vector<RankSummary> ranks = {Rank(0, 0, 10, 0.1), Rank(1, 0, 10, 0.1), Rank(2, 6, 10, 0.1)};
  // Two all-reduces; rank 2 arrives 5 ms late at both, the transfer takes 1 ms.
  for (TimeNs base : {0 * kMs, 10 * kMs}) {
    AddCollective(ranks[0], base, base + 6 * kMs);
    AddCollective(ranks[1], base + kMs, base + 6 * kMs);
    AddCollective(ranks[2], base + 5 * kMs, base + 6 * kMs);
  }
  CrossRankResult x = AnalyzeCrossRank(ranks);
  EXPECT_EQ(x.ranks, 3);
  EXPECT_EQ(x.matched, 2);
  EXPECT_EQ(x.unmatched, 0);
  ASSERT_EQ(x.rows.size(), 3u);
  EXPECT_DOUBLE_EQ(x.rows[0].transfer_ms, 2.0);
  EXPECT_DOUBLE_EQ(x.rows[0].wait_ms, 10.0);
  EXPECT_DOUBLE_EQ(x.rows[1].wait_ms, 8.0);
  EXPECT_DOUBLE_EQ(x.rows[2].wait_ms, 0.0);
  EXPECT_EQ(x.rows[2].arrived_last, 2);
  EXPECT_DOUBLE_EQ(x.rows[2].caused_wait_ms, 9.0);  // (5 + 4) / 2 per collective, 2 of them
  ASSERT_EQ(x.groups.size(), 1u);
  EXPECT_EQ(x.groups[0].count, 2);
  EXPECT_DOUBLE_EQ(x.groups[0].transfer_ms, 2.0);
  EXPECT_DOUBLE_EQ(x.groups[0].wait_ms, 18.0);
  ASSERT_EQ(x.stragglers.size(), 1u);
  EXPECT_EQ(x.stragglers[0].rank, 2);
  EXPECT_EQ(x.stragglers[0].cause, "input");
  EXPECT_DOUBLE_EQ(x.stragglers[0].excess_ms, 6.0);
  EXPECT_NE(x.stragglers[0].evidence.find("input"), std::string::npos);
}

TEST(CrossRank, ShiftsSequencesWhoseWindowsStartAtDifferentCollectives) {
  std::vector<RankSummary> ranks = {Rank(0, 0, 10, 0), Rank(1, 0, 10, 0)};
  // Rank 1's profile also caught the collective before rank 0's window opened.
  AddCollective(ranks[1], -10 * kMs, -9 * kMs);
  for (TimeNs base : {0 * kMs, 10 * kMs, 20 * kMs}) {
    AddCollective(ranks[0], base, base + 2 * kMs);
    AddCollective(ranks[1], base + kMs, base + 2 * kMs);
  }
  CrossRankResult x = AnalyzeCrossRank(ranks);
  EXPECT_EQ(x.matched, 3);
  EXPECT_EQ(x.unmatched, 1);
  EXPECT_DOUBLE_EQ(x.rows[0].wait_ms, 3.0);
  EXPECT_EQ(x.rows[1].arrived_last, 3);
  EXPECT_DOUBLE_EQ(x.rows[1].clock_offset_ms, 0.0);
}

TEST(CrossRank, NoStragglerWhenNobodyWaits) {
  std::vector<RankSummary> ranks = {Rank(0, 0, 10, 0), Rank(1, 0, 10, 0)};
  AddCollective(ranks[0], 0, 2 * kMs);
  AddCollective(ranks[1], 0, 2 * kMs);
  CrossRankResult x = AnalyzeCrossRank(ranks);
  EXPECT_EQ(x.matched, 1);
  EXPECT_TRUE(x.stragglers.empty());
}

TEST(CrossRank, WithoutCollectivesSlowStepsDecide) {
  std::vector<RankSummary> ranks = {Rank(0, 0, 10, 0), Rank(1, 0, 10, 0), Rank(2, 0, 10, 8)};
  ranks[2].step_ms = 30;
  CrossRankResult x = AnalyzeCrossRank(ranks);
  EXPECT_EQ(x.matched, 0);
  ASSERT_EQ(x.stragglers.size(), 1u);
  EXPECT_EQ(x.stragglers[0].rank, 2);
  EXPECT_EQ(x.stragglers[0].cause, "host");
}

TEST(CrossRank, RepeatedRankNumbersFallBackToInputOrder) {
  std::vector<RankSummary> ranks = {Rank(0, 0, 10, 0), Rank(0, 0, 10, 0)};
  CrossRankResult x = AnalyzeCrossRank(ranks);
  ASSERT_EQ(x.rows.size(), 2u);
  EXPECT_EQ(x.rows[0].rank, 0);
  EXPECT_EQ(x.rows[1].rank, 1);
  EXPECT_FALSE(x.notes.empty());
}

}  // namespace
}  // namespace teye
