// Reader for Nsight Systems SQLite exports (`nsys export --type sqlite report.nsys-rep`): the
// CUDA activity, CUDA API calls, NVTX ranges and OS runtime calls of every process in the export
// into the same Trace model the Chrome-trace reader fills. docs/trace-format.md ("Nsight
// Systems") lists the tables and columns read and what each becomes.
//
// Ranks: each process that launched GPU work (kernels, memcpy, memset) is one Trace; processes
// without GPU work are folded into the rank they belong to. An export without GPU activity is
// one Trace holding every process, with a warning that says so.
#pragma once

#include <string>
#include <string_view>

#include "teye/import/read_trace.h"

namespace teye::import {

// True when `head` starts like an SQLite 3 database.
bool LooksSqlite(std::string_view head);
// True when the file at `path` starts like an SQLite 3 database (false when it cannot be read).
bool IsSqliteFile(const std::string& path);

// Opens the file read-only; a locked, truncated or damaged database, or an SQLite database that
// is not an nsys export, is an Error of one line.
Result<TraceSet> ReadNsysSqliteFile(const std::string& path, const ReadOptions& options);
// The same for a database image in memory (standard input, a gzip'd export).
Result<TraceSet> ReadNsysSqliteBytes(const std::string& name, std::string_view bytes,
                                     int64_t bytes_on_disk, const ReadOptions& options);

}  // namespace teye::import
