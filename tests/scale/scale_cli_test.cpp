// Many ranks end to end: the DLRM set, simulated jobs with a known straggler, summaries + merge,
// and the memory budget of reading ranks in parallel.
#include <filesystem>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace teye {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string TempDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "teye_scale_" + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(dir);
  return dir;
}

// Writes a simulated job of `ranks` ranks into a new directory.
std::string SynthJob(const std::string& name, int ranks, const std::string& extra) {
  const std::string dir = TempDir(name);
  auto r = test::RunCommand(test::Teye() + " synth -s ddp --steps 8 --ranks " +
                            std::to_string(ranks) + " " + extra + " -o " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir;
}

Json AnalyzeJson(const std::string& args) {
  auto r = test::RunCommand(test::Teye() + " analyze -f json " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? Json::parse(r.out) : Json();
}

struct StragglerCase {
  std::string cause;
  int rank;
};
void PrintTo(const StragglerCase& c, std::ostream* os) {
  *os << c.cause << " on rank " << c.rank;
}

class SynthStraggler : public ::testing::TestWithParam<StragglerCase> {};

TEST_P(SynthStraggler, IsFoundWithItsCause) {
  const StragglerCase c = GetParam();
  const std::string dir = SynthJob(
      "straggler_" + c.cause, 4,
      "--straggler " + std::to_string(c.rank) + " --straggler-cause " + c.cause + " --slowdown 5");
  Json j = AnalyzeJson(dir);
  ASSERT_TRUE(j.contains("cross_rank"));
  const Json& x = j["cross_rank"];
  EXPECT_EQ(x["ranks"], 4);
  EXPECT_GT(x["matched_collectives"].get<int>(), 20);
  ASSERT_EQ(x["stragglers"].size(), 1u) << x.dump(2);
  EXPECT_EQ(x["stragglers"][0]["rank"], c.rank);
  EXPECT_EQ(x["stragglers"][0]["cause"], c.cause) << x["stragglers"][0]["evidence"];
  EXPECT_GT(x["stragglers"][0]["caused_wait_ms_per_step"].get<double>(), 1.0);
  // The others wait; the straggler hardly does.
  for (const Json& row : x["per_rank"]) {
    if (row["rank"] == c.rank)
      EXPECT_LT(row["wait_ms_per_step"].get<double>(), 1.0);
    else
      EXPECT_GT(row["wait_ms_per_step"].get<double>(), 1.0);
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Causes, SynthStraggler,
                         ::testing::Values(StragglerCase{"input", 1}, StragglerCase{"compute", 3},
                                           StragglerCase{"host", 2}),
                         [](const auto& p) { return p.param.cause; });

TEST(Scale, HealthyJobHasNoStraggler) {
  const std::string dir = SynthJob("healthy", 4, "");
  Json j = AnalyzeJson(dir);
  ASSERT_TRUE(j.contains("cross_rank"));
  EXPECT_TRUE(j["cross_rank"]["stragglers"].empty()) << j["cross_rank"]["stragglers"].dump(2);
  fs::remove_all(dir);
}

TEST(Scale, SingleRankHasNoCrossRankSection) {
  const std::string dir = SynthJob("single", 2, "");
  Json j = AnalyzeJson(dir + "/rank0.pt.trace.json");
  EXPECT_FALSE(j.contains("cross_rank"));
  fs::remove_all(dir);
}

TEST(Scale, SummariesMergedEqualAnalysingTogether) {
  const std::string dir =
      SynthJob("merge", 4, "--straggler 2 --straggler-cause compute --slowdown 3 --gzip");
  std::string summaries;
  // One summary per rank, as each node of a job would write its own.
  for (int r = 0; r < 4; ++r) {
    const std::string trace = dir + "/rank" + std::to_string(r) + ".pt.trace.json.gz";
    const std::string summary = dir + "/rank" + std::to_string(r) + ".summary.json";
    auto s = test::RunCommand(test::Teye() + " analyze --summary-only -o " + summary + " " + trace);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_LT(fs::file_size(summary), fs::file_size(trace));
    summaries += " " + summary;
  }
  auto merged = test::RunCommand(test::Teye() + " merge -f json" + summaries);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  Json together = AnalyzeJson(dir);  // the directory: *.summary.json files are not traces
  ASSERT_TRUE(together.contains("cross_rank"));
  EXPECT_EQ(Json::parse(merged.out)["cross_rank"], together["cross_rank"]);
  EXPECT_EQ(together["cross_rank"]["stragglers"][0]["rank"], 2);

  auto text = test::RunCommand(test::Teye() + " merge --color never" + summaries);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("STRAGGLER rank 2"), std::string::npos) << text.out;
  fs::remove_all(dir);
}

TEST(Scale, MergeRejectsWhatIsNotASummary) {
  const std::string dir = SynthJob("badmerge", 2, "");
  for (const std::string& args : {dir + "/rank0.pt.trace.json " + dir + "/rank1.pt.trace.json",
                                  dir + "/missing.summary.json"}) {
    auto r = test::RunCommand(test::Teye() + " merge " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto empty = test::RunCommand(test::Teye() + " analyze " + TempDir("nothing_here"));
  EXPECT_EQ(empty.exit_code, 2);
  fs::create_directories(TempDir("empty_dir"));
  auto none = test::RunCommand(test::Teye() + " analyze " + TempDir("empty_dir"));
  EXPECT_EQ(none.exit_code, 2);
  auto budget = test::RunCommand(test::Teye() + " analyze --max-memory lots " + dir);
  EXPECT_EQ(budget.exit_code, 2);
  fs::remove_all(dir);
}

// Runs argv with stdout to /dev/null; returns the child's exit code and peak RSS in bytes.
std::pair<int, int64_t> RunMeasured(const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stdout)) ::_exit(127);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, int64_t{usage.ru_maxrss} * 1024};
}

TEST(Scale, ManyRanksStayWithinTheMemoryBudget) {
#ifdef TEYE_SANITIZED
  GTEST_SKIP() << "sanitizers multiply memory use: the budget is measured in normal builds";
#endif
  // 12 ranks of about 12 MB each: two read at once would pass the budget, one at a time fits.
  const std::string dir = TempDir("budget");
  auto w = test::RunCommand(test::Teye() + " synth -s ddp --steps 60 --ranks 12 -o " + dir);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const int64_t rank_bytes = static_cast<int64_t>(fs::file_size(dir + "/rank0.pt.trace.json"));
  ASSERT_GT(rank_bytes, 8 << 20);
  const int64_t budget = 5 * rank_bytes;
  auto [code, rss] = RunMeasured(
      {test::Teye(), "analyze", "-f", "json", "--max-memory", std::to_string(budget), dir});
  EXPECT_EQ(code, 0);
  EXPECT_LE(rss, budget) << "peak RSS " << rss << " bytes over a budget of " << budget;
  EXPECT_GT(rss, rank_bytes) << "the measurement saw the child";
  fs::remove_all(dir);
}

TEST(Scale, DlrmEightRanksNameTheirStraggler) {
  const std::string dir = std::string(TEYE_SHARED_TRACES) + "/param/dlrm_kineto";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is absent: no real multi-rank set";
  Json j = AnalyzeJson(dir);
  ASSERT_TRUE(j.contains("cross_rank"));
  const Json& x = j["cross_rank"];
  EXPECT_EQ(x["ranks"], 8);
  EXPECT_EQ(x["per_rank"].size(), 8u);
  EXPECT_EQ(x["matched_collectives"], 8);  // 5 SendRecv (all-to-all) and 3 AllReduce per rank
  EXPECT_EQ(x["unmatched_collectives"], 0);
  for (const Json& row : x["per_rank"])
    EXPECT_NEAR(row["clock_offset_ms"].get<double>(), 0.0, 0.1) << "one host, one clock";
  ASSERT_GE(x["stragglers"].size(), 1u);
  EXPECT_EQ(x["stragglers"][0]["rank"], 7) << x["stragglers"].dump(2);
  EXPECT_EQ(x["stragglers"][0]["cause"], "host");
}

}  // namespace
}  // namespace teye
