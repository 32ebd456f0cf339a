// teye gate TRACE|REPORT.json — pass/fail a run against thresholds and a baseline, for CI.
#include "teye/analyzers/gate.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "teye/reports/gate_writer.h"

#include "run_loader.h"
#include "verbs.h"

namespace teye::cli {
namespace {

struct GateCliOptions {
  std::string input;
  std::string baseline;
  std::string min_gpu_util;
  std::optional<double> max_step_ms;
  std::string max_share;
  std::string max_step_regression;
  std::optional<double> max_util_drop;
  int min_steps = 3;
  std::string junit;
  std::string step_regex;
  unsigned threads = 0;
};

// "0.8" or "80%" → 0.8. Bare numbers above 1 are refused: they are almost surely percentages.
Result<double> ParseFraction(const std::string& flag, const std::string& text) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || v < 0)
    return Error{flag + ": '" + text + "' is not a number (write 0.80 or 80%)"};
  if (percent) return v / 100;
  if (v > 1) return Error{flag + ": " + text + " is above 1; write a fraction (0.80) or 80%"};
  return v;
}

// "5%" or "5" → 0.05: the regression limit is always in percent.
Result<double> ParsePercent(const std::string& flag, const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '%') t.pop_back();
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || v < 0)
    return Error{flag + ": '" + text + "' is not a percentage (write 5%)"};
  return v / 100;
}

Result<std::vector<ShareLimit>> ParseShares(const std::string& text) {
  std::vector<ShareLimit> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error{"--max-share: '" + item + "' is not KEY=VALUE (e.g. input=0.10)"};
    auto v = ParseFraction("--max-share " + item.substr(0, eq), item.substr(eq + 1));
    if (!v.ok()) return v.error();
    out.push_back({item.substr(0, eq), v.value()});
    start = comma + 1;
  }
  return out;
}

int Fail(const Error& e) {
  std::fprintf(stderr, "teye gate: %s\n", e.ToString().c_str());
  return kExitBadInput;
}

int RunGate(const GateCliOptions& o) {
  GateOptions g;
  g.min_steps = o.min_steps;
  g.max_step_ms = o.max_step_ms;
  g.max_util_drop_pts = o.max_util_drop;
  if (!o.min_gpu_util.empty()) {
    auto v = ParseFraction("--min-gpu-util", o.min_gpu_util);
    if (!v.ok()) return Fail(v.error());
    g.min_gpu_util = v.value();
  }
  if (!o.max_share.empty()) {
    auto v = ParseShares(o.max_share);
    if (!v.ok()) return Fail(v.error());
    g.max_shares = std::move(v.value());
  }
  if (!o.max_step_regression.empty()) {
    auto v = ParsePercent("--max-step-regression", o.max_step_regression);
    if (!v.ok()) return Fail(v.error());
    g.max_step_regression = v.value();
  }
  if (o.baseline.empty() && (g.max_step_regression || g.max_util_drop_pts))
    return Fail(Error{"--max-step-regression and --max-util-drop need --baseline"});

  RunLoadOptions load{o.step_regex, o.threads};
  auto run = LoadRun(o.input, load);
  if (!run.ok()) return Fail(run.error());
  std::optional<RunSummary> baseline;
  if (!o.baseline.empty()) {
    auto b = LoadRun(o.baseline, load);
    if (!b.ok()) return Fail(b.error());
    baseline = std::move(b.value());
  }
  auto result = EvaluateGate(run.value(), baseline ? &*baseline : nullptr, g);
  if (!result.ok()) return Fail(result.error());
  const GateResult& r = result.value();

  if (!o.junit.empty()) {
    std::ofstream out(o.junit, std::ios::binary);
    out << WriteJunitXml(r, o.input);
    if (!out) return Fail(Error{"cannot write the JUnit report", o.junit});
  }
  const char* gha = std::getenv("GITHUB_ACTIONS");
  if (gha && std::string(gha) == "true") {
    std::fputs(GithubAnnotations(r, o.input).c_str(), stdout);
  } else {
    for (const std::string& w : r.warnings)
      std::fprintf(stderr, "teye gate: warning: %s\n", w.c_str());
  }
  std::printf("%s\n", GateVerdictLine(r).c_str());
  switch (r.verdict) {
    case GateVerdict::kPass:
      return kExitOk;
    case GateVerdict::kFail:
      return kExitFail;
    case GateVerdict::kRefused:
      return kExitBadInput;
  }
  return kExitBadInput;
}

}  // namespace

VerbRegistration SetupGate(CLI::App& app) {
  auto o = std::make_shared<GateCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "gate", "Pass or fail a run for CI: exit 0 pass, 1 fail, 2 bad input or too few steps");
  cmd->add_option("input", o->input, "Trace, or a report saved by `teye analyze --format json`")
      ->required();
  cmd->add_option("--min-gpu-util", o->min_gpu_util,
                  "Fail when the median GPU utilization over steps is below this (0.80 or 80%)");
  cmd->add_option("--max-step-ms", o->max_step_ms,
                  "Fail when the median step time is above this many milliseconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
      "--max-share", o->max_share,
      "Fail when a share of the step exceeds its limit: input=0.10,communication=5%,... "
      "(bound classes or breakdown categories, see docs/metrics.md)");
  cmd->add_option("--baseline", o->baseline, "Trace or saved report to compare against");
  cmd->add_option("--max-step-regression", o->max_step_regression,
                  "With --baseline: fail when the median step is this much slower (default 5%)");
  cmd->add_option("--max-util-drop", o->max_util_drop,
                  "With --baseline: fail when the median GPU utilization drops by more than this "
                  "many percentage points (default 3)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-steps", o->min_steps,
                  "Refuse to judge (exit 2) with fewer complete steps than this")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--junit", o->junit, "Also write the verdict as JUnit XML to this file");
  cmd->add_option("--step-regex", o->step_regex,
                  "Regex over annotation names that marks steps when there is no ProfilerStep#N");
  cmd->add_option("--threads", o->threads, "Parser threads (0: one per core)");
  return {cmd, [o] { return RunGate(*o); }};
}

}  // namespace teye::cli
