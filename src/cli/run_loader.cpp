#include "run_loader.h"

#include <fstream>
#include <sstream>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/report_reader.h"

namespace teye::cli {

Result<RunSummary> LoadRun(const std::string& path, const RunLoadOptions& options) {
  if (path != "-") {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot open the file", path};
    char head[4096];
    in.read(head, sizeof head);
    const std::string_view text(head, static_cast<size_t>(in.gcount()));
    if (LooksLikeReport(text)) {
      std::stringstream all;
      all << text << in.rdbuf();
      return ReadReportSummary(all.str(), path);
    }
  }
  Executor executor(options.threads);
  ReadOptions read;
  read.executor = &executor;
  // A file may hold several ranks (an Nsight Systems export of a job): the first is judged, as
  // for a saved report of several ranks.
  auto traces = ReadTraceFileRanks(path, read);
  if (!traces.ok()) return traces.error();
  AnalysisOptions analysis;
  analysis.steps.step_regex = options.step_regex;
  analysis.executor = &executor;
  auto result = AnalyzeTrace(traces.value().front(), analysis);
  if (!result.ok()) {
    Error e = result.error();
    if (e.file.empty()) e.file = path;
    return e;
  }
  RunSummary summary = SummarizeRun(result.value());
  summary.rank_count = static_cast<int>(traces.value().size());
  return summary;
}

}  // namespace teye::cli
