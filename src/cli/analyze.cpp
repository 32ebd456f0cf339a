// teye analyze FILE|DIR... — read traces (ranks in parallel), analyse each, print a report;
// with two or more ranks, the cross-rank section too.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "teye/analyzers/analysis.h"
#include "teye/analyzers/cross_rank.h"
#include "teye/import/job_layout.h"
#include "teye/import/read_trace.h"
#include "teye/reports/html_writer.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/markdown_writer.h"
#include "teye/reports/summary_writer.h"
#include "teye/reports/text_writer.h"
#include "teye/version.h"

#include "output.h"
#include "rank_runner.h"
#include "verbs.h"

namespace teye::cli {
namespace {

struct AnalyzeOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string output;  // empty: stdout
  std::string step_regex;
  std::string kernel_classes;
  std::string device_peaks;
  std::string time_unit = "auto";
  std::string color = "auto";
  unsigned threads = 0;
  std::string max_memory;  // "4G"; empty: no budget
  bool summary_only = false;
  bool timings = false;
};

// Directories stand for the trace files directly inside them (*.json, *.json.gz, and Nsight
// Systems exports *.sqlite), by name.
Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (in == "-" || !fs::is_directory(in, ec)) {
      out.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(in, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file(ec) &&
          (name.ends_with(".json") || name.ends_with(".json.gz") || name.ends_with(".sqlite")) &&
          !name.ends_with(".summary.json"))
        found.push_back(entry.path().string());
    }
    if (ec) return Error{"cannot list the directory: " + ec.message(), in};
    if (found.empty())
      return Error{"no trace files (*.json, *.json.gz, *.sqlite) in the directory", in};
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

int RunAnalyze(const AnalyzeOptions& o) {
  KernelClassifier classifier;
  if (!o.kernel_classes.empty()) {
    auto added = classifier.AddRulesFromFile(o.kernel_classes);
    if (!added.ok()) {
      std::fprintf(stderr, "teye: %s\n", added.error().ToString().c_str());
      return kExitBadInput;
    }
  }
  // The user's device lines are tried before the built-in table's.
  DevicePeakTable peaks;
  if (!o.device_peaks.empty()) {
    auto user = DevicePeakTable::ParseFile(o.device_peaks);
    if (!user.ok()) {
      std::fprintf(stderr, "teye: %s\n", user.error().ToString().c_str());
      return kExitBadInput;
    }
    peaks = user.value().Then(DevicePeakTable::Builtin());
  }
  // The one executor: every rank, its parsers and its rules run on it, --threads caps them all.
  Executor executor(o.threads);
  PhaseTimings timings;
  PhaseTimings* timed = o.timings ? &timings : nullptr;
  ScopedPhase total(timed, "total");
  ReadOptions read;
  read.executor = &executor;
  read.timings = timed;
  read.time_unit = o.time_unit == "us"   ? TimeUnitChoice::kMicroseconds
                   : o.time_unit == "ns" ? TimeUnitChoice::kNanoseconds
                                         : TimeUnitChoice::kAuto;
  AnalysisOptions analysis;
  analysis.steps.step_regex = o.step_regex;
  analysis.classifier = &classifier;
  analysis.executor = &executor;
  analysis.timings = timed;
  if (!o.device_peaks.empty()) analysis.device_peaks = &peaks;

  RankRunOptions run;
  run.read = read;
  run.analysis = analysis;
  if (!o.max_memory.empty()) {
    run.max_memory = ParseByteSize(o.max_memory);
    if (run.max_memory <= 0) {
      std::fprintf(stderr, "teye: --max-memory '%s': expected a size such as 512M or 4G\n",
                   o.max_memory.c_str());
      return kExitBadInput;
    }
  }
  auto inputs = ExpandInputs(o.inputs);
  if (!inputs.ok()) {
    std::fprintf(stderr, "teye: %s\n", inputs.error().ToString().c_str());
    return kExitBadInput;
  }
  // One file per process (teye record): children fold into their rank, launchers are no rank.
  const JobLayout layout = PlanJob(inputs.value());
  for (const std::string& note : layout.notes)
    std::fprintf(stderr, "teye: %s\n", note.c_str());
  if (layout.ranks.empty()) {
    std::fprintf(stderr, "teye: none of the traces is a rank (see the notes above)\n");
    return kExitBadInput;
  }
  auto outcomes = AnalyzeRanks(layout.ranks, run);
  if (!outcomes.ok()) {
    std::fprintf(stderr, "teye: %s\n", outcomes.error().ToString().c_str());
    return kExitBadInput;
  }
  std::vector<RankSummary> summaries;
  Report report;
  report.teye_version = std::string(kVersion);
  for (RankOutcome& r : outcomes.value()) {
    summaries.push_back(std::move(r.summary));
    report.ranks.push_back(std::move(r.analysis));
  }
  // --timings goes to stderr when the run ends, whatever it ends with.
  struct PrintTimings {
    PhaseTimings* timings;
    ScopedPhase& total;
    ~PrintTimings() {
      if (!timings) return;
      total.Stop();
      std::fprintf(stderr, "%s", timings->Format().c_str());
    }
  } print_timings{timed, total};
  if (o.summary_only) {
    ScopedPhase write(timed, "report");
    return WriteOutput(o.output, WriteRankSummaries(summaries, kVersion));
  }
  if (summaries.size() >= 2) {
    ScopedPhase cross(timed, "cross-rank");
    report.cross_rank = AnalyzeCrossRank(summaries);
  }
  ScopedPhase write(timed, "report");

  const bool to_tty = o.output.empty() && ::isatty(STDOUT_FILENO);
  std::string text;
  if (o.format == "json") {
    text = WriteJsonReport(report);
  } else if (o.format == "html") {
    text = WriteHtmlReport(report);
  } else if (o.format == "markdown") {
    text = WriteMarkdownReport(report);
  } else {
    TextOptions t;
    t.color = o.color == "always" || (o.color == "auto" && to_tty && !std::getenv("NO_COLOR"));
    t.width = TextColumns(to_tty);
    text = WriteTextReport(report, t);
  }
  return WriteOutput(o.output, text);
}

}  // namespace

VerbRegistration SetupAnalyze(CLI::App& app) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Analyse traces: steps, GPU utilization, where time goes, top kernels, stragglers");
  cmd->add_option("traces", options->inputs,
                  "Trace files (.json or .json.gz, Nsight Systems .sqlite exports; '-' for "
                  "stdin) or directories of them, one per rank")
      ->required();
  cmd->add_option("--format,-f", options->format, "Report format")
      ->check(CLI::IsMember({"text", "json", "markdown", "html"}));
  cmd->add_option("-o,--output", options->output, "Write the report to this file");
  cmd->add_option("--step-regex", options->step_regex,
                  "Regex over annotation names that marks steps when there is no ProfilerStep#N");
  cmd->add_option("--kernel-classes", options->kernel_classes,
                  "File of '<class> <regex>' lines tried before the built-in kernel classes");
  cmd->add_option("--device-peaks", options->device_peaks,
                  "File of GPU peak rates (data/device_peaks.csv's format) tried before the "
                  "built-in table");
  cmd->add_option("--time-unit", options->time_unit,
                  "Unit of ts/dur: auto (µs unless the file says ns and has no fractions), us, ns")
      ->check(CLI::IsMember({"auto", "us", "ns"}));
  cmd->add_option("--color", options->color, "Colour in the text report")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--threads", options->threads,
                  "Threads for all of the work: ranks, parsers, rules (0: one per core)");
  cmd->add_option("--max-memory", options->max_memory,
                  "Memory budget for reading ranks in parallel, e.g. 4G (default: no budget)");
  cmd->add_flag("--summary-only", options->summary_only,
                "Write only the rank summaries that 'teye merge' combines (see docs/scale.md)");
  cmd->add_flag("--timings", options->timings,
                "Print where the time went to stderr: read, model build, each analysis, replay "
                "graph, rules, report (see docs/performance.md)");
  return {cmd, [options] { return RunAnalyze(*options); }};
}

}  // namespace teye::cli
