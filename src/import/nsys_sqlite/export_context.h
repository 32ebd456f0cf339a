// The state of reading one Nsight Systems export. What is read once before the event rows (names,
// enums, NVTX domains) is shared read-only by every scan; each chunk of rows fills a RowSink of
// its own (one TraceBuilder per process), and the sinks are appended in table order at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "teye/import/read_trace.h"
#include "teye/model/trace_builder.h"

#include "nsys_schema.h"
#include "sqlite_db.h"

namespace teye::import::nsys {

// Read before the event rows; read-only while they are scanned.
struct ExportTables {
  StringTable strings;
  ExportEnums enums;
  ExportInfo info;
  std::map<std::pair<int64_t, int64_t>, std::string> nvtx_domains;  // (pid, domainId) → name
  std::set<int64_t> gpu_pids;  // filled by the device-activity scans, read by the API scans
};

// What NCCL's own NVTX ranges (domain "NCCL", ncclCommInitRank*) said about a process.
struct NcclRank {
  int rank = -1;
  int ranks = 0;  // "No. of ranks" of the communicator
};

// What a chunk of rows became.
class RowSink {
 public:
  std::map<int64_t, TraceBuilder> processes;        // by pid
  std::set<int64_t> gpu_pids;                       // processes that launched GPU work
  std::map<int64_t, std::set<int>> devices_by_pid;  // CUDA device ids each process used
  std::map<int64_t, int64_t> forked_from;           // child pid → parent pid, from OSRT fork
  std::map<int64_t, NcclRank> nccl_ranks;           // by pid
  std::set<int64_t> start_end_pids;                 // processes with NVTX start/end ranges

  // The builder of process `pid`, created on first use (times in ns on the session's clock).
  TraceBuilder& Process(int64_t pid);
  // The track of a serialized thread id, in its process's builder.
  std::pair<TraceBuilder*, ThreadIndex> Thread(int64_t global_tid);
  // Appends what `later` (the next chunk in table order) holds after what this one holds.
  void Append(RowSink&& later);

 private:
  TraceBuilder* last_builder_ = nullptr;
  int64_t last_pid_ = -1;
  std::unordered_map<int64_t, std::pair<TraceBuilder*, ThreadIndex>> threads_;
};

// One table's rows: the query, built once against the export's columns, and what a row becomes.
// Rows are read in stored (rowid) order, a chunk of rowids at a time; the builders sort.
struct TableScan {
  std::string table;
  std::string select;  // "SELECT ... FROM <table>", no WHERE: a rowid range is added per chunk
  std::function<void(const Statement& row, RowSink& sink)> read_row;
};

// "a, b, NULL, d": the listed columns of `table`, NULL for those this export lacks, so a row's
// column i is always the i-th name whatever the schema generation.
std::string SelectList(Database& db, const std::string& table,
                       std::initializer_list<std::string_view> columns);
// An error naming the first listed column the table lacks.
std::optional<Error> RequireColumns(Database& db, const std::string& table,
                                    std::initializer_list<std::string_view> columns);

// The scans, in the order they run: device activity first (it tells which processes launched
// GPU work), then CUDA API calls, OS runtime calls and NVTX. Errors name a missing column.
Result<std::vector<TableScan>> DeviceActivityScans(Database& db, const ExportTables& tables);
Result<std::vector<TableScan>> ApiCallScans(Database& db, const ExportTables& tables);
Result<std::vector<TableScan>> NvtxScans(Database& db, const ExportTables& tables);
// The track of a process's NVTX start/end ranges (teye's collector uses the same tid).
ThreadKey StartEndTrack(int64_t pid);
// NvtxDomainCreate rows: the domain names ranges refer to by id.
std::optional<Error> ReadNvtxDomains(Database& db, ExportTables& tables);

// Opens another read-only connection to the same export, for a scanning thread.
using ConnectionFactory = std::function<Result<Database>()>;
// Runs `scans`, each cut into rowid ranges (options.chunk_bytes / 32 rows), on `db` and, as
// tasks on options.executor, up to its threads() - 1 more connections; appends the rows to `sink` in table order, the same
// whatever the thread count. An error when a query fails (locked, damaged).
std::optional<Error> RunScans(const std::vector<TableScan>& scans, Database& db,
                              const ConnectionFactory& open, const ReadOptions& options,
                              RowSink& sink);

std::optional<Error> ReadNames(Database& db, const ExportTables& tables, RowSink& sink);
void AddDevices(Database& db, RowSink& sink);  // TARGET_INFO_* device properties

// One Trace per rank (see nsys_reader.h), folding processes without GPU work into a rank; the
// models are built on `executor`.
TraceSet AssembleRanks(RowSink& sink, const ExportTables& tables, const std::string& name,
                       int64_t bytes_on_disk, Executor* executor);

}  // namespace teye::import::nsys
