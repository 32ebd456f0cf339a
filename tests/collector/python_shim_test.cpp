// The Python auto-instrumentation shim (collectors/python/sitecustomize.py) in Debian's python3:
// it chains to the user's own sitecustomize, does nothing without the collector, never imports
// torch itself, and marks DataLoader __next__ and optimizer steps (here with a stand-in torch
// package that has the classes it patches; the real torch is in torch_shim_test.cpp).
#include "collector_test_util.h"

namespace teye::test {
namespace {

const std::string kScripts = std::string(TEYE_COLLECTOR_TEST_DIR) + "/python";

std::map<std::string, std::string> ShimEnv(const std::string& out_dir, bool with_collector,
                                           bool fake_torch) {
  std::map<std::string, std::string> env;
  if (with_collector) env = CollectorEnv(out_dir);
  std::string path = std::string(TEYE_PYTHON_SHIM_DIR) + ":" + kScripts + "/user_site";
  if (fake_torch) path += ":" + kScripts + "/fake_torch";
  env["PYTHONPATH"] = path;
  env["PYTHONDONTWRITEBYTECODE"] = "1";
  return env;
}

nlohmann::json Report(const ProcessResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

TEST(PythonShim, ChainsToTheUsersSitecustomizeAndLeavesTorchAlone) {
  TempDir dir;
  ProcessResult r = RunProgram({TEYE_SYSTEM_PYTHON, kScripts + "/shim_probe.py"},
                               ShimEnv(dir.path(), true, false), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = Report(r);
  EXPECT_EQ(j["user_sitecustomize"], true);
  EXPECT_NE(r.err.find("user sitecustomize ran"), std::string::npos);
  EXPECT_EQ(j["torch_imported_at_start"], false);
  EXPECT_EQ(j["finder_installed"], true);
}

TEST(PythonShim, DoesNothingWithoutTheCollector) {
  TempDir dir;
  ProcessResult r = RunProgram({TEYE_SYSTEM_PYTHON, kScripts + "/shim_probe.py"},
                               ShimEnv(dir.path(), false, false), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = Report(r);
  EXPECT_EQ(j["finder_installed"], false);
  EXPECT_EQ(j["user_sitecustomize"], true);
  EXPECT_EQ(r.err, "user sitecustomize ran\n");
}

TEST(PythonShim, CanBeSwitchedOff) {
  TempDir dir;
  auto env = ShimEnv(dir.path(), true, false);
  env["TEYE_PYTHON_SHIM"] = "0";
  ProcessResult r =
      RunProgram({TEYE_SYSTEM_PYTHON, kScripts + "/shim_probe.py"}, env, CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Report(r)["finder_installed"], false);
}

TEST(PythonShim, MarksDataLoaderIterationsAndOptimizerSteps) {
  TempDir dir;
  ProcessResult r = RunProgram({TEYE_SYSTEM_PYTHON, kScripts + "/shim_probe.py", "use-torch"},
                               ShimEnv(dir.path(), true, true), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = Report(r);
  EXPECT_EQ(j["items"], nlohmann::json::array({1, 2, 3}));  // the job's behaviour is unchanged
  EXPECT_EQ(j["step_name"], "step");
  auto traces = ListDir(dir.path(), ".pt.trace.json");
  ASSERT_EQ(traces.size(), 1u);
  nlohmann::json t = LoadJson(traces[0]);
  auto loader = Events(t, "dataloader", "X");
  ASSERT_EQ(loader.size(), 4u);  // three items and the StopIteration
  for (const auto& e : loader) {
    EXPECT_EQ(e["name"], "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__");
    EXPECT_GE(e["dur"].get<double>(), 0);
  }
  std::vector<nlohmann::json> optimizer, profiler_steps;
  for (const auto& e : Events(t, "user_annotation", "X"))
    (e["name"] == "Optimizer.step#SGD.step" ? optimizer : profiler_steps).push_back(e);
  EXPECT_EQ(optimizer.size(), 4u);
  // Steps as the PyTorch profiler names them: three DataLoader iterations before any optimizer
  // step (each ended by the next iteration; the StopIteration starts none), then one per
  // optimizer step.
  ASSERT_EQ(profiler_steps.size(), 7u);
  auto by_time = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["ts"].get<double>() < b["ts"].get<double>();
  };
  std::sort(profiler_steps.begin(), profiler_steps.end(), by_time);
  std::sort(loader.begin(), loader.end(), by_time);
  for (size_t i = 0; i < profiler_steps.size(); ++i)
    EXPECT_EQ(profiler_steps[i]["name"], "ProfilerStep#" + std::to_string(i));
  EXPECT_DOUBLE_EQ(profiler_steps[1]["ts"].get<double>(), loader[1]["ts"].get<double>());
}

}  // namespace
}  // namespace teye::test
