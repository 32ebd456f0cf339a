#include "rank_runner.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <malloc.h>
#include <optional>
#include <string_view>

#include "teye/analyzers/cross_rank.h"

namespace teye::cli {
namespace {

// Peak RSS of `teye analyze` on one rank, measured (docs/performance.md): a plain file is mapped
// and its pages given back as they are parsed, ~0.55x its size at the peak with the model; a
// gzip trace peaks when it is inflated, ~1.1x the inflated size; and ~30 MB of parser buffers
// and thread stacks whatever the size (a 9 MB rank peaks at 36 MB).
constexpr double kMemoryPerPlainByte = 0.7;
constexpr double kMemoryPerInflatedByte = 1.3;
// An Nsight Systems SQLite export holds ~11 k events per MB (a JSON trace ~4.6 k): `teye
// analyze` of a 1 GB export peaked at 1.5x its size (docs/performance.md).
constexpr double kMemoryPerSqliteByte = 1.6;
constexpr int64_t kMemoryPerRank = 32 << 20;

}  // namespace

int64_t ParseByteSize(const std::string& text) {
  if (text.empty()) return -1;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return -1;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (!unit.empty() && (unit.back() == 'i')) unit.pop_back();
  double scale = 1;
  if (unit == "K" || unit == "k") {
    scale = 1024.0;
  } else if (unit == "M" || unit == "m") {
    scale = 1024.0 * 1024;
  } else if (unit == "G" || unit == "g") {
    scale = 1024.0 * 1024 * 1024;
  } else if (!unit.empty()) {
    return -1;
  }
  if (v < 0) return -1;
  return static_cast<int64_t>(v * scale);
}

int64_t EstimateRankMemory(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return kMemoryPerRank;
  const int64_t size = f.tellg();
  int64_t inflated = 0;
  unsigned char magic[15] = {0};
  f.seekg(0);
  f.read(reinterpret_cast<char*>(magic), sizeof magic);
  if (std::string_view(reinterpret_cast<const char*>(magic), sizeof magic) == "SQLite format 3")
    return static_cast<int64_t>(static_cast<double>(size) * kMemoryPerSqliteByte) + kMemoryPerRank;
  if (size > 18 && magic[0] == 0x1f && magic[1] == 0x8b) {
    // ISIZE: the inflated size modulo 2^32; traces compress 5-20x, so add 4 GiB wraps until the
    // ratio is plausible.
    unsigned char t[4];
    f.seekg(size - 4);
    f.read(reinterpret_cast<char*>(t), 4);
    inflated = static_cast<int64_t>(t[0]) | static_cast<int64_t>(t[1]) << 8 |
               static_cast<int64_t>(t[2]) << 16 | static_cast<int64_t>(t[3]) << 24;
    while (inflated < 3 * size)
      inflated += int64_t{1} << 32;
  }
  const double bytes = inflated > 0 ? static_cast<double>(inflated) * kMemoryPerInflatedByte
                                    : static_cast<double>(size) * kMemoryPerPlainByte;
  return static_cast<int64_t>(bytes) + kMemoryPerRank;
}

Result<std::vector<RankOutcome>> AnalyzeRanks(const std::vector<RankFiles>& paths,
                                              const RankRunOptions& options) {
  if (!options.read.executor) {
    Executor executor(options.read.threads);
    RankRunOptions with = options;
    with.read.executor = &executor;
    with.analysis.executor = &executor;
    return AnalyzeRanks(paths, with);
  }
  Executor& executor = *options.read.executor;

  // One entry per path; a path may hold several ranks (an Nsight Systems export of a job).
  std::vector<std::optional<Result<std::vector<RankOutcome>>>> results(paths.size());
  // Written by the rank tasks, read by the admission test below (under the executor's lock).
  std::atomic<int64_t> in_flight{0};
  std::atomic<unsigned> running{0};
  std::atomic<bool> failed{false};

  // Each rank is a task on the one executor; its parsers and rules are tasks of their own there,
  // so however many ranks run at once, no more than executor.threads() threads work.
  auto analyze_rank = [&](size_t i, int64_t cost) {
    Result<std::vector<RankOutcome>> outcome = [&]() -> Result<std::vector<RankOutcome>> {
      // A collector job's rank is its files folded into one trace; any other file may hold
      // several ranks (an Nsight Systems export of a job).
      Result<TraceSet> traces = [&]() -> Result<TraceSet> {
        if (paths[i].folded.empty()) return ReadTraceFileRanks(paths[i].main, options.read);
        auto one = ReadRankFiles(paths[i].main, paths[i].folded, options.read);
        if (!one.ok()) return one.error();
        TraceSet set;
        set.push_back(std::move(one.value()));
        return set;
      }();
      if (!traces.ok()) return traces.error();
      std::vector<RankOutcome> ranks;
      for (Trace& trace : traces.value()) {
        auto analysis = AnalyzeTrace(trace, options.analysis);
        if (!analysis.ok()) {
          Error e = analysis.error();
          if (e.file.empty()) e.file = paths[i].main;
          return e;
        }
        ScopedPhase summary(options.analysis.timings, "rank summary");
        RankOutcome o;
        o.summary = SummarizeRank(trace, analysis.value(), options.analysis.classifier);
        o.analysis = std::move(analysis.value());
        ranks.push_back(std::move(o));
      }
      return ranks;
    }();
    // The trace is gone: give its pages back to the system before the next rank is admitted,
    // or freed arenas would keep them and RSS would grow with every rank.
    ::malloc_trim(0);
    if (!outcome.ok()) failed = true;
    results[i] = std::move(outcome);
    in_flight -= cost;
    --running;
  };
  // Large buffers straight from mmap, so a finished rank's memory leaves the process at once
  // instead of staying in a thread's malloc arena (glibc otherwise raises this threshold as it
  // goes, and RSS creeps up rank by rank past the budget).
  if (paths.size() > 1) ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
  TaskGroup ranks(&executor);
  for (size_t i = 0; i < paths.size(); ++i) {
    int64_t cost = EstimateRankMemory(paths[i].main);
    for (const FoldedFile& f : paths[i].folded)
      cost += EstimateRankMemory(f.path) - kMemoryPerRank;
    // Admit a rank when a thread could take it and it fits in the budget (a rank bigger than
    // the budget runs alone); meanwhile this thread analyses admitted ranks itself.
    ranks.WaitUntil([&] {
      return failed || running == 0 ||
             (running < executor.threads() &&
              (options.max_memory <= 0 || in_flight + cost <= options.max_memory));
    });
    if (failed) break;
    in_flight += cost;
    ++running;
    ranks.Spawn([&analyze_rank, i, cost] { analyze_rank(i, cost); });
  }
  ranks.Wait();

  std::vector<RankOutcome> out;
  for (auto& r : results) {
    if (!r) continue;  // not started after an earlier failure
    if (!r->ok()) return r->error();
  }
  for (auto& r : results) {
    if (!r) return Error{"internal: a rank was not analysed"};
    for (RankOutcome& o : r->value())
      out.push_back(std::move(o));
  }
  return out;
}

}  // namespace teye::cli
