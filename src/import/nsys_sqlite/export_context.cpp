#include "export_context.h"

namespace teye::import::nsys {

TraceBuilder& ExportContext::Process(int64_t pid) {
  if (last_builder_ && pid == last_pid_) return *last_builder_;
  auto [it, inserted] = processes.try_emplace(pid);
  if (inserted) it->second.SetTimeUnit(TimeUnitChoice::kNanoseconds);
  last_pid_ = pid;
  last_builder_ = &it->second;  // std::map nodes do not move
  return it->second;
}

std::pair<TraceBuilder*, ThreadIndex> ExportContext::Thread(int64_t global_tid) {
  auto it = threads_.find(global_tid);
  if (it != threads_.end()) return it->second;
  const ProcessThread id = DecodeGlobalTid(global_tid);
  TraceBuilder& b = Process(id.pid);
  const ThreadIndex t = b.InternThread(ThreadKey{id.pid, {}, id.tid, {}});
  return threads_.emplace(global_tid, std::make_pair(&b, t)).first->second;
}

std::string SelectList(Database& db, const std::string& table,
                       std::initializer_list<std::string_view> columns) {
  std::string out;
  for (std::string_view c : columns) {
    if (!out.empty()) out += ", ";
    // Column names are ours (literals); quoted because `end` and `start` are SQL words.
    out += db.HasColumn(table, std::string(c)) ? "\"" + std::string(c) + "\"" : "NULL";
  }
  return out;
}

std::optional<Error> RequireColumns(Database& db, const std::string& table,
                                    std::initializer_list<std::string_view> columns) {
  for (std::string_view c : columns) {
    if (!db.HasColumn(table, std::string(c)))
      return Error{"table " + table + " has no column '" + std::string(c) +
                       "': an Nsight Systems export schema teye does not know",
                   db.name(), -1};
  }
  return std::nullopt;
}

}  // namespace teye::import::nsys
