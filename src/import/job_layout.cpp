#include "teye/import/job_layout.h"

#include <fstream>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

namespace teye {
namespace {

// The footer is the last top-level key; a command line of 4 KiB and a few GPUs fit easily.
constexpr std::streamoff kTailBytes = 64 << 10;

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Python multiprocessing starts its spawn/forkserver workers and its resource tracker as
// "python -c 'from multiprocessing.<module> import ...' [--multiprocessing-fork]".
bool IsMultiprocessingChild(const std::string& command) {
  return command.find("--multiprocessing-fork") != std::string::npos ||
         command.find("from multiprocessing.") != std::string::npos;
}

std::string Short(const std::string& command) {
  return command.size() > 60 ? command.substr(0, 57) + "..." : command;
}

}  // namespace

CollectorFooter ReadCollectorFooter(const std::string& path) {
  CollectorFooter f;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return f;
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > kTailBytes ? size - kTailBytes : 0;
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.seekg(from);
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  if (from == 0 && tail.size() >= 2 && static_cast<unsigned char>(tail[0]) == 0x1f &&
      static_cast<unsigned char>(tail[1]) == 0x8b)
    return f;  // gzip: not the collector's
  const size_t key = tail.rfind("\"teye\":{");
  if (key == std::string::npos) return f;
  size_t end = tail.find_last_not_of(" \t\r\n");
  if (end == std::string::npos || end <= key || tail[end] != '}') return f;
  // `{...}}`: the footer object, then the top-level object's closing brace.
  const std::string_view object(tail.data() + key + 7, end - (key + 7));
  auto j = nlohmann::json::parse(object, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || Str(j, "producer") != "libteye_collector") return f;
  f.found = true;
  f.host = Str(j, "host");
  f.pid = Int(j, "pid");
  f.ppid = Int(j, "ppid");
  f.forked_from = Int(j, "forked_from");
  f.rank = static_cast<int>(j.contains("rank") ? Int(j, "rank") : -1);
  f.command = Str(j, "command");
  f.training_events = Int(j, "nvtx_ranges") + Int(j, "annotation_ranges") +
                      Int(j, "dataloader_ranges") + Int(j, "gpu_events") + Int(j, "nccl_events");
  return f;
}

JobLayout PlanJob(const std::vector<std::string>& paths) {
  const size_t n = paths.size();
  std::vector<CollectorFooter> footers(n);
  std::map<std::pair<std::string, int64_t>, size_t> by_process;
  for (size_t i = 0; i < n; ++i) {
    footers[i] = ReadCollectorFooter(paths[i]);
    if (footers[i].found && footers[i].pid > 0)
      by_process.emplace(std::make_pair(footers[i].host, footers[i].pid), i);
  }
  // Each collector process's recorded parent.
  std::vector<long> parent(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const CollectorFooter& f = footers[i];
    if (!f.found) continue;
    const int64_t parent_pid = f.forked_from ? f.forked_from : f.ppid;
    auto it = by_process.find({f.host, parent_pid});
    if (it != by_process.end() && it->second != i) parent[i] = static_cast<long>(it->second);
  }
  // Children folded into their parent: forked, or started by multiprocessing, and not a rank of
  // their own.
  std::vector<bool> folded(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (parent[i] < 0) continue;
    const CollectorFooter& f = footers[i];
    const CollectorFooter& p = footers[static_cast<size_t>(parent[i])];
    const bool child = f.forked_from != 0 || IsMultiprocessingChild(f.command);
    const bool own_rank = f.rank >= 0 && f.rank != p.rank;
    folded[i] = child && !own_rank;
  }
  // The top-level process each file belongs to (bounded walk: pids cannot form a cycle, but a
  // damaged footer could).
  std::vector<size_t> top(n);
  for (size_t i = 0; i < n; ++i) {
    size_t t = i;
    for (size_t hops = 0; folded[t] && hops < n; ++hops)
      t = static_cast<size_t>(parent[t]);
    top[i] = t;
  }
  std::vector<int64_t> work(n, 0);
  for (size_t i = 0; i < n; ++i)
    work[top[i]] += footers[i].training_events;
  // Top-level processes that started another top-level process.
  std::vector<bool> started_others(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (top[i] != i || parent[i] < 0) continue;
    long a = parent[i];
    for (size_t hops = 0; a >= 0 && hops < n; ++hops) {
      started_others[top[static_cast<size_t>(a)]] = true;
      a = parent[static_cast<size_t>(a)];
    }
  }
  bool any_work = false;
  for (size_t i = 0; i < n; ++i)
    any_work |= top[i] == i && footers[i].found && work[i] > 0;

  JobLayout layout;
  std::map<size_t, size_t> rank_of_top;
  for (size_t i = 0; i < n; ++i) {
    if (top[i] != i) continue;
    const CollectorFooter& f = footers[i];
    bool is_rank = true;
    if (f.found) is_rank = any_work ? work[i] > 0 : !started_others[i];
    if (is_rank) {
      rank_of_top[i] = layout.ranks.size();
      layout.ranks.push_back({paths[i], {}});
      continue;
    }
    layout.notes.push_back(
        "not a rank: process " + std::to_string(f.pid) + " (" + Short(f.command) + ") " +
        (started_others[i] ? "is a launcher: it started the recorded processes below it"
                           : "did no training work (no steps, ranges or GPU activity)") +
        "; its trace " + paths[i] + " is left out");
  }
  for (size_t i = 0; i < n; ++i) {
    if (top[i] == i) continue;
    auto it = rank_of_top.find(top[i]);
    if (it == rank_of_top.end()) continue;  // a launcher's child goes with it
    layout.ranks[it->second].folded.push_back({paths[i], footers[i].forked_from
                                                             ? ProcessRole::kForkedChild
                                                             : ProcessRole::kSpawnedChild});
  }
  return layout;
}

}  // namespace teye
