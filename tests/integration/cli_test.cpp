// The CLI end to end: `teye analyze` on the bundled sample, formats, output file, `teye synth`.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace teye {
namespace {

const std::string kSample = std::string(TEYE_SOURCE_DIR) + "/samples/demo_train.pt.trace.json.gz";

TEST(Cli, AnalyzeSampleText) {
  auto r = test::RunCommand(test::Teye() + " analyze --color never " + kSample);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("WHERE A STEP GOES"), std::string::npos);
  EXPECT_NE(r.out.find("idle: waiting for input"), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no colour when not asked";
  for (size_t start = 0, end; (end = r.out.find('\n', start)) != std::string::npos;
       start = end + 1) {
    std::string line = r.out.substr(start, end - start);
    size_t chars = 0;
    for (unsigned char c : line)
      chars += (c & 0xC0) != 0x80;
    EXPECT_LE(chars, 100u) << line;
  }
}

TEST(Cli, AnalyzeSampleJsonToFile) {
  const std::string out = ::testing::TempDir() + "report.json";
  auto r = test::RunCommand(test::Teye() + " analyze -f json -o " + out + " " + kSample);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(test::Slurp(out));
  EXPECT_EQ(j["schema"], "teye.report/1");
  ASSERT_EQ(j["ranks"].size(), 1u);
  const auto& rank = j["ranks"][0];
  EXPECT_EQ(rank["steps"]["count"], 8);
  EXPECT_GT(rank["gpu_utilization"].get<double>(), 0.5);
  EXPECT_TRUE(rank["temporal"].contains("idle_pct"));
}

TEST(Cli, SynthListAndWrite) {
  auto list = test::RunCommand(test::Teye() + " synth --list");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("comm-no-overlap"), std::string::npos);
  const std::string out = ::testing::TempDir() + "synth.json.gz";
  auto w = test::RunCommand(test::Teye() + " synth -s host-launch --seed 2 --steps 3 -o " + out);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto r = test::RunCommand(test::Teye() + " analyze " + out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto bad = test::RunCommand(test::Teye() + " synth -s nope");
  EXPECT_EQ(bad.exit_code, 2);
}

// --device-peaks: a user's line goes before the built-in table; a broken file is one line and
// exit code 2. The trace is a small A100 step with one recorded GEMM.
TEST(Cli, DevicePeaksFileOverridesTheTable) {
  const std::string dir = ::testing::TempDir();
  const std::string trace = dir + "gemm.json";
  {
    std::ofstream f(trace);
    f << R"({"schemaVersion":1,"deviceProperties":[{"id":0,"name":"NVIDIA A100-SXM4-80GB",)"
         R"("totalGlobalMem":85899345920,"computeMajor":8,"computeMinor":0,"numSms":108}],)"
         R"("traceEvents":[)"
         R"({"ph":"X","cat":"user_annotation","name":"ProfilerStep#1","pid":1,"tid":1,"ts":0,"dur":3000},)"
         R"({"ph":"X","cat":"cpu_op","name":"aten::mm","pid":1,"tid":1,"ts":10,"dur":40,)"
         R"("args":{"Input Dims":[[2048,2048],[2048,2048]],"Input type":["float","float"]}},)"
         R"({"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","pid":1,"tid":1,"ts":20,)"
         R"("dur":2,"args":{"correlation":1}},)"
         R"({"ph":"X","cat":"kernel","name":"ampere_sgemm_128x64_nn","pid":0,"tid":7,"ts":100,)"
         R"("dur":2000,"args":{"device":0,"stream":7,"correlation":1}}]})";
  }
  auto builtin = test::RunCommand(test::Teye() + " analyze -f json " + trace);
  ASSERT_EQ(builtin.exit_code, 0) << builtin.err;
  auto b = nlohmann::json::parse(builtin.out)["ranks"][0]["roofline"];
  EXPECT_EQ(b["device_peaks"], "table");
  EXPECT_EQ(b["peak_tflops"], 19.5);  // FP32 on an A100: the datasheet's vector rate
  EXPECT_EQ(b["peak_gbps"], 2039.0);

  const std::string peaks = dir + "peaks.csv";
  {
    std::ofstream f(peaks);
    f << "# our A100s\nA100,,,1,2,25,,100,200,200,,1500,measured\n";
  }
  auto mine =
      test::RunCommand(test::Teye() + " analyze -f json --device-peaks " + peaks + " " + trace);
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  auto m = nlohmann::json::parse(mine.out)["ranks"][0]["roofline"];
  EXPECT_EQ(m["peak_tflops"], 25.0);
  EXPECT_EQ(m["peak_gbps"], 1500.0);
  EXPECT_EQ(m["peaks_source"], "measured");

  auto text = test::RunCommand(test::Teye() + " analyze --color never " + trace);
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("MICRO-ARCH"), std::string::npos);

  {
    std::ofstream f(peaks);
    f << "A100,1,2\n";
  }
  auto bad = test::RunCommand(test::Teye() + " analyze --device-peaks " + peaks + " " + trace);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("peaks.csv:1: expected 13 comma-separated fields"), std::string::npos)
      << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(test::RunCommand(test::Teye() + " --help").exit_code, 0);
  EXPECT_EQ(test::RunCommand(test::Teye() + " --version").exit_code, 0);
  EXPECT_EQ(test::RunCommand(test::Teye()).exit_code, 2);
}

}  // namespace
}  // namespace teye
