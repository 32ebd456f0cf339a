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
  ReadOptions read;
  read.threads = options.threads;
  auto trace = ReadTraceFile(path, read);
  if (!trace.ok()) return trace.error();
  AnalysisOptions analysis;
  analysis.steps.step_regex = options.step_regex;
  auto result = AnalyzeTrace(trace.value(), analysis);
  if (!result.ok()) {
    Error e = result.error();
    if (e.file.empty()) e.file = path;
    return e;
  }
  return SummarizeRun(result.value());
}

}  // namespace teye::cli
