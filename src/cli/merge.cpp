// teye merge SUMMARY... — the cross-rank report from rank summaries written by
// `teye analyze --summary-only`, so no trace has to leave the node it was recorded on.
#include <cstdio>
#include <unistd.h>

#include "teye/analyzers/cross_rank.h"
#include "teye/import/read_summary.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/text_writer.h"
#include "teye/version.h"

#include "output.h"
#include "verbs.h"

namespace teye::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string output;  // empty: stdout
  std::string color = "auto";
};

int RunMerge(const MergeOptions& o) {
  std::vector<RankSummary> ranks;
  for (const std::string& path : o.inputs) {
    auto read = ReadRankSummaries(path);
    if (!read.ok()) {
      std::fprintf(stderr, "teye: %s\n", read.error().ToString().c_str());
      return kExitBadInput;
    }
    for (RankSummary& r : read.value())
      ranks.push_back(std::move(r));
  }
  if (ranks.size() < 2) {
    std::fprintf(stderr, "teye: merge needs the summaries of at least two ranks (got %zu)\n",
                 ranks.size());
    return kExitBadInput;
  }
  Report report;
  report.teye_version = std::string(kVersion);
  report.cross_rank = AnalyzeCrossRank(ranks);

  const bool to_tty = o.output.empty() && ::isatty(STDOUT_FILENO);
  std::string text;
  if (o.format == "json") {
    text = WriteJsonReport(report);
  } else {
    TextOptions t;
    t.color = o.color == "always" || (o.color == "auto" && to_tty && !std::getenv("NO_COLOR"));
    t.width = TextColumns(to_tty);
    text = WriteTextReport(report, t);
  }
  return WriteOutput(o.output, text);
}

}  // namespace

VerbRegistration SetupMerge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "The cross-rank report from 'teye analyze --summary-only' summaries");
  cmd->add_option("summaries", o->inputs, "Rank summary files (*.summary.json)")->required();
  cmd->add_option("--format,-f", o->format, "Report format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("-o,--output", o->output, "Write the report to this file");
  cmd->add_option("--color", o->color, "Colour in the text report")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  return {cmd, [o] { return RunMerge(*o); }};
}

}  // namespace teye::cli
