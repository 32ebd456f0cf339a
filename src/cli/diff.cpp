// teye diff A B — what changed between two runs (traces or saved reports).
#include "teye/analyzers/diff.h"

#include <cstdio>

#include "teye/reports/diff_writer.h"

#include "output.h"
#include "run_loader.h"
#include "verbs.h"

namespace teye::cli {
namespace {

struct DiffCliOptions {
  std::string a;
  std::string b;
  std::string format = "text";
  std::string output;
  std::string step_regex;
  unsigned threads = 0;
};

int RunDiff(const DiffCliOptions& o) {
  RunLoadOptions load{o.step_regex, o.threads};
  auto a = LoadRun(o.a, load);
  if (!a.ok()) {
    std::fprintf(stderr, "teye diff: %s\n", a.error().ToString().c_str());
    return kExitBadInput;
  }
  auto b = LoadRun(o.b, load);
  if (!b.ok()) {
    std::fprintf(stderr, "teye diff: %s\n", b.error().ToString().c_str());
    return kExitBadInput;
  }
  const teye::RunDiff d = DiffRuns(a.value(), b.value());
  const std::string text = o.format == "json"       ? WriteDiffJson(d)
                           : o.format == "markdown" ? WriteDiffMarkdown(d)
                                                    : WriteDiffText(d);
  return WriteOutput(o.output, text);
}

}  // namespace

VerbRegistration SetupDiff(CLI::App& app) {
  auto o = std::make_shared<DiffCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare two runs: step time, GPU utilization, breakdown, kernel classes, kernels");
  cmd->add_option("before", o->a, "Trace or saved report JSON (A)")->required();
  cmd->add_option("after", o->b, "Trace or saved report JSON (B)")->required();
  cmd->add_option("--format,-f", o->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  cmd->add_option("-o,--output", o->output, "Write the diff to this file");
  cmd->add_option("--step-regex", o->step_regex,
                  "Regex over annotation names that marks steps when there is no ProfilerStep#N");
  cmd->add_option("--threads", o->threads, "Parser threads (0: one per core)");
  return {cmd, [o] { return RunDiff(*o); }};
}

}  // namespace teye::cli
