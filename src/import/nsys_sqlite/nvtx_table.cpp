// NVTX_EVENTS: push/pop ranges (thread ranges) and start/end ranges (process ranges, kept on the
// thread that started them) become `nvtx` annotations named by `text` or `textId`, with their
// domain (named by the export's NvtxDomainCreate rows) as detail; marks become instants.
#include <map>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

constexpr std::string_view kNcclDomain = "NCCL";

// The integer after "key": in an NVTX payload rendered as JSON text; -1 when absent.
int64_t JsonInt(std::string_view json, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
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

using DomainKey = std::pair<int64_t, int64_t>;  // (pid, domainId)

std::optional<Error> ReadDomains(ExportContext& c, const std::string& table,
                                 std::map<DomainKey, std::string>& domains) {
  auto stmt = c.db.Prepare(
      "SELECT " + SelectList(c.db, table, {"globalTid", "domainId", "text", "textId"}) + " FROM " +
      table + " WHERE eventType = " + std::to_string(c.enums.nvtx_domain_create));
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    const int64_t pid = DecodeGlobalTid(stmt->Int(0)).pid;
    std::string_view name = stmt->IsNull(2) ? c.strings.Get(stmt->Int(3)) : stmt->Text(2);
    domains[{pid, stmt->Int(1)}] = std::string(name);
  }
  if (stmt->failed()) return c.db.QueryError("cannot read the NVTX domains");
  return std::nullopt;
}

}  // namespace

std::optional<Error> ReadNvtx(ExportContext& c) {
  const std::string table(kNvtxTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "eventType", "globalTid"})) return e;
  std::map<DomainKey, std::string> domains;
  if (c.db.HasColumn(table, "domainId"))
    if (auto e = ReadDomains(c, table, domains)) return e;

  enum { kStart, kEnd, kType, kGlobalTid, kDomain, kText, kTextId, kJson, kJsonId };
  auto stmt = c.db.Prepare("SELECT " +
                           SelectList(c.db, table,
                                      {"start", "end", "eventType", "globalTid", "domainId", "text",
                                       "textId", "jsonText", "jsonTextId"}) +
                           " FROM " + table);
  if (!stmt.ok()) return stmt.error();
  const ExportEnums& e = c.enums;
  while (stmt->Next()) {
    const int64_t type = stmt->Int(kType);
    if (type == e.nvtx_domain_create) continue;  // read above: names, not events
    const int64_t global_tid = stmt->Int(kGlobalTid);
    auto [b, thread] = c.Thread(global_tid);
    b->stats().events_seen++;
    const bool range = type == e.nvtx_push_pop || type == e.nvtx_start_end;
    if (!range && type != e.nvtx_mark) {
      b->stats().Count(SkipReason::kUnknownPhase);  // categories, thread names, payload-only
      continue;
    }
    if (stmt->IsNull(kStart)) {
      b->stats().Count(SkipReason::kMissingTimestamp);
      continue;
    }
    HostSliceRecord s;
    const int64_t start = stmt->Int(kStart);
    s.ts = FileTime{start, 0};
    s.name = stmt->IsNull(kText) ? c.strings.Get(stmt->Int(kTextId)) : stmt->Text(kText);
    s.kind = HostSliceKind::kUserAnnotation;
    s.category = "nvtx";
    s.thread = thread;
    const int64_t pid = DecodeGlobalTid(global_tid).pid;
    if (!stmt->IsNull(kDomain)) {
      auto it = domains.find({pid, stmt->Int(kDomain)});
      if (it != domains.end()) s.detail = it->second;
    }
    if (!range) {
      b->AddInstant(s.ts, s.name, s.category, thread);
      continue;
    }
    if (s.detail == kNcclDomain && s.name.starts_with("ncclCommInitRank")) {
      std::string_view json =
          stmt->IsNull(kJson) ? c.strings.Get(stmt->Int(kJsonId)) : stmt->Text(kJson);
      const int64_t rank = JsonInt(json, "Rank");
      const int64_t ranks = JsonInt(json, "No. of ranks");
      // A process may join several communicators; the largest one numbers it in the job.
      NcclRank& r = c.nccl_ranks[pid];
      if (rank >= 0 && ranks > r.ranks) r = {static_cast<int>(rank), static_cast<int>(ranks)};
    }
    if (stmt->IsNull(kEnd)) {
      b->BeginSlice(s);  // never ended: closed at the end of the trace, and counted
    } else {
      s.dur = FileTime{stmt->Int(kEnd) - start, 0};
      b->AddHostSlice(s);
    }
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

}  // namespace teye::import::nsys
