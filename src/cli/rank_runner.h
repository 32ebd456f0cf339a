// Reads and analyses many traces (ranks) in parallel within a memory budget, keeping only each
// rank's analysis and summary: a trace's model is dropped as soon as it is summarised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teye/analyzers/analysis.h"
#include "teye/import/job_layout.h"
#include "teye/import/read_trace.h"
#include "teye/model/rank_summary.h"

namespace teye::cli {

struct RankOutcome {
  TraceAnalysis analysis;
  RankSummary summary;
};

struct RankRunOptions {
  // read.executor (and analysis.executor, the same one) runs every rank, its parsers and its
  // rules; nullptr: an Executor of read.threads threads (0: one per core) for this call.
  ReadOptions read;
  AnalysisOptions analysis;
  int64_t max_memory = 0;  // bytes; 0: no budget beyond one rank per thread
};

// Estimated peak memory of reading and analysing `path`, from the file size and, for gzip, the
// inflated size its trailer records.
int64_t EstimateRankMemory(const std::string& path);

// Outcomes in input order, or the first error (by input order). A rank's folded files are read
// into its Trace (ReadRankFiles).
Result<std::vector<RankOutcome>> AnalyzeRanks(const std::vector<RankFiles>& ranks,
                                              const RankRunOptions& options);

// "512M", "2G", "1500000" → bytes; -1 when malformed.
int64_t ParseByteSize(const std::string& text);

}  // namespace teye::cli
