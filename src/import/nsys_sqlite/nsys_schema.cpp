#include "nsys_schema.h"

#include <cctype>

#include "../kineto_dialect.h"

namespace teye::import::nsys {
namespace {

constexpr int64_t kIdRadix = 0x1000000;

// Reads (id, name, label) rows of an ENUM_* table; label is "" when the table has none.
template <typename F>
void ForEachEnumRow(Database& db, const std::string& table, F&& f) {
  if (!db.HasColumn(table, "id") || !db.HasColumn(table, "name")) return;
  const bool has_label = db.HasColumn(table, "label");
  auto stmt =
      db.Prepare("SELECT id, name, " + std::string(has_label ? "label" : "''") + " FROM " + table);
  if (!stmt.ok()) return;
  while (stmt->Next())
    f(stmt->Int(0), stmt->Text(1), stmt->Text(2));
}

// "HTOD" → "HtoD", "DTOA" → "DtoA": CUPTI's memcpy kind as Kineto spells it in names.
std::string DirectionWord(std::string_view suffix) {
  if (suffix.starts_with("UVM_")) suffix.remove_prefix(4);
  if (suffix.size() == 4 && suffix.substr(1, 2) == "TO")
    return std::string(1, suffix[0]) + "to" + std::string(1, suffix[3]);
  std::string word(suffix);
  for (size_t i = 1; i < word.size(); ++i)
    word[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[i])));
  return word;
}

std::string SyncName(std::string_view enum_name) {
  if (enum_name.ends_with("EVENT_SYNCHRONIZE")) return "Event Sync";
  if (enum_name.ends_with("STREAM_WAIT_EVENT")) return "Stream Wait Event";
  if (enum_name.ends_with("STREAM_SYNCHRONIZE")) return "Stream Sync";
  if (enum_name.ends_with("CONTEXT_SYNCHRONIZE")) return "Context Sync";
  return "Unknown Sync";
}

}  // namespace

ProcessThread DecodeGlobalTid(int64_t global_tid) {
  return {global_tid / kIdRadix % kIdRadix, global_tid % kIdRadix};
}

int64_t DecodeGlobalPid(int64_t global_pid) {
  return global_pid / kIdRadix % kIdRadix;
}

std::string_view StripApiVersion(std::string_view name) {
  const size_t v = name.rfind("_v");
  if (v == std::string_view::npos || name.size() - v - 2 < 4) return name;
  for (size_t i = v + 2; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return name;
  return name.substr(0, v);
}

std::optional<Error> StringTable::Load(Database& db) {
  auto stmt = db.Prepare("SELECT id, value FROM StringIds");
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    const int64_t id = stmt->Int(0);
    // Ids are dense from 0 in every export; a wild one is skipped rather than allocated for.
    if (id < 0 || id > (int64_t{1} << 31)) continue;
    if (static_cast<size_t>(id) >= values_.size()) values_.resize(static_cast<size_t>(id) + 1);
    values_[static_cast<size_t>(id)] = std::string(stmt->Text(1));
  }
  if (stmt->failed()) return db.QueryError("cannot read the StringIds table");
  return std::nullopt;
}

void ExportEnums::Load(Database& db) {
  // CUPTI's CUpti_ActivityMemcpyKind, which ENUM_CUDA_MEMCPY_OPER spells out where present.
  static constexpr std::string_view kCopyDefaults[] = {
      "UNKNOWN", "HTOD", "DTOH", "HTOA", "ATOH", "ATOA", "ATOD", "DTOA", "DTOD", "HTOH", "PTOP"};
  for (size_t i = 0; i < std::size(kCopyDefaults); ++i)
    copy_names[static_cast<int64_t>(i)] = DirectionWord(kCopyDefaults[i]);
  ForEachEnumRow(db, "ENUM_CUDA_MEMCPY_OPER",
                 [&](int64_t id, std::string_view name, std::string_view) {
                   constexpr std::string_view kPrefix = "CUDA_MEMCPY_KIND_";
                   if (name.starts_with(kPrefix)) name.remove_prefix(kPrefix.size());
                   copy_names[id] = DirectionWord(name);
                 });
  for (const auto& [id, word] : copy_names)
    copy_kinds[id] = ParseCopyKind(word);

  // nsys's own numbering of memory kinds (not CUPTI's): ENUM_CUDA_MEM_KIND lists it where
  // present; exports older than that table use the same values (their host-to-device copies
  // read Pinned -> Device with it, Pageable -> Pinned with CUPTI's).
  static constexpr std::string_view kMemoryDefaults[] = {
      "Pageable", "Pinned",        "Device",         "Array",
      "Managed",  "Device Static", "Managed Static", "Unknown"};
  for (size_t i = 0; i < std::size(kMemoryDefaults); ++i)
    memory_names[static_cast<int64_t>(i)] = std::string(kMemoryDefaults[i]);
  ForEachEnumRow(db, "ENUM_CUDA_MEM_KIND",
                 [&](int64_t id, std::string_view, std::string_view label) {
                   if (!label.empty()) memory_names[id] = std::string(label);
                 });
  for (const auto& [id, label] : memory_names)
    memory_kinds[id] = ParseMemoryKind(label);

  // CUPTI's CUpti_ActivitySynchronizationType.
  static constexpr std::string_view kSyncDefaults[] = {"UNKNOWN", "EVENT_SYNCHRONIZE",
                                                       "STREAM_WAIT_EVENT", "STREAM_SYNCHRONIZE",
                                                       "CONTEXT_SYNCHRONIZE"};
  for (size_t i = 0; i < std::size(kSyncDefaults); ++i)
    sync_names[static_cast<int64_t>(i)] = SyncName(kSyncDefaults[i]);
  ForEachEnumRow(db, "ENUM_CUPTI_SYNC_TYPE",
                 [&](int64_t id, std::string_view name, std::string_view) {
                   sync_names[id] = SyncName(name);
                 });

  ForEachEnumRow(db, "ENUM_NSYS_EVENT_CLASS",
                 [&](int64_t id, std::string_view name, std::string_view) {
                   if (name == "TRACE_PROCESS_EVENT_CUDA_DRIVER") driver_event_class = id;
                 });
  ForEachEnumRow(db, "ENUM_NSYS_EVENT_TYPE",
                 [&](int64_t id, std::string_view name, std::string_view) {
                   if (name == "NvtxPushPopRange") nvtx_push_pop = id;
                   if (name == "NvtxStartEndRange") nvtx_start_end = id;
                   if (name == "NvtxMark") nvtx_mark = id;
                   if (name == "NvtxDomainCreate") nvtx_domain_create = id;
                 });
}

void ExportInfo::Load(Database& db) {
  const std::string session = "TARGET_INFO_SESSION_START_TIME";
  if (db.HasColumn(session, "utcEpochNs")) {
    auto stmt = db.Prepare("SELECT utcEpochNs FROM " + session + " LIMIT 1");
    if (stmt.ok() && stmt->Next()) session_start_ns = stmt->Int(0);
  }
  // META_DATA_EXPORT since 2023; EXPORT_META_DATA before.
  for (const std::string table : {"META_DATA_EXPORT", "EXPORT_META_DATA"}) {
    if (!db.HasColumn(table, "name") || !db.HasColumn(table, "value")) continue;
    auto stmt =
        db.Prepare("SELECT value FROM " + table + " WHERE name = 'EXPORT_PRODUCT_VERSION' LIMIT 1");
    if (stmt.ok() && stmt->Next()) product_version = std::string(stmt->Text(0));
  }
}

}  // namespace teye::import::nsys
