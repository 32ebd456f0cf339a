// teye diff: golden diffs of simulated job pairs where exactly one knob changed (a --fix), the
// kernel change rules on hand-made runs, and the verb end to end.
#include "teye/analyzers/diff.h"

#include <sstream>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/diff_writer.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/report_reader.h"
#include "teye/synth/synth.h"

#include "golden.h"
#include "run_command.h"

namespace teye {
namespace {

RunSummary Simulated(const std::string& scenario, const std::string& fix) {
  auto knobs = synth::ScenarioKnobs(scenario, 1);
  EXPECT_TRUE(knobs.ok());
  synth::Knobs k = knobs.value();
  if (!fix.empty()) {
    auto fixed = synth::ApplyFix(k, fix);
    EXPECT_TRUE(fixed.ok()) << fix;
    k = fixed.value();
  }
  std::ostringstream text;
  synth::Simulate(k, text);
  auto trace = ReadTraceBytes("synth", text.str());
  EXPECT_TRUE(trace.ok());
  auto analysis = AnalyzeTrace(trace.value(), {});
  EXPECT_TRUE(analysis.ok());
  RunSummary r = SummarizeRun(analysis.value());
  r.source = "synth:" + scenario + ":1" + (fix.empty() ? "" : "+" + fix);
  return r;
}

struct Pair {
  const char* scenario;
  const char* fix;
};
void PrintTo(const Pair& p, std::ostream* os) {
  *os << p.scenario << " --fix " << p.fix;
}

class DiffGolden : public ::testing::TestWithParam<Pair> {};

TEST_P(DiffGolden, OneKnobChanged) {
  const Pair p = GetParam();
  const RunDiff d = DiffRuns(Simulated(p.scenario, ""), Simulated(p.scenario, p.fix));
  const std::string base = std::string("diff_") + p.scenario + "+" + p.fix;
  test::ExpectGolden(base + ".txt", WriteDiffText(d));
  test::ExpectGolden(base + ".json", WriteDiffJson(d));
  test::ExpectGolden(base + ".md", WriteDiffMarkdown(d));
}

INSTANTIATE_TEST_SUITE_P(Fixes, DiffGolden,
                         ::testing::Values(Pair{"demo", "dataloader_workers"},
                                           Pair{"compute-fp32", "amp"},
                                           Pair{"comm-no-overlap", "overlap_comm"}),
                         [](const auto& param_info) {
                           std::string n =
                               std::string(param_info.param.scenario) + "_" + param_info.param.fix;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// A saved report reads back into the same summary the analysis gives (to the report's rounding),
// so gate and diff judge a committed baseline like the trace it came from.
TEST(ReportReader, RoundTripsTheSummary) {
  auto knobs = synth::ScenarioKnobs("comm-no-overlap", 1);
  ASSERT_TRUE(knobs.ok());
  std::ostringstream text;
  synth::Simulate(knobs.value(), text);
  auto trace = ReadTraceBytes("synth", text.str());
  ASSERT_TRUE(trace.ok());
  auto analysis = AnalyzeTrace(trace.value(), {});
  ASSERT_TRUE(analysis.ok());
  const RunSummary direct = SummarizeRun(analysis.value());
  Report report;
  report.ranks.push_back(std::move(analysis.value()));
  const std::string json = WriteJsonReport(report);
  ASSERT_TRUE(LooksLikeReport(std::string_view(json).substr(0, 4096)));
  auto read = ReadReportSummary(json, "saved.json");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  const RunSummary& r = read.value();
  ASSERT_EQ(r.steps.size(), direct.steps.size());
  for (size_t i = 0; i < r.steps.size(); ++i) {
    EXPECT_NEAR(r.steps[i].duration_ms, direct.steps[i].duration_ms, 1e-3);
    EXPECT_NEAR(r.steps[i].gpu_utilization, direct.steps[i].gpu_utilization, 1e-4);
    for (size_t c = 0; c < kTimeCategoryCount; ++c)
      EXPECT_NEAR(r.steps[i].ms[c], direct.steps[i].ms[c], 1e-3);
  }
  EXPECT_EQ(r.bound_class, direct.bound_class);
  EXPECT_FALSE(r.bound_class.empty());
  ASSERT_EQ(r.bound_shares.size(), direct.bound_shares.size());
  for (size_t i = 0; i < r.bound_shares.size(); ++i) {
    EXPECT_EQ(r.bound_shares[i].first, direct.bound_shares[i].first);
    EXPECT_NEAR(r.bound_shares[i].second, direct.bound_shares[i].second, 1e-4);
  }
  ASSERT_EQ(r.classes.size(), direct.classes.size());
  ASSERT_EQ(r.top_kernels.size(), direct.top_kernels.size());
  for (size_t i = 0; i < r.top_kernels.size(); ++i) {
    EXPECT_EQ(r.top_kernels[i].name, direct.top_kernels[i].name);
    EXPECT_NEAR(r.top_kernels[i].mean_us, direct.top_kernels[i].mean_us, 1e-3);
  }
  EXPECT_FALSE(LooksLikeReport(text.str().substr(0, 4096))) << "a trace is not a report";
}

TEST(Diff, SameRunChangesNothing) {
  const RunSummary a = Simulated("demo", "");
  const RunDiff d = DiffRuns(a, a);
  EXPECT_EQ(d.step_ms.delta(), 0);
  EXPECT_EQ(d.gpu_util.delta(), 0);
  EXPECT_TRUE(d.kernels.empty());
  for (const MsChange& m : d.categories)
    EXPECT_EQ(m.delta_ms(), 0) << m.key;
}

TEST(Diff, KernelsAppearVanishAndSlowDown) {
  RunSummary a, b;
  a.steps.resize(2);
  b.steps.resize(2);
  a.top_kernels = {{"gemm", "gemm_simt", 10, 10, 1000},
                   {"old", "elementwise", 10, 1, 100},
                   {"same", "reduction", 10, 1, 100}};
  b.top_kernels = {{"gemm", "gemm_simt", 10, 20, 2000},
                   {"new", "attention", 10, 2, 200},
                   {"same", "reduction", 10, 1.05, 105}};
  const RunDiff d = DiffRuns(a, b);
  ASSERT_EQ(d.kernels.size(), 3u);
  EXPECT_EQ(d.kernels[0].kind, KernelChangeKind::kAppeared);
  EXPECT_EQ(d.kernels[0].name, "new");
  EXPECT_EQ(d.kernels[1].kind, KernelChangeKind::kVanished);
  EXPECT_EQ(d.kernels[1].name, "old");
  EXPECT_EQ(d.kernels[2].kind, KernelChangeKind::kSlower);
  EXPECT_DOUBLE_EQ(d.kernels[2].b_ms_per_step, 10);
}

TEST(DiffCli, TracesAndSavedReports) {
  const std::string dir = ::testing::TempDir() + "teye_diff_" + std::to_string(::getpid()) + "/";
  ASSERT_EQ(test::RunCommand("mkdir -p " + dir).exit_code, 0);
  for (const std::string& cmd :
       {" synth -s demo -o " + dir + "a.json.gz",
        " synth -s demo --fix dataloader_workers -o " + dir + "b.json.gz",
        " analyze -f json -o " + dir + "a.report.json " + dir + "a.json.gz"}) {
    auto r = test::RunCommand(test::Teye() + cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
  }
  auto text =
      test::RunCommand(test::Teye() + " diff " + dir + "a.report.json " + dir + "b.json.gz");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("STEP TIME"), std::string::npos);
  auto json =
      test::RunCommand(test::Teye() + " diff -f json " + dir + "a.json.gz " + dir + "b.json.gz");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"schema\": \"teye.diff/1\""), std::string::npos);
  auto md = test::RunCommand(test::Teye() + " diff -f markdown " + dir + "a.json.gz " + dir +
                             "b.json.gz");
  EXPECT_EQ(md.exit_code, 0);
  EXPECT_NE(md.out.find("| step time (median) |"), std::string::npos);
  EXPECT_EQ(test::RunCommand(test::Teye() + " diff " + dir + "a.json.gz").exit_code, 2);
  EXPECT_EQ(test::RunCommand(test::Teye() + " diff " + dir + "a.json.gz " + dir + "nope").exit_code,
            2);
  EXPECT_EQ(
      test::RunCommand(test::Teye() + " diff -f yaml " + dir + "a.json.gz " + dir + "b.json.gz")
          .exit_code,
      2);
}

}  // namespace
}  // namespace teye
