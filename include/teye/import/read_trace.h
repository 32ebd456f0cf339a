// Reading traces: one entry point for every supported input. The format is detected from the
// content (gzip, Chrome trace JSON object or array form, Nsight Systems SQLite export), never
// from the file name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "teye/model/result.h"
#include "teye/model/trace.h"
#include "teye/model/trace_builder.h"
#include "teye/runtime/executor.h"
#include "teye/runtime/phase_timings.h"

namespace teye {

struct ReadOptions {
  TimeUnitChoice time_unit = TimeUnitChoice::kAuto;
  // Where the parallel parsers and the model's sorts run. nullptr: on an Executor of `threads`
  // threads made for this one read (0 = one per core).
  Executor* executor = nullptr;
  unsigned threads = 0;
  PhaseTimings* timings = nullptr;  // when set: phases "load", "read" and "model build"
  size_t chunk_bytes = size_t{4} << 20;  // work unit of the parallel parser (Nsight Systems
                                         // exports: chunk_bytes / 32 rows)
};

// Reads one trace file ("-" reads standard input). An input that is not a trace at all is an
// Error (file, byte offset, what was expected); a trace with bad parts is a Trace whose stats()
// say what was skipped, and whether the file was cut short.
Result<Trace> ReadTraceFile(const std::string& path, const ReadOptions& options = {});

// Same, for bytes already in memory (plain or gzip). `name` is used in messages.
Result<Trace> ReadTraceBytes(std::string_view name, std::string_view bytes,
                             const ReadOptions& options = {});

// Every rank a file holds, in rank order: a Chrome trace holds one; an Nsight Systems export
// holds one per process that launched GPU work (docs/trace-format.md). ReadTraceFile returns the
// first of these; `teye analyze`, `gate` and `diff` read them all.
Result<TraceSet> ReadTraceFileRanks(const std::string& path, const ReadOptions& options = {});
Result<TraceSet> ReadTraceBytesRanks(std::string_view name, std::string_view bytes,
                                     const ReadOptions& options = {});

// A process's trace to fold into its rank's (see job_layout.h).
struct FoldedFile {
  std::string path;
  ProcessRole role = ProcessRole::kForkedChild;
};

// Reads one rank whose processes wrote a file each (teye's collector): `main` is the rank's own
// process, each of `folded` one of its child processes. One Trace holds them all: every event
// keeps its own pid (host tracks and counters), info() is main's, and info().processes lists
// the main process and then each folded one. A folded file that cannot be read is left out with
// a warning; an unreadable main file is the error. Without `folded` this is ReadTraceFile.
Result<Trace> ReadRankFiles(const std::string& main, const std::vector<FoldedFile>& folded,
                            const ReadOptions& options = {});

}  // namespace teye
