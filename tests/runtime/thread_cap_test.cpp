// --threads caps everything: a many-rank `teye analyze` (each rank read by parallel parsers, its
// model sorted in parallel and its rules run side by side) never has more threads alive at once
// than --threads, the main thread included, so never more than that many busy. Counted from
// outside teye: a preloaded shim sees every pthread_create and every thread's end
// (thread_census.c).
#include <filesystem>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "run_command.h"

namespace teye {
namespace {

namespace fs = std::filesystem;

struct Census {
  int peak = -1;     // threads alive at once, main included
  int created = -1;  // threads started
};

Census Count(const std::string& teye_args, const std::string& name) {
  const std::string out =
      ::testing::TempDir() + "teye_census_" + std::to_string(::getpid()) + "_" + name + ".txt";
  fs::remove(out);
  auto r =
      test::RunCommand("TEYE_THREAD_CENSUS=" + out + " LD_PRELOAD=" TEYE_THREAD_CENSUS_LIB " " +
                       test::Teye() + " " + teye_args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Census c;
  std::sscanf(test::Slurp(out).c_str(), "peak %d created %d", &c.peak, &c.created);
  fs::remove(out);
  return c;
}

class ThreadCap : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = ::testing::TempDir() + "teye_thread_cap_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    // Eight ranks of ~1.3 MB: each is cut into 16 chunks for the parallel parsers.
    auto r = test::RunCommand(test::Teye() + " synth -s ddp --steps 20 --ranks 8 -o " + dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string dir_;
};
std::string ThreadCap::dir_;

TEST_F(ThreadCap, TwoThreadsForEightRanks) {
  const Census c = Count("analyze -f json --threads 2 " + dir_, "two");
  EXPECT_EQ(c.peak, 2) << "created " << c.created;
  EXPECT_EQ(c.created, 1);  // one worker for the whole run
}

TEST_F(ThreadCap, OneThreadStartsNone) {
  const Census c = Count("analyze -f json --threads 1 " + dir_, "one");
  EXPECT_EQ(c.peak, 1);
  EXPECT_EQ(c.created, 0);
}

// The census sees the threads there are: with room for four, four run.
TEST_F(ThreadCap, FourThreadsAreSeen) {
  const Census c = Count("analyze -f json --threads 4 " + dir_, "four");
  EXPECT_EQ(c.peak, 4);
  EXPECT_EQ(c.created, 3);
}

// A simulated job's ranks wait for one another at every collective, so each has a thread, but
// the census of a lone rank's analysis (gate, diff) stays within --threads too.
TEST_F(ThreadCap, GateOnOneRank) {
  const Census c = Count("gate --threads 2 " + dir_ + "/rank0.pt.trace.json", "gate");
  EXPECT_LE(c.peak, 2);
}

}  // namespace
}  // namespace teye
