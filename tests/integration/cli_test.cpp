// The CLI end to end: `teye analyze` on the bundled sample, formats, output file, `teye synth`.
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

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(test::RunCommand(test::Teye() + " --help").exit_code, 0);
  EXPECT_EQ(test::RunCommand(test::Teye() + " --version").exit_code, 0);
  EXPECT_EQ(test::RunCommand(test::Teye()).exit_code, 2);
}

}  // namespace
}  // namespace teye
