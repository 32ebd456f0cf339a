// The state of reading one Nsight Systems export: its database, decoded names and enums, and one
// TraceBuilder per process, filled table by table and assembled into ranks at the end.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "teye/import/read_trace.h"
#include "teye/model/trace_builder.h"

#include "nsys_schema.h"
#include "sqlite_db.h"

namespace teye::import::nsys {

// What NCCL's own NVTX ranges (domain "NCCL", ncclCommInitRank*) said about a process.
struct NcclRank {
  int rank = -1;
  int ranks = 0;  // "No. of ranks" of the communicator
};

struct ExportContext {
  explicit ExportContext(Database& database) : db(database) {}

  Database& db;
  StringTable strings;
  ExportEnums enums;
  ExportInfo info;
  std::map<int64_t, TraceBuilder> processes;        // by pid
  std::set<int64_t> gpu_pids;                       // processes that launched GPU work
  std::map<int64_t, std::set<int>> devices_by_pid;  // CUDA device ids each process used
  std::map<int64_t, int64_t> forked_from;           // child pid → parent pid, from OSRT fork
  std::map<int64_t, NcclRank> nccl_ranks;           // by pid

  // The builder of process `pid`, created on first use (times in ns on the session's clock).
  TraceBuilder& Process(int64_t pid);
  // The track of a serialized thread id, in its process's builder.
  std::pair<TraceBuilder*, ThreadIndex> Thread(int64_t global_tid);

 private:
  TraceBuilder* last_builder_ = nullptr;
  int64_t last_pid_ = -1;
  std::unordered_map<int64_t, std::pair<TraceBuilder*, ThreadIndex>> threads_;
};

// "a, b, NULL, d": the listed columns of `table`, NULL for those this export lacks, so a row's
// column i is always the i-th name whatever the schema generation.
std::string SelectList(Database& db, const std::string& table,
                       std::initializer_list<std::string_view> columns);
// An error naming the first listed column the table lacks.
std::optional<Error> RequireColumns(Database& db, const std::string& table,
                                    std::initializer_list<std::string_view> columns);

// Table readers, in the order the export is read. Each returns an error only when a query fails
// (a locked or damaged database); rows with impossible values are counted and skipped.
std::optional<Error> ReadGpuActivity(ExportContext& c);  // kernels, memcpy, memset, sync
std::optional<Error> ReadApiCalls(ExportContext& c);     // CUDA runtime/driver calls, OSRT
std::optional<Error> ReadNvtx(ExportContext& c);         // NVTX ranges, marks, domains
std::optional<Error> ReadNames(ExportContext& c);        // process and thread names
void AddDevices(ExportContext& c);                       // TARGET_INFO_* device properties

// One Trace per rank (see nsys_reader.h), folding processes without GPU work into a rank.
TraceSet AssembleRanks(ExportContext& c, const std::string& name, int64_t bytes_on_disk);

}  // namespace teye::import::nsys
