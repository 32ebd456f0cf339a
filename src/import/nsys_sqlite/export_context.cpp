#include "export_context.h"

#include <algorithm>

namespace teye::import::nsys {

TraceBuilder& RowSink::Process(int64_t pid) {
  if (last_builder_ && pid == last_pid_) return *last_builder_;
  auto [it, inserted] = processes.try_emplace(pid);
  if (inserted) it->second.SetTimeUnit(TimeUnitChoice::kNanoseconds);
  last_pid_ = pid;
  last_builder_ = &it->second;  // std::map nodes do not move
  return it->second;
}

std::pair<TraceBuilder*, ThreadIndex> RowSink::Thread(int64_t global_tid) {
  auto it = threads_.find(global_tid);
  if (it != threads_.end()) return it->second;
  const ProcessThread id = DecodeGlobalTid(global_tid);
  TraceBuilder& b = Process(id.pid);
  const ThreadIndex t = b.InternThread(ThreadKey{id.pid, {}, id.tid, {}});
  return threads_.emplace(global_tid, std::make_pair(&b, t)).first->second;
}

void RowSink::Append(RowSink&& later) {
  for (auto& [pid, builder] : later.processes) {
    auto [it, inserted] = processes.try_emplace(pid, std::move(builder));
    if (!inserted) it->second.Merge(std::move(builder));
  }
  gpu_pids.insert(later.gpu_pids.begin(), later.gpu_pids.end());
  for (auto& [pid, devices] : later.devices_by_pid)
    devices_by_pid[pid].insert(devices.begin(), devices.end());
  forked_from.insert(later.forked_from.begin(), later.forked_from.end());
  start_end_pids.insert(later.start_end_pids.begin(), later.start_end_pids.end());
  for (const auto& [pid, r] : later.nccl_ranks)
    if (r.ranks > nccl_ranks[pid].ranks) nccl_ranks[pid] = r;
  later = RowSink();
}

std::string SelectList(Database& db, const std::string& table,
                       std::initializer_list<std::string_view> columns) {
  std::string out;
  for (std::string_view c : columns) {
    if (!out.empty()) out += ", ";
    // Column names are ours (literals); quoted because `end` and `start` are SQL words.
    if (db.HasColumn(table, std::string(c)))
      out.append(1, '"').append(c).append(1, '"');
    else
      out += "NULL";
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
