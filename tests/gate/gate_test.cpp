// teye gate: the verdict logic on hand-made runs, then the verb end to end on simulated traces
// (exit codes, the one-line verdict, saved-report baselines, JUnit XML, GitHub annotations).
#include "teye/analyzers/gate.h"

#include <fstream>

#include <gtest/gtest.h>

#include "teye/reports/gate_writer.h"

#include "mini_xml.h"
#include "run_command.h"

namespace teye {
namespace {

RunSummary MakeRun(int steps, double step_ms, double util, double input_share = 0) {
  RunSummary r;
  r.source = "run.json";
  for (int i = 0; i < steps; ++i) {
    StepSample s;
    s.step = i;
    s.duration_ms = step_ms;
    s.gpu_utilization = util;
    s.ms[static_cast<size_t>(TimeCategory::kInput)] = input_share * step_ms;
    s.ms[static_cast<size_t>(TimeCategory::kCompute)] = (1 - input_share) * step_ms;
    r.steps.push_back(s);
  }
  return r;
}

GateResult Evaluate(const RunSummary& run, const GateOptions& o,
                    const RunSummary* baseline = nullptr) {
  auto r = EvaluateGate(run, baseline, o);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? r.value() : GateResult{};
}

TEST(GateVerdict, PassesWithinEveryLimit) {
  GateOptions o;
  o.min_gpu_util = 0.8;
  o.max_step_ms = 120;
  o.max_shares = {{"input", 0.10}};
  GateResult r = Evaluate(MakeRun(5, 100, 0.9, 0.05), o);
  EXPECT_EQ(r.verdict, GateVerdict::kPass);
  EXPECT_EQ(r.checks.size(), 3u);
  EXPECT_EQ(r.Failures(), 0);
}

TEST(GateVerdict, MediansIgnoreOneOutlierStep) {
  RunSummary run = MakeRun(5, 100, 0.9);
  run.steps[2].duration_ms = 10'000;  // a checkpoint step
  run.steps[2].gpu_utilization = 0.01;
  GateOptions o;
  o.min_gpu_util = 0.8;
  o.max_step_ms = 120;
  EXPECT_EQ(Evaluate(run, o).verdict, GateVerdict::kPass);
}

TEST(GateVerdict, FailsOnEachThreshold) {
  const RunSummary run = MakeRun(5, 100, 0.7, 0.2);
  GateOptions util;
  util.min_gpu_util = 0.8;
  GateOptions step;
  step.max_step_ms = 90;
  GateOptions share;
  share.max_shares = {{"input", 0.10}};
  for (const GateOptions& o : {util, step, share}) {
    GateResult r = Evaluate(run, o);
    EXPECT_EQ(r.verdict, GateVerdict::kFail);
    ASSERT_EQ(r.checks.size(), 1u);
    EXPECT_FALSE(r.checks[0].passed) << r.checks[0].id;
  }
}

TEST(GateVerdict, FailsOnRegressionAgainstBaseline) {
  const RunSummary base = MakeRun(5, 100, 0.90);
  GateOptions o;  // defaults: 5% slower, 3 points of utilization
  GateResult slower = Evaluate(MakeRun(5, 106, 0.90), o, &base);
  EXPECT_EQ(slower.verdict, GateVerdict::kFail);
  EXPECT_EQ(slower.checks[0].id, "max_step_regression");
  EXPECT_FALSE(slower.checks[0].passed);
  GateResult less_util = Evaluate(MakeRun(5, 100, 0.86), o, &base);
  EXPECT_EQ(less_util.verdict, GateVerdict::kFail);
  EXPECT_FALSE(less_util.checks[1].passed);
  o.max_step_regression = 0.10;
  o.max_util_drop_pts = 5;
  EXPECT_EQ(Evaluate(MakeRun(5, 106, 0.86), o, &base).verdict, GateVerdict::kPass);
}

TEST(GateVerdict, RefusesTooFewSteps) {
  GateOptions o;
  o.min_gpu_util = 0.5;
  GateResult r = Evaluate(MakeRun(2, 100, 0.9), o);
  EXPECT_EQ(r.verdict, GateVerdict::kRefused);
  EXPECT_NE(r.refusal.find("2 complete step(s)"), std::string::npos) << r.refusal;
  const RunSummary base = MakeRun(1, 100, 0.9);
  EXPECT_EQ(Evaluate(MakeRun(5, 100, 0.9), o, &base).verdict, GateVerdict::kRefused);
  o.min_steps = 2;
  EXPECT_EQ(Evaluate(MakeRun(2, 100, 0.9), o).verdict, GateVerdict::kPass);
  GateResult none = Evaluate(MakeRun(0, 0, 0), o);
  EXPECT_EQ(none.verdict, GateVerdict::kRefused);
  EXPECT_NE(none.refusal.find("no complete step with GPU activity"), std::string::npos);
}

TEST(GateVerdict, RefusesGpuUtilizationOfARunWithoutAGpu) {
  RunSummary run = MakeRun(5, 100, 0);
  run.host_timeline = true;
  GateOptions o;
  o.max_step_ms = 200;
  EXPECT_EQ(Evaluate(run, o).verdict, GateVerdict::kPass);  // step times are still judged
  o.min_gpu_util = 0.5;
  const GateResult r = Evaluate(run, o);
  EXPECT_EQ(r.verdict, GateVerdict::kRefused);
  EXPECT_NE(r.refusal.find("no GPU activity"), std::string::npos) << r.refusal;
}

TEST(GateVerdict, UnknownShareIsAnError) {
  GateOptions o;
  o.max_shares = {{"inptu", 0.1}};
  auto r = EvaluateGate(MakeRun(5, 100, 0.9), nullptr, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("inptu"), std::string::npos);
}

TEST(GateVerdict, BoundSharesWinOverBreakdownCategories) {
  RunSummary run = MakeRun(5, 100, 0.9, 0.05);
  run.bound_shares = {{"input", 0.30}, {"host", 0.02}};
  GateOptions o;
  o.max_shares = {{"input", 0.10}, {"host", 0.05}, {"launch", 0.01}};
  GateResult r = Evaluate(run, o);
  ASSERT_EQ(r.checks.size(), 3u);
  EXPECT_FALSE(r.checks[0].passed);  // the bound share, 30%, not the breakdown's 5%
  EXPECT_TRUE(r.checks[1].passed);
  EXPECT_TRUE(r.checks[2].passed);
}

TEST(GateVerdict, NearMissIsAWarning) {
  GateOptions o;
  o.min_gpu_util = 0.80;
  GateResult r = Evaluate(MakeRun(5, 100, 0.81), o);
  EXPECT_EQ(r.verdict, GateVerdict::kPass);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(GithubAnnotations(r, "t.json").find("::warning title=teye gate%3A t.json::"),
            std::string::npos);
}

// JUnit structure as CI systems read it: testsuites > testsuite > testcase [> failure|error].
void ExpectJunitStructure(const std::string& xml, size_t tests, int failures, int errors) {
  std::string error;
  auto root = test::ParseXml(xml, &error);
  ASSERT_TRUE(root) << error << "\n" << xml;
  EXPECT_EQ(root->name, "testsuites");
  for (const char* a : {"name", "tests", "failures", "errors"})
    EXPECT_TRUE(root->Has(a)) << "testsuites@" << a;
  auto suites = root->Children("testsuite");
  ASSERT_EQ(suites.size(), 1u);
  const test::XmlElement& suite = *suites[0];
  for (const char* a : {"name", "tests", "failures", "errors", "skipped", "time"})
    EXPECT_TRUE(suite.Has(a)) << "testsuite@" << a;
  EXPECT_EQ(suite.attrs.at("tests"), std::to_string(tests));
  EXPECT_EQ(suite.attrs.at("failures"), std::to_string(failures));
  EXPECT_EQ(suite.attrs.at("errors"), std::to_string(errors));
  EXPECT_EQ(root->attrs.at("tests"), std::to_string(tests));
  auto cases = suite.Children("testcase");
  ASSERT_EQ(cases.size(), tests);
  int seen_failures = 0, seen_errors = 0;
  for (const auto* c : cases) {
    EXPECT_TRUE(c->Has("name") && c->Has("classname") && c->Has("time"));
    for (const auto* f : c->Children("failure")) {
      EXPECT_TRUE(f->Has("message") && f->Has("type"));
      ++seen_failures;
    }
    for (const auto* e : c->Children("error")) {
      EXPECT_TRUE(e->Has("message") && e->Has("type"));
      ++seen_errors;
    }
  }
  EXPECT_EQ(seen_failures, failures);
  EXPECT_EQ(seen_errors, errors);
}

TEST(GateJunit, PassFailAndRefusalAreWellFormed) {
  GateOptions o;
  o.min_gpu_util = 0.8;
  o.max_step_ms = 90;
  o.max_shares = {{"input", 0.5}};
  GateResult r = Evaluate(MakeRun(5, 100, 0.9, 0.1), o);
  ExpectJunitStructure(WriteJunitXml(r, "a <weird> & \"name\".json"), 3, 1, 0);
  GateResult refused = Evaluate(MakeRun(1, 100, 0.9), o);
  ExpectJunitStructure(WriteJunitXml(refused, "x.json"), 1, 0, 1);
}

// ---- the verb end to end ----

class GateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = ::testing::TempDir() + "teye_gate_" + std::to_string(::getpid()) + "/";
    ASSERT_EQ(test::RunCommand("mkdir -p " + dir_).exit_code, 0);
    // A DataLoader-bound job, the same job with enough workers, and a two-step trace.
    for (const std::string& cmd :
         {" synth -s demo -o " + dir_ + "slow.json.gz",
          " synth -s demo --fix dataloader_workers -o " + dir_ + "fast.json.gz",
          " synth -s demo --steps 2 -o " + dir_ + "short.json.gz",
          " analyze -f json -o " + dir_ + "fast.report.json " + dir_ + "fast.json.gz"}) {
      auto r = test::RunCommand(test::Teye() + cmd);
      ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    }
  }
  static test::CommandResult Gate(const std::string& args) {
    return test::RunCommand("env -u GITHUB_ACTIONS " + test::Teye() + " gate " + args);
  }
  static std::string dir_;
};
std::string GateCli::dir_;

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    n += c == '\n';
  return n;
}

TEST_F(GateCli, PassPrintsOneLine) {
  auto r = Gate(dir_ + "fast.json.gz --min-gpu-util 0.9 --max-step-ms 250 --max-share input=0.05");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Lines(r.out), 1u) << r.out;
  EXPECT_EQ(r.out.rfind("teye gate: PASS", 0), 0u) << r.out;
}

TEST_F(GateCli, FailsOnEachThreshold) {
  for (const std::string flags : {"--min-gpu-util 0.95", "--min-gpu-util 95%", "--max-step-ms 200",
                                  "--max-share input=0.10", "--max-share compute=0.5,input=10%"}) {
    auto r = Gate(dir_ + "slow.json.gz " + flags);
    EXPECT_EQ(r.exit_code, 1) << flags << ": " << r.out << r.err;
    EXPECT_EQ(Lines(r.out), 1u) << r.out;
    EXPECT_EQ(r.out.rfind("teye gate: FAIL", 0), 0u) << r.out;
  }
}

TEST_F(GateCli, SharesOfBoundClassesAndBreakdownCategories) {
  // The demo job is input-bound: ~30% input, ~0% host; launch is a breakdown category.
  EXPECT_EQ(
      Gate(dir_ + "slow.json.gz --max-share host=0.02,launch=0.01,memory_bound=0.1").exit_code, 0);
  EXPECT_EQ(Gate(dir_ + "slow.json.gz --max-share input=0.25").exit_code, 1);
  EXPECT_EQ(Gate(dir_ + "slow.json.gz --max-share unassigned=0.5").exit_code, 0);
}

TEST_F(GateCli, FailsOnRegressionAgainstSavedBaseline) {
  auto r = Gate(dir_ + "slow.json.gz --baseline " + dir_ +
                "fast.report.json --max-step-regression 5% --max-util-drop 3");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("against the baseline"), std::string::npos) << r.out;
  // The fixed job against the slow one as baseline is an improvement: pass.
  auto better = Gate(dir_ + "fast.report.json --baseline " + dir_ + "slow.json.gz");
  EXPECT_EQ(better.exit_code, 0) << better.out << better.err;
}

TEST_F(GateCli, SavedReportJudgesLikeTheTrace) {
  auto trace = Gate(dir_ + "fast.json.gz --min-gpu-util 0.9");
  auto report = Gate(dir_ + "fast.report.json --min-gpu-util 0.9");
  EXPECT_EQ(trace.exit_code, 0);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(trace.out, report.out);
}

TEST_F(GateCli, TooFewStepsIsExit2) {
  auto r = Gate(dir_ + "short.json.gz --min-gpu-util 0.1");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("REFUSED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--min-steps"), std::string::npos) << r.out;
  EXPECT_EQ(Gate(dir_ + "short.json.gz --min-gpu-util 0.1 --min-steps 1").exit_code, 0);
  EXPECT_EQ(Gate(dir_ + "fast.json.gz --min-steps 9").exit_code, 2);
}

TEST_F(GateCli, MalformedBaselineIsExit2) {
  const std::string bad = dir_ + "bad.report.json";
  std::ofstream(bad)
      << "{\"schema\": \"teye.report/1\", \"ranks\": [{\"breakdown\": {\"per_step\": "
         "[{\"duration_ms\": \"x\"}]}}]}";
  const std::string junk = dir_ + "junk.json";
  std::ofstream(junk) << "{\"schema\": \"teye.report/1\", \"ranks\": [";
  const std::string other = dir_ + "other.json";
  std::ofstream(other) << "{\"schema\": \"teye.report/99\", \"ranks\": []}";
  for (const std::string& b : {bad, junk, other, dir_ + "missing.json"}) {
    auto r = Gate(dir_ + "fast.json.gz --baseline " + b);
    EXPECT_EQ(r.exit_code, 2) << b << ": " << r.out << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(b), std::string::npos) << "the error names the file: " << r.err;
  }
}

TEST_F(GateCli, UsageErrorsAreExit2) {
  for (const std::string& args :
       {dir_ + "fast.json.gz --no-such-option", dir_ + "fast.json.gz --min-gpu-util 80",
        dir_ + "fast.json.gz --min-gpu-util lots", dir_ + "fast.json.gz --max-share inptu=0.1",
        dir_ + "fast.json.gz --max-share input", dir_ + "fast.json.gz --max-util-drop 3",
        std::string()}) {
    auto r = Gate(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out << r.err;
  }
}

TEST_F(GateCli, JunitFileAndGithubAnnotations) {
  const std::string junit = dir_ + "gate.xml";
  auto r = test::RunCommand("GITHUB_ACTIONS=true " + test::Teye() + " gate " + dir_ +
                            "slow.json.gz --min-gpu-util 0.95 --max-step-ms 1000 --junit " + junit);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("::error title=teye gate%3A "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median GPU utilization"), std::string::npos) << r.out;
  ExpectJunitStructure(test::Slurp(junit), 2, 1, 0);
  auto quiet = Gate(dir_ + "slow.json.gz --min-gpu-util 0.95");
  EXPECT_EQ(quiet.out.find("::error"), std::string::npos) << "annotations only under Actions";
}

}  // namespace
}  // namespace teye
