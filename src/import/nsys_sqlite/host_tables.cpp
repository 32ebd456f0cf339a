// Host-side calls: CUDA runtime and driver API calls (CUPTI_ACTIVITY_KIND_RUNTIME, and _DRIVER
// where an export has it) and OS runtime calls (OSRT_API), each on its thread (globalTid); and
// the names of processes and threads.
#include <algorithm>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

// Driver entry points are cuXxx; runtime ones cudaXxx.
bool LooksLikeDriverApi(std::string_view name) {
  return name.size() > 2 && name.starts_with("cu") && name[2] >= 'A' && name[2] <= 'Z';
}

using MaybeScan = Result<std::optional<TableScan>>;

// Host-call tables select start, end and globalTid first.
enum HostCallColumn { kCallStart, kCallEnd, kCallGlobalTid };

// A host call's slice on its thread, with its times; its builder is null when a time is missing
// (counted as skipped).
std::pair<TraceBuilder*, HostSliceRecord> ReadCallSlice(const Statement& row, RowSink& sink) {
  auto [b, thread] = sink.Thread(row.Int(kCallGlobalTid));
  b->stats().events_seen++;
  HostSliceRecord s;
  if (row.IsNull(kCallStart) || row.IsNull(kCallEnd)) {
    b->stats().Count(SkipReason::kMissingTimestamp);
    return {nullptr, s};
  }
  const int64_t start = row.Int(kCallStart);
  s.ts = FileTime{start, 0};
  s.dur = FileTime{row.Int(kCallEnd) - start, 0};
  s.thread = thread;
  return {b, s};
}

MaybeScan ApiScan(Database& db, const ExportTables& t, std::string_view table_name, bool driver) {
  const std::string table(table_name);
  if (!db.HasTable(table)) return std::optional<TableScan>();
  if (auto e = RequireColumns(db, table, {"start", "end", "globalTid", "nameId"})) return *e;
  enum { kGlobalTid = kCallGlobalTid, kCorrelation, kNameId, kEventClass };
  const bool has_class = db.HasColumn(table, "eventClass");
  return std::optional(TableScan{
      table,
      "SELECT " +
          SelectList(db, table,
                     {"start", "end", "globalTid", "correlationId", "nameId", "eventClass"}) +
          " FROM " + table,
      [&t, driver, has_class](const Statement& row, RowSink& sink) {
        auto [b, s] = ReadCallSlice(row, sink);
        if (!b) return;
        const int64_t global_tid = row.Int(kGlobalTid);
        s.name = StripApiVersion(t.strings.Get(row.Int(kNameId)));
        const bool is_driver =
            driver || (has_class ? row.Int(kEventClass) == t.enums.driver_event_class
                                 : LooksLikeDriverApi(s.name));
        s.kind = is_driver ? HostSliceKind::kDriver : HostSliceKind::kRuntime;
        s.category = is_driver ? "cuda_driver" : "cuda_runtime";
        // Correlation ids are per process: a process folded into another (it launched no GPU
        // work) must not lend its ids to the other's kernels.
        if (t.gpu_pids.count(DecodeGlobalTid(global_tid).pid))
          s.correlation = row.Int(kCorrelation);
        b->AddHostSlice(s);
      }});
}

// OS runtime calls that move input bytes or open files: teye's `io` kind, input evidence.
bool IsIoCall(std::string_view name) {
  static constexpr std::string_view kIo[] = {
      "read",     "pread",    "pread64", "readv",      "preadv",      "preadv64",     "preadv2",
      "recv",     "recvfrom", "recvmsg", "fread",      "open",        "open64",       "openat",
      "openat64", "fopen",    "fopen64", "__read_chk", "__pread_chk", "__pread64_chk"};
  return std::find(std::begin(kIo), std::end(kIo), name) != std::end(kIo);
}
bool ReturnsBytes(std::string_view name) {
  return !name.starts_with("open") && !name.starts_with("fopen");
}

MaybeScan OsRuntimeScan(Database& db, const ExportTables& t) {
  const std::string table(kOsrtTable);
  if (!db.HasTable(table)) return std::optional<TableScan>();
  if (auto e = RequireColumns(db, table, {"start", "end", "globalTid", "nameId"})) return *e;
  enum { kGlobalTid = kCallGlobalTid, kNameId, kReturn };
  return std::optional(TableScan{
      table,
      "SELECT " + SelectList(db, table, {"start", "end", "globalTid", "nameId", "returnValue"}) +
          " FROM " + table,
      [&t](const Statement& row, RowSink& sink) {
        auto [b, s] = ReadCallSlice(row, sink);
        if (!b) return;
        const int64_t global_tid = row.Int(kGlobalTid);
        s.name = t.strings.Get(row.Int(kNameId));
        s.category = "osrt";
        const int64_t ret = row.Int(kReturn);
        if (IsIoCall(s.name)) {
          s.kind = HostSliceKind::kIo;
          if (ReturnsBytes(s.name)) s.bytes = std::max<int64_t>(ret, 0);
        } else {
          s.kind = HostSliceKind::kOther;
          // fork() returns the child's pid in the parent: a DataLoader worker's parent.
          if ((s.name == "fork" || s.name == "vfork") && ret > 0)
            sink.forked_from[ret] = DecodeGlobalTid(global_tid).pid;
        }
        b->AddHostSlice(s);
      }});
}

}  // namespace

Result<std::vector<TableScan>> ApiCallScans(Database& db, const ExportTables& t) {
  std::vector<TableScan> scans;
  MaybeScan made[] = {ApiScan(db, t, kRuntimeTable, /*driver=*/false),
                      ApiScan(db, t, kDriverTable, /*driver=*/true), OsRuntimeScan(db, t)};
  for (MaybeScan& scan : made) {
    if (!scan.ok()) return scan.error();
    if (scan.value()) scans.push_back(std::move(*scan.value()));
  }
  return scans;
}

std::optional<Error> ReadNames(Database& db, const ExportTables& t, RowSink& sink) {
  if (db.HasColumn("PROCESSES", "globalPid") && db.HasColumn("PROCESSES", "name")) {
    auto stmt = db.Prepare("SELECT globalPid, name FROM PROCESSES");
    if (!stmt.ok()) return stmt.error();
    while (stmt->Next()) {
      const int64_t pid = DecodeGlobalPid(stmt->Int(0));
      auto it = sink.processes.find(pid);
      if (it != sink.processes.end())
        it->second.SetProcessName(ThreadKey{pid, {}, 0, {}}, stmt->Text(1));
    }
    if (stmt->failed()) return db.QueryError("cannot read PROCESSES");
  }
  if (db.HasColumn("ThreadNames", "globalTid") && db.HasColumn("ThreadNames", "nameId")) {
    auto stmt = db.Prepare("SELECT globalTid, nameId FROM ThreadNames");
    if (!stmt.ok()) return stmt.error();
    while (stmt->Next()) {
      const ProcessThread id = DecodeGlobalTid(stmt->Int(0));
      auto it = sink.processes.find(id.pid);
      if (it != sink.processes.end())
        it->second.SetThreadName(ThreadKey{id.pid, {}, id.tid, {}}, t.strings.Get(stmt->Int(1)));
    }
    if (stmt->failed()) return db.QueryError("cannot read ThreadNames");
  }
  for (int64_t pid : sink.start_end_pids)
    sink.Process(pid).SetThreadName(StartEndTrack(pid), "NVTX start/end ranges");
  return std::nullopt;
}

}  // namespace teye::import::nsys
