// `teye record` on a real PyTorch job (Debian's python3-torch, CPU only): a DataLoader with two
// forked workers reading files, and SGD steps. Skips when torch is not installed (ctest label
// collector-torch; CI installs python3-torch).
#include <set>

#include "teye/import/read_trace.h"

#include "collector_test_util.h"

namespace teye::test {
namespace {

TEST(TorchShim, DataLoaderWorkersAndStepsOfARealJob) {
  TempDir dir;
  const std::string data = dir / "data";
  ::mkdir(data.c_str(), 0755);
  int64_t total_bytes = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string body(1000 + 100 * i, 'd');
    WriteFile(data + "/sample" + std::to_string(100 + i) + ".bin", body);
    total_bytes += static_cast<int64_t>(body.size());
  }
  const std::string out = dir / "traces";
  ProcessResult r =
      RunProgram({TEYE_BINARY, "record", "-o", out, "--sample-ms", "50", "--", TEYE_SYSTEM_PYTHON,
                  std::string(TEYE_COLLECTOR_TEST_DIR) + "/python/dataloader_job.py", data},
                 {{"TEYE_COLLECTOR_LIB", TEYE_COLLECTOR_LIB}, {"OMP_NUM_THREADS", "1"}},
                 CollectorUnset(), 300);
  if (r.exit_code == 77) GTEST_SKIP() << "torch is not installed (apt-get install python3-torch)";
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "batches 8\n");

  // One trace for the main process and one per worker (2 workers x 2 epochs), all whole.
  std::vector<nlohmann::json> workers;
  nlohmann::json main_trace;
  for (const std::string& path : ListDir(out, ".pt.trace.json")) {
    nlohmann::json t = LoadJson(path);
    ASSERT_TRUE(t.is_object()) << path;
    EXPECT_EQ(t["teye"]["complete"], true);
    auto trace = ReadTraceFile(path);
    ASSERT_TRUE(trace.ok()) << trace.error().ToString();
    if (t["teye"].contains("forked_from"))
      workers.push_back(t);
    else
      main_trace = t;
  }
  EXPECT_TRUE(ListDir(out, ".partial").empty()) << r.err;
  ASSERT_TRUE(main_trace.is_object()) << r.err;
  ASSERT_EQ(workers.size(), 4u) << r.err;

  // The main process: every __next__ (4 batches + the end, per epoch) and every step.
  auto loader = Events(main_trace, "dataloader", "X");
  EXPECT_EQ(loader.size(), 10u);
  for (const auto& e : loader)
    EXPECT_EQ(e["name"], "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__");
  int steps = 0;
  std::set<std::string> profiler_steps;
  for (const auto& e : Events(main_trace, "user_annotation", "X")) {
    steps += e["name"] == "Optimizer.step#SGD.step";
    if (e["name"].get<std::string>().rfind("ProfilerStep#", 0) == 0)
      profiler_steps.insert(e["name"].get<std::string>());
  }
  EXPECT_EQ(steps, 8);
  // One ProfilerStep#N per batch, as torch.profiler writes them with prof.step() per iteration.
  std::set<std::string> expected;
  for (int i = 0; i < 8; ++i)
    expected.insert("ProfilerStep#" + std::to_string(i));
  EXPECT_EQ(profiler_steps, expected);

  // The workers: the sample files were read there, each exactly once per epoch.
  int64_t bytes = 0;
  for (const auto& w : workers) {
    EXPECT_EQ(w["teye"]["forked_from"], main_trace["teye"]["pid"]);
    for (const auto& e : Events(w, "io", "X"))
      if (e["name"] == "read" && e["args"].value("path", "").find("/sample") != std::string::npos)
        bytes += e["args"]["bytes"].get<int64_t>();
  }
  EXPECT_EQ(bytes, 2 * total_bytes);
}

}  // namespace
}  // namespace teye::test
