// Golden tests: a trace in, the report out, compared with the reviewed expected report.
#include "golden.h"

#include <sstream>

#include <gtest/gtest.h>
#include <zlib.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/text_writer.h"
#include "teye/synth/synth.h"

namespace teye {
namespace {

Report ReportFor(const Trace& trace, const std::string& shown_name) {
  auto analysis = AnalyzeTrace(trace, {});
  EXPECT_TRUE(analysis.ok());
  Report report;
  report.teye_version = "golden";
  report.ranks.push_back(std::move(analysis.value()));
  report.ranks.back().file = shown_name;  // relative, so goldens do not depend on the checkout
  return report;
}

TEST(Golden, DemoSampleReport) {
  const std::string rel = "samples/demo_train.pt.trace.json.gz";
  auto trace = ReadTraceFile(std::string(TEYE_SOURCE_DIR) + "/" + rel);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  Report report = ReportFor(trace.value(), rel);
  test::ExpectGolden("demo_train.report.json", WriteJsonReport(report));
  test::ExpectGolden("demo_train.report.txt", WriteTextReport(report));
}

// Each scenario family once, generated in process (the simulator is deterministic).
class GoldenScenario : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenScenario, Report) {
  auto knobs = synth::ScenarioKnobs(GetParam(), 1);
  ASSERT_TRUE(knobs.ok());
  std::ostringstream text;
  synth::Simulate(knobs.value(), text);
  auto trace = ReadTraceBytes("synth", text.str());
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  Report report = ReportFor(trace.value(), std::string("synth:") + GetParam() + ":1");
  test::ExpectGolden(std::string("synth_") + GetParam() + ".report.json", WriteJsonReport(report));
}

INSTANTIATE_TEST_SUITE_P(Scenarios, GoldenScenario,
                         ::testing::Values("comm-no-overlap", "host-launch", "input-pageable"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// The bundled sample is the simulator's own output, not a copied trace: byte for byte.
TEST(Golden, DemoSampleIsReproducedBySynth) {
  auto knobs = synth::ScenarioKnobs("demo", 1);
  ASSERT_TRUE(knobs.ok());
  std::ostringstream text;
  synth::Simulate(knobs.value(), text);
  const std::string path = std::string(TEYE_SOURCE_DIR) + "/samples/demo_train.pt.trace.json.gz";
  gzFile f = gzopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << path;
  std::string file_text;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;)
    file_text.append(buf, static_cast<size_t>(n));
  gzclose(f);
  EXPECT_TRUE(file_text == text.str())
      << "samples/demo_train.pt.trace.json.gz is stale: regenerate it with "
         "`teye synth --scenario demo --seed 1 -o samples/demo_train.pt.trace.json.gz`";
}

}  // namespace
}  // namespace teye
