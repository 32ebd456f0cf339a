// NVTX_EVENTS: push/pop ranges (on their thread) and start/end ranges (on a track of their process)
// become `nvtx` annotations named by `text` or `textId`, with their domain (named by the export's
// NvtxDomainCreate rows) as detail; marks become instants.
#include <map>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

constexpr std::string_view kNcclDomain = "NCCL";
// Start/end ranges may end on another thread and overlap without nesting: like teye's collector
// (docs/trace-format.md), they go on a track of their own per process, not on a thread's stack.
constexpr int64_t kStartEndTrack = 1'100'000'000;

// The integer after "key": in an NVTX payload rendered as JSON text; -1 when absent.
int64_t JsonInt(std::string_view json, std::string_view key) {
  std::string quoted;
  quoted.append(1, '"').append(key).append(1, '"');
  size_t at = json.find(quoted);
  if (at == std::string_view::npos) return -1;
  at = json.find(':', at + quoted.size());
  if (at == std::string_view::npos) return -1;
  ++at;
  while (at < json.size() && (json[at] == ' ' || json[at] == '"'))
    ++at;
  int64_t v = 0;
  bool any = false;
  for (; at < json.size() && json[at] >= '0' && json[at] <= '9'; ++at) {
    v = v * 10 + (json[at] - '0');
    any = true;
    if (v > (int64_t{1} << 40)) return -1;
  }
  return any ? v : -1;
}

}  // namespace

ThreadKey StartEndTrack(int64_t pid) {
  return ThreadKey{pid, {}, kStartEndTrack, {}};
}

std::optional<Error> ReadNvtxDomains(Database& db, ExportTables& t) {
  const std::string table(kNvtxTable);
  if (!db.HasColumn(table, "domainId") || !db.HasColumn(table, "eventType") ||
      !db.HasColumn(table, "globalTid"))
    return std::nullopt;
  auto stmt = db.Prepare(
      "SELECT " + SelectList(db, table, {"globalTid", "domainId", "text", "textId"}) + " FROM " +
      table + " WHERE eventType = " + std::to_string(t.enums.nvtx_domain_create));
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    const int64_t pid = DecodeGlobalTid(stmt->Int(0)).pid;
    std::string_view name = stmt->IsNull(2) ? t.strings.Get(stmt->Int(3)) : stmt->Text(2);
    t.nvtx_domains[{pid, stmt->Int(1)}] = std::string(name);
  }
  if (stmt->failed()) return db.QueryError("cannot read the NVTX domains");
  return std::nullopt;
}

Result<std::vector<TableScan>> NvtxScans(Database& db, const ExportTables& t) {
  const std::string table(kNvtxTable);
  std::vector<TableScan> scans;
  if (!db.HasTable(table)) return scans;
  if (auto e = RequireColumns(db, table, {"start", "end", "eventType", "globalTid"})) return *e;
  enum { kStart, kEnd, kType, kGlobalTid, kDomain, kText, kTextId, kJson, kJsonId };
  std::string select = "SELECT " +
                       SelectList(db, table,
                                  {"start", "end", "eventType", "globalTid", "domainId", "text",
                                   "textId", "jsonText", "jsonTextId"}) +
                       " FROM " + table;
  scans.push_back(TableScan{
      table, std::move(select), [&t](const Statement& row, RowSink& sink) {
        const ExportEnums& e = t.enums;
        const int64_t type = row.Int(kType);
        if (type == e.nvtx_domain_create) return;  // read before: names, not events
        const int64_t global_tid = row.Int(kGlobalTid);
        auto [b, thread] = sink.Thread(global_tid);
        b->stats().events_seen++;
        const int64_t pid = DecodeGlobalTid(global_tid).pid;
        if (type == e.nvtx_start_end) {
          thread = b->InternThread(StartEndTrack(pid));
          sink.start_end_pids.insert(pid);
        }
        const bool range = type == e.nvtx_push_pop || type == e.nvtx_start_end;
        if (!range && type != e.nvtx_mark) {
          b->stats().Count(SkipReason::kUnknownPhase);  // categories, thread names, payload-only
          return;
        }
        if (row.IsNull(kStart)) {
          b->stats().Count(SkipReason::kMissingTimestamp);
          return;
        }
        HostSliceRecord s;
        const int64_t start = row.Int(kStart);
        s.ts = FileTime{start, 0};
        s.name = row.IsNull(kText) ? t.strings.Get(row.Int(kTextId)) : row.Text(kText);
        s.kind = HostSliceKind::kUserAnnotation;
        s.category = "nvtx";
        s.thread = thread;
        if (!row.IsNull(kDomain)) {
          auto it = t.nvtx_domains.find({pid, row.Int(kDomain)});
          if (it != t.nvtx_domains.end()) s.detail = it->second;
        }
        if (!range) {
          b->AddInstant(s.ts, s.name, s.category, thread);
          return;
        }
        if (s.detail == kNcclDomain && s.name.starts_with("ncclCommInitRank")) {
          std::string_view json =
              row.IsNull(kJson) ? t.strings.Get(row.Int(kJsonId)) : row.Text(kJson);
          const int64_t rank = JsonInt(json, "Rank");
          const int64_t ranks = JsonInt(json, "No. of ranks");
          // A process may join several communicators; the largest one numbers it in the job.
          NcclRank& r = sink.nccl_ranks[pid];
          if (rank >= 0 && ranks > r.ranks) r = {static_cast<int>(rank), static_cast<int>(ranks)};
        }
        if (row.IsNull(kEnd)) {
          b->BeginSlice(s);  // never ended: closed at the end of the trace, and counted
        } else {
          s.dur = FileTime{row.Int(kEnd) - start, 0};
          b->AddHostSlice(s);
        }
      }});
  return scans;
}

}  // namespace teye::import::nsys
