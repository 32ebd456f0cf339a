// A real CPU-only PyTorch job (Debian's python3-torch), recorded here with 0 and 2 DataLoader
// workers, by teye's collector and by torch.profiler at once. The job's loading costs 0.8 of its
// own training step (python/cpu_input_job.py), so the ground truth is the job's design, not teye's:
// with 0 workers the loop loads every batch itself and waits over 40% of the step; with
// 2 workers loading in parallel it does not wait. teye must class the first input-bound with the
// DataLoader fix first, the second not input-bound, and compare their step times.
// Skips when torch is not installed (ctest label collector-torch).
#include <optional>
#include <sys/stat.h>

#include "collector_test_util.h"

namespace teye::test {
namespace {

struct Recorded {
  std::string collector_trace;  // the main process's teye trace
  std::string profiler_trace;   // torch.profiler's export
};

// Runs the job under `teye record`; empty when torch is missing.
std::optional<Recorded> Record(const TempDir& dir, const std::string& data, int workers) {
  const std::string out = dir / ("traces" + std::to_string(workers));
  Recorded r{"", dir / ("profile" + std::to_string(workers) + ".json")};
  ProcessResult p =
      RunProgram({TEYE_BINARY, "record", "-o", out, "--", TEYE_SYSTEM_PYTHON,
                  std::string(TEYE_COLLECTOR_TEST_DIR) + "/python/cpu_input_job.py", data,
                  std::to_string(workers), r.profiler_trace, "10"},
                 {{"TEYE_COLLECTOR_LIB", TEYE_COLLECTOR_LIB}, {"OMP_NUM_THREADS", "1"}},
                 CollectorUnset(), 300);
  if (p.exit_code == 77) return std::nullopt;
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  for (const std::string& path : ListDir(out, ".pt.trace.json"))
    if (!LoadJson(path)["teye"].contains("forked_from")) r.collector_trace = path;
  EXPECT_FALSE(r.collector_trace.empty()) << p.err;
  return r;
}

nlohmann::json Analyze(const std::string& trace) {
  ProcessResult p = RunProgram({TEYE_BINARY, "analyze", trace, "-f", "json"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  return nlohmann::json::parse(p.out)["ranks"][0];
}

TEST(CpuInput, NoWorkersIsInputBoundWithTheLoaderFixFirstAndTwoWorkersIsNot) {
  TempDir dir;
  const std::string data = dir / "data";
  ::mkdir(data.c_str(), 0755);
  for (int i = 0; i < 16; ++i)
    WriteFile(data + "/sample" + std::to_string(i) + ".bin", std::string(4096 + 16 * i, 'x'));
  auto none = Record(dir, data, 0);
  if (!none) GTEST_SKIP() << "torch is not installed (apt-get install python3-torch)";
  auto two = Record(dir, data, 2);
  ASSERT_TRUE(two.has_value());

  for (const std::string& trace : {none->collector_trace, none->profiler_trace}) {
    SCOPED_TRACE("0 workers: " + trace);
    nlohmann::json a = Analyze(trace);
    EXPECT_EQ(a["has_gpu_activity"], false);
    EXPECT_EQ(a["breakdown"]["timeline"], "host");
    EXPECT_EQ(a["bound"]["class"], "input");
    ASSERT_FALSE(a["recommendations"].empty());
    const nlohmann::json& first = a["recommendations"][0];
    EXPECT_EQ(first["id"], "dataloader_workers");
    EXPECT_NE(first["method"].get<std::string>().find("single-process loader"), std::string::npos)
        << first["method"];
    // Loading costs 0.8 of a step of compute: the fix saves more than a quarter of the step.
    EXPECT_GT(first["saving_pct"].get<double>(), 25) << first.dump();
  }
  for (const std::string& trace : {two->collector_trace, two->profiler_trace}) {
    SCOPED_TRACE("2 workers: " + trace);
    nlohmann::json a = Analyze(trace);
    EXPECT_EQ(a["breakdown"]["timeline"], "host");
    EXPECT_NE(a["bound"]["class"], "input") << a["bound"].dump();
    EXPECT_GE(a["steps"]["count"].get<int>(), 5);
  }

  // diff and gate judge runs without a GPU by their step times and shares. (Step times of two
  // runs on a shared machine are not compared: only each run's own proportions are the job's.)
  const nlohmann::json a0 = Analyze(none->profiler_trace), a2 = Analyze(two->profiler_trace);
  ProcessResult diff =
      RunProgram({TEYE_BINARY, "diff", none->profiler_trace, two->profiler_trace, "-f", "json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  nlohmann::json d = nlohmann::json::parse(diff.out);
  EXPECT_EQ(d["step_ms"]["a"]["count"], a0["steps"]["count"]);
  EXPECT_EQ(d["step_ms"]["b"]["count"], a2["steps"]["count"]);
  EXPECT_NEAR(d["step_ms"]["a"]["median"].get<double>(), a0["steps"]["median_ms"].get<double>(),
              0.01);
  EXPECT_NEAR(d["step_ms"]["b"]["median"].get<double>(), a2["steps"]["median_ms"].get<double>(),
              0.01);
  ProcessResult text = RunProgram({TEYE_BINARY, "diff", none->profiler_trace, two->profiler_trace});
  EXPECT_NE(text.out.find("no GPU activity in either run"), std::string::npos) << text.out;
  ProcessResult gate0 =
      RunProgram({TEYE_BINARY, "gate", none->profiler_trace, "--max-share", "input=0.3"});
  EXPECT_EQ(gate0.exit_code, 1) << gate0.out << gate0.err;  // waits over 40% for input
  ProcessResult gate2 =
      RunProgram({TEYE_BINARY, "gate", two->profiler_trace, "--max-share", "input=0.3"});
  EXPECT_EQ(gate2.exit_code, 0) << gate2.out << gate2.err;
}

}  // namespace
}  // namespace teye::test
