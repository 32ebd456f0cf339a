// From processes to ranks. A job profiled under one `nsys profile` (torchrun, mpirun) puts all
// its processes in one export: each process that launched GPU work is a rank; the others
// (DataLoader workers, launchers, helpers) are folded into the rank they belong to, so their
// threads (input I/O, waits) stay next to the GPU work they fed, as in one process's trace.
#include <algorithm>
#include <vector>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

constexpr int kMaxForkDepth = 64;

// The rank a process without GPU work belongs to: the nearest ancestor (by OSRT fork records)
// that launched GPU work; else, with one rank, that rank; else the rank with the highest pid
// below its own (a child's pid follows its parent's), else the first rank.
int64_t OwnerOf(int64_t pid, const RowSink& sink, bool& by_pid_order) {
  int64_t p = pid;
  for (int depth = 0; depth < kMaxForkDepth; ++depth) {
    auto it = sink.forked_from.find(p);
    if (it == sink.forked_from.end()) break;
    p = it->second;
    if (sink.gpu_pids.count(p)) return p;
  }
  if (sink.gpu_pids.size() == 1) return *sink.gpu_pids.begin();
  by_pid_order = true;
  auto above = sink.gpu_pids.upper_bound(pid);
  return above == sink.gpu_pids.begin() ? *sink.gpu_pids.begin() : *std::prev(above);
}

// Rank numbers from NCCL when every rank process told its own (distinct) one; else by pid.
std::vector<std::pair<int64_t, DistributedInfo>> NumberRanks(const RowSink& sink,
                                                             std::vector<std::string>& notes) {
  std::vector<std::pair<int64_t, DistributedInfo>> out;
  std::set<int> seen;
  bool from_nccl = true;
  int world = 0;
  for (int64_t pid : sink.gpu_pids) {
    auto it = sink.nccl_ranks.find(pid);
    if (it == sink.nccl_ranks.end() || it->second.rank < 0 || !seen.insert(it->second.rank).second)
      from_nccl = false;
    else
      world = std::max(world, it->second.ranks);
  }
  int index = 0;
  for (int64_t pid : sink.gpu_pids) {
    DistributedInfo d;
    if (from_nccl) {
      d.rank = sink.nccl_ranks.at(pid).rank;
      d.world_size = world;
      d.backend = "nccl";
    } else if (sink.gpu_pids.size() > 1) {
      d.rank = index;
      d.world_size = static_cast<int>(sink.gpu_pids.size());
    }
    ++index;
    out.emplace_back(pid, std::move(d));
  }
  if (!from_nccl && sink.gpu_pids.size() > 1)
    notes.push_back(
        "ranks are numbered in process id order: the export does not say each "
        "process's NCCL rank");
  return out;
}

}  // namespace

TraceSet AssembleRanks(RowSink& sink, const ExportTables& tables, const std::string& name,
                       int64_t bytes_on_disk, Executor* executor) {
  std::vector<std::string> notes;
  std::vector<std::pair<int64_t, DistributedInfo>> ranks;
  if (sink.gpu_pids.empty()) {
    // No GPU work anywhere: one trace holding every process.
    if (sink.processes.empty()) sink.Process(0);
    ranks.emplace_back(sink.processes.begin()->first, DistributedInfo{});
    for (auto it = std::next(sink.processes.begin()); it != sink.processes.end(); ++it)
      sink.processes.begin()->second.Merge(std::move(it->second));
    notes.push_back(
        "no CUDA activity recorded (no kernels, memcpy or memset in the export): was the job "
        "profiled with `nsys profile --trace=cuda`?");
  } else {
    bool by_pid_order = false;
    int folded = 0;
    for (auto& [pid, builder] : sink.processes) {
      if (sink.gpu_pids.count(pid)) continue;
      sink.processes.at(OwnerOf(pid, sink, by_pid_order)).Merge(std::move(builder));
      ++folded;
    }
    if (by_pid_order)
      notes.push_back(std::to_string(folded) +
                      " processes without GPU work were folded into the rank with the nearest "
                      "lower process id (no fork records say whose children they are)");
    ranks = NumberRanks(sink, notes);
  }

  TraceSet out;
  for (auto& [pid, distributed] : ranks) {
    TraceBuilder& b = sink.processes.at(pid);
    TraceInfo& info = b.info();
    info.path = ranks.size() > 1 ? name + " (pid " + std::to_string(pid) + ")" : name;
    info.format = "nsys-sqlite";
    info.producer = "nsight-systems";
    info.trace_name = tables.info.product_version.empty()
                          ? "Nsight Systems export"
                          : "Nsight Systems " + tables.info.product_version + " export";
    info.bytes_on_disk = bytes_on_disk;
    info.bytes_parsed = bytes_on_disk;
    info.file_time_unit_ns = 1;
    info.file_time_zero_ns = tables.info.session_start_ns;
    for (const std::string& n : notes)
      b.stats().warnings.push_back(n);
    if (ranks.size() > 1)
      b.stats().warnings.push_back("rank " + std::to_string(distributed.rank) + " of " +
                                   std::to_string(ranks.size()) +
                                   " processes that launched GPU work in this export");
    b.SetDistributed(std::move(distributed));
    out.push_back(std::move(b).Build(executor));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Trace& a, const Trace& b) { return a.rank() < b.rank(); });
  return out;
}

}  // namespace teye::import::nsys
