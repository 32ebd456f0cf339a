// teye analyze FILE... — read traces, analyse each, print a report.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/html_writer.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/markdown_writer.h"
#include "teye/reports/text_writer.h"
#include "teye/version.h"

#include "verbs.h"

namespace teye::cli {
namespace {

struct AnalyzeOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string output;  // empty: stdout
  std::string step_regex;
  std::string kernel_classes;
  std::string time_unit = "auto";
  std::string color = "auto";
  unsigned threads = 0;
};

int RunAnalyze(const AnalyzeOptions& o) {
  KernelClassifier classifier;
  if (!o.kernel_classes.empty()) {
    auto added = classifier.AddRulesFromFile(o.kernel_classes);
    if (!added.ok()) {
      std::fprintf(stderr, "teye: %s\n", added.error().ToString().c_str());
      return kExitBadInput;
    }
  }
  ReadOptions read;
  read.threads = o.threads;
  read.time_unit = o.time_unit == "us"   ? TimeUnitChoice::kMicroseconds
                   : o.time_unit == "ns" ? TimeUnitChoice::kNanoseconds
                                         : TimeUnitChoice::kAuto;
  AnalysisOptions analysis;
  analysis.steps.step_regex = o.step_regex;
  analysis.classifier = &classifier;

  Report report;
  report.teye_version = std::string(kVersion);
  for (const std::string& path : o.inputs) {
    auto trace = ReadTraceFile(path, read);
    if (!trace.ok()) {
      std::fprintf(stderr, "teye: %s\n", trace.error().ToString().c_str());
      return kExitBadInput;
    }
    auto result = AnalyzeTrace(trace.value(), analysis);
    if (!result.ok()) {
      Error e = result.error();
      if (e.file.empty()) e.file = path;
      std::fprintf(stderr, "teye: %s\n", e.ToString().c_str());
      return kExitBadInput;
    }
    report.ranks.push_back(std::move(result.value()));
  }

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
    text = WriteTextReport(report, t);
  }
  if (o.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(o.output, std::ios::binary);
  out << text;
  if (!out) {
    std::fprintf(stderr, "teye: %s: cannot write the report\n", o.output.c_str());
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace

VerbRegistration SetupAnalyze(CLI::App& app) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Analyse traces: steps, GPU utilization, where time goes, top kernels");
  cmd->add_option("traces", options->inputs, "Trace files (.json or .json.gz; '-' for stdin)")
      ->required();
  cmd->add_option("--format,-f", options->format, "Report format")
      ->check(CLI::IsMember({"text", "json", "markdown", "html"}));
  cmd->add_option("-o,--output", options->output, "Write the report to this file");
  cmd->add_option("--step-regex", options->step_regex,
                  "Regex over annotation names that marks steps when there is no ProfilerStep#N");
  cmd->add_option("--kernel-classes", options->kernel_classes,
                  "File of '<class> <regex>' lines tried before the built-in kernel classes");
  cmd->add_option("--time-unit", options->time_unit,
                  "Unit of ts/dur: auto (µs unless the file says ns and has no fractions), us, ns")
      ->check(CLI::IsMember({"auto", "us", "ns"}));
  cmd->add_option("--color", options->color, "Colour in the text report")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--threads", options->threads, "Parser threads (0: one per core)");
  return {cmd, [options] { return RunAnalyze(*options); }};
}

}  // namespace teye::cli
