// The executor: every task runs once, nested waits do not deadlock, errors reach the waiter, and
// no more tasks run at once than the executor has threads (counted by the tasks themselves).
#include "teye/runtime/executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "teye/runtime/phase_timings.h"

namespace teye {
namespace {

// Counts the tasks running at once; each task holds its slot for a while so that overlaps show.
struct Concurrency {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  void Enter() {
    const int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
  }
  void Leave() { --now; }
  void Work() {
    Enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    Leave();
  }
};

TEST(Executor, RunsEveryTaskOnce) {
  for (unsigned threads : {1u, 2u, 4u}) {
    Executor executor(threads);
    std::vector<int> runs(200, 0);
    TaskGroup group(&executor);
    for (size_t i = 0; i < runs.size(); ++i)
      group.Spawn([&runs, i] { ++runs[i]; });
    group.Wait();
    for (int r : runs)
      EXPECT_EQ(r, 1);
  }
}

TEST(Executor, NullExecutorRunsInline) {
  TaskGroup group(nullptr);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran;
  group.Spawn([&] { ran = std::this_thread::get_id(); });
  EXPECT_EQ(ran, caller);  // already ran, in Spawn
  group.Wait();
}

TEST(Executor, NeverMoreTasksAtOnceThanThreads) {
  for (unsigned threads : {1u, 2u, 3u}) {
    Executor executor(threads);
    Concurrency c;
    TaskGroup group(&executor);
    for (int i = 0; i < 40; ++i)
      group.Spawn([&] { c.Work(); });
    group.Wait();
    EXPECT_LE(c.peak.load(), static_cast<int>(threads));
    if (threads > 1) {
      EXPECT_GE(c.peak.load(), 2);  // they did overlap
    }
  }
}

// Ranks that read with parallel parsers: tasks that spawn tasks and wait for them. With two
// threads this cannot deadlock (a waiter runs its own group's tasks) and never runs more than two.
TEST(Executor, NestedGroupsShareTheThreads) {
  Executor executor(2);
  Concurrency c;
  std::atomic<int> leaves{0};
  TaskGroup ranks(&executor);
  for (int r = 0; r < 6; ++r) {
    ranks.Spawn([&] {
      TaskGroup chunks(&executor);
      for (int k = 0; k < 8; ++k)
        chunks.Spawn([&] {
          c.Work();
          ++leaves;
        });
      chunks.Wait();
    });
  }
  ranks.Wait();
  EXPECT_EQ(leaves.load(), 48);
  EXPECT_LE(c.peak.load(), 2);
}

TEST(Executor, WaitUntilReturnsWhenItsConditionHolds) {
  Executor executor(2);
  std::vector<std::atomic<bool>> done(10);
  TaskGroup group(&executor);
  for (size_t i = 0; i < done.size(); ++i)
    group.Spawn([&done, i] { done[i] = true; });
  for (size_t i = 0; i < done.size(); ++i) {
    group.WaitUntil([&] { return done[i].load(); });
    EXPECT_TRUE(done[i].load());
  }
  group.Wait();
}

TEST(Executor, TheFirstErrorReachesTheWaiter) {
  Executor executor(2);
  TaskGroup group(&executor);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i)
    group.Spawn([&, i] {
      ++ran;
      if (i == 3) throw std::runtime_error("task 3");
    });
  EXPECT_THROW(group.Wait(), std::runtime_error);
  EXPECT_EQ(ran.load(), 10);  // the others still ran
}

// Parts that must run at the same time (ranks meeting at collectives): each round, every part
// works, then waits in Blocked() until all have arrived. All finish, and no more than the
// executor's threads work at once although every part has a thread.
TEST(Executor, RunTogetherCapsTheWorkingParts) {
  for (unsigned threads : {1u, 2u}) {
    Executor executor(threads);
    constexpr size_t kParts = 6;
    constexpr int kRounds = 5;
    Concurrency c;
    std::mutex mu;
    std::condition_variable cv;
    int arrived[kRounds] = {};
    executor.RunTogether(kParts, [&](size_t) {
      for (int round = 0; round < kRounds; ++round) {
        c.Work();
        std::unique_lock lock(mu);
        if (++arrived[round] == static_cast<int>(kParts)) {
          cv.notify_all();
          continue;
        }
        Executor::Blocked([&] {
          cv.wait(lock, [&] { return arrived[round] == static_cast<int>(kParts); });
          lock.unlock();
        });
      }
    });
    for (int round = 0; round < kRounds; ++round)
      EXPECT_EQ(arrived[round], static_cast<int>(kParts));
    EXPECT_LE(c.peak.load(), static_cast<int>(threads));
  }
}

TEST(PhaseTimings, AddsUpPhasesOfTheSameName) {
  PhaseTimings t;
  t.Add("read", 1.0, 2.0);
  t.Add("rules", 0.5, 0.5);
  t.Add("read", 0.25, 0.5);
  auto p = t.phases();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "read");
  EXPECT_DOUBLE_EQ(p[0].wall_s, 1.25);
  EXPECT_DOUBLE_EQ(p[0].cpu_s, 2.5);
  EXPECT_EQ(p[0].count, 2);
  {
    ScopedPhase s(&t, "scoped");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  p = t.phases();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_GE(p[2].wall_s, 0.004);
  ScopedPhase nothing(nullptr, "ignored");  // a null sink is allowed
}

}  // namespace
}  // namespace teye
