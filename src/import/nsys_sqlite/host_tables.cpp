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

std::optional<Error> ReadApiTable(ExportContext& c, std::string_view table_name, bool driver) {
  const std::string table(table_name);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "globalTid", "nameId"})) return e;
  enum { kStart, kEnd, kGlobalTid, kCorrelation, kNameId, kEventClass };
  auto stmt = c.db.Prepare(
      "SELECT " +
      SelectList(c.db, table,
                 {"start", "end", "globalTid", "correlationId", "nameId", "eventClass"}) +
      " FROM " + table);
  if (!stmt.ok()) return stmt.error();
  const bool has_class = c.db.HasColumn(table, "eventClass");
  while (stmt->Next()) {
    const int64_t global_tid = stmt->Int(kGlobalTid);
    auto [b, thread] = c.Thread(global_tid);
    b->stats().events_seen++;
    if (stmt->IsNull(kStart) || stmt->IsNull(kEnd)) {
      b->stats().Count(SkipReason::kMissingTimestamp);
      continue;
    }
    HostSliceRecord s;
    const int64_t start = stmt->Int(kStart);
    s.ts = FileTime{start, 0};
    s.dur = FileTime{stmt->Int(kEnd) - start, 0};
    s.name = StripApiVersion(c.strings.Get(stmt->Int(kNameId)));
    const bool is_driver =
        driver || (has_class ? stmt->Int(kEventClass) == c.enums.driver_event_class
                             : LooksLikeDriverApi(s.name));
    s.kind = is_driver ? HostSliceKind::kDriver : HostSliceKind::kRuntime;
    s.category = is_driver ? "cuda_driver" : "cuda_runtime";
    s.thread = thread;
    // Correlation ids are per process: a process folded into another (it launched no GPU
    // work) must not lend its ids to the other's kernels.
    if (c.gpu_pids.count(DecodeGlobalTid(global_tid).pid)) s.correlation = stmt->Int(kCorrelation);
    b->AddHostSlice(s);
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
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

std::optional<Error> ReadOsRuntime(ExportContext& c) {
  const std::string table(kOsrtTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "globalTid", "nameId"})) return e;
  enum { kStart, kEnd, kGlobalTid, kNameId, kReturn };
  auto stmt = c.db.Prepare(
      "SELECT " + SelectList(c.db, table, {"start", "end", "globalTid", "nameId", "returnValue"}) +
      " FROM " + table);
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    const int64_t global_tid = stmt->Int(kGlobalTid);
    auto [b, thread] = c.Thread(global_tid);
    b->stats().events_seen++;
    if (stmt->IsNull(kStart) || stmt->IsNull(kEnd)) {
      b->stats().Count(SkipReason::kMissingTimestamp);
      continue;
    }
    HostSliceRecord s;
    const int64_t start = stmt->Int(kStart);
    s.ts = FileTime{start, 0};
    s.dur = FileTime{stmt->Int(kEnd) - start, 0};
    s.name = c.strings.Get(stmt->Int(kNameId));
    s.category = "osrt";
    s.thread = thread;
    const int64_t ret = stmt->Int(kReturn);
    if (IsIoCall(s.name)) {
      s.kind = HostSliceKind::kIo;
      if (ReturnsBytes(s.name)) s.bytes = std::max<int64_t>(ret, 0);
    } else {
      s.kind = HostSliceKind::kOther;
      // fork() returns the child's pid in the parent: a DataLoader worker's parent.
      if ((s.name == "fork" || s.name == "vfork") && ret > 0)
        c.forked_from[ret] = DecodeGlobalTid(global_tid).pid;
    }
    b->AddHostSlice(s);
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

}  // namespace

std::optional<Error> ReadApiCalls(ExportContext& c) {
  if (auto e = ReadApiTable(c, kRuntimeTable, /*driver=*/false)) return e;
  if (auto e = ReadApiTable(c, kDriverTable, /*driver=*/true)) return e;
  return ReadOsRuntime(c);
}

std::optional<Error> ReadNames(ExportContext& c) {
  if (c.db.HasColumn("PROCESSES", "globalPid") && c.db.HasColumn("PROCESSES", "name")) {
    auto stmt = c.db.Prepare("SELECT globalPid, name FROM PROCESSES");
    if (!stmt.ok()) return stmt.error();
    while (stmt->Next()) {
      const int64_t pid = DecodeGlobalPid(stmt->Int(0));
      auto it = c.processes.find(pid);
      if (it != c.processes.end())
        it->second.SetProcessName(ThreadKey{pid, {}, 0, {}}, stmt->Text(1));
    }
    if (stmt->failed()) return c.db.QueryError("cannot read PROCESSES");
  }
  if (c.db.HasColumn("ThreadNames", "globalTid") && c.db.HasColumn("ThreadNames", "nameId")) {
    auto stmt = c.db.Prepare("SELECT globalTid, nameId FROM ThreadNames");
    if (!stmt.ok()) return stmt.error();
    while (stmt->Next()) {
      const ProcessThread id = DecodeGlobalTid(stmt->Int(0));
      auto it = c.processes.find(id.pid);
      if (it != c.processes.end())
        it->second.SetThreadName(ThreadKey{id.pid, {}, id.tid, {}}, c.strings.Get(stmt->Int(1)));
    }
    if (stmt->failed()) return c.db.QueryError("cannot read ThreadNames");
  }
  return std::nullopt;
}

}  // namespace teye::import::nsys
