// Nsight Systems SQLite reader benchmark (docs/performance.md, "Nsight Systems exports"): a large
// export made from a real one by repeating every event row with shifted times (and correlation
// ids), then read into the model and analysed.
//   TEYE_NSYS_BENCH_SOURCE  the real export to repeat (default: the mmagic A100 export in
//                           ../shared/traces/nsys)
//   TEYE_NSYS_BENCH_MB      size of the export to make, about (default: 1000)
//   TEYE_BENCH_DIR          where it is written once (default: <build>/bench-traces)
// Counters: bytes_per_second over the file, items_per_second over event rows read
// (events_seen), peak_rss_MB (VmHWM during the benchmark), process_cpu_s per iteration.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <set>
#include <sqlite3.h>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/json_writer.h"

namespace teye::bench {
namespace {

namespace fs = std::filesystem;

double ProcessCpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "nsys_bench: %s in %s\n", err ? err : "?", sql.c_str());
    std::exit(1);
  }
}

std::vector<std::string> Column(sqlite3* db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
  }
  sqlite3_finalize(stmt);
  return out;
}

// Copies `source` to `dest` with every table that has start/end columns repeated `copies` times,
// copy r shifted by r × (the export's time span) and its correlation ids by r × (largest id + 1).
void MakeRepeatedExport(const std::string& source, const std::string& dest, int copies) {
  fs::remove(dest);
  sqlite3* db = nullptr;
  sqlite3_open(dest.c_str(), &db);
  Exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF");
  Exec(db, "ATTACH DATABASE '" + source + "' AS src");
  const auto tables = Column(db, "SELECT name FROM src.sqlite_master WHERE type = 'table'");
  const auto creates = Column(db, "SELECT sql FROM src.sqlite_master WHERE type = 'table'");
  std::vector<std::string> repeated;
  std::string span_sql, corr_sql;
  for (const std::string& t : tables) {
    std::set<std::string> cols;
    for (const std::string& c :
         Column(db, "SELECT name FROM pragma_table_info('" + t + "', 'src')"))
      cols.insert(c);
    if (!cols.count("start") || !cols.count("end") || t.starts_with("TARGET_INFO")) continue;
    repeated.push_back(t);
    span_sql += (span_sql.empty() ? "" : " UNION ALL ") +
                std::string("SELECT MIN(start), MAX(\"end\") FROM src.") + t;
    if (cols.count("correlationId"))
      corr_sql += (corr_sql.empty() ? "" : " UNION ALL ") +
                  std::string("SELECT MAX(correlationId) AS c FROM src.") + t;
  }
  const int64_t span =
      std::stoll(Column(db, "SELECT MAX(m) - MIN(s) + 1000 FROM (SELECT 0 AS s, 0 AS m UNION ALL " +
                                span_sql + ")")[0]);
  const int64_t corr_step =
      corr_sql.empty() ? 0 : std::stoll(Column(db, "SELECT MAX(c) + 1 FROM (" + corr_sql + ")")[0]);
  Exec(db, "BEGIN");
  for (size_t i = 0; i < tables.size(); ++i) {
    if (creates[i].empty() || tables[i].starts_with("sqlite_")) continue;
    Exec(db, creates[i]);
    const std::string& t = tables[i];
    if (std::find(repeated.begin(), repeated.end(), t) == repeated.end()) {
      Exec(db, "INSERT INTO main." + t + " SELECT * FROM src." + t);
      continue;
    }
    std::string select;
    for (const std::string& c :
         Column(db, "SELECT name FROM pragma_table_info('" + t + "', 'src')")) {
      select += select.empty() ? "" : ", ";
      if (c == "start" || c == "end")
        select += "\"" + c + "\" + r * " + std::to_string(span);
      else if (c == "correlationId")
        select += "correlationId + r * " + std::to_string(corr_step);
      else
        select += "\"" + c + "\"";
    }
    Exec(db, "WITH RECURSIVE reps(r) AS (SELECT 0 UNION ALL SELECT r + 1 FROM reps WHERE r < " +
                 std::to_string(copies - 1) + ") INSERT INTO main." + t + " SELECT " + select +
                 " FROM reps CROSS JOIN src." + t);
  }
  Exec(db, "COMMIT");
  sqlite3_close(db);
}

struct BenchExport {
  std::string path;
  int64_t bytes = 0;
};

BenchExport EnsureExport(const std::string& dir, const std::string& source, int target_mb) {
  fs::create_directories(dir);
  // Bytes one more copy adds, measured on exports of one and two copies.
  const std::string probe = dir + "/nsys-probe.sqlite";
  MakeRepeatedExport(source, probe, 1);
  const auto one = static_cast<double>(fs::file_size(probe));
  MakeRepeatedExport(source, probe, 2);
  const double per_copy = static_cast<double>(fs::file_size(probe)) - one;
  fs::remove(probe);
  const int copies = std::max(1, static_cast<int>((target_mb * 1e6 - (one - per_copy)) / per_copy));
  const std::string path =
      dir + "/nsys-" + fs::path(source).stem().string() + "-x" + std::to_string(copies) + ".sqlite";
  if (!fs::exists(path)) {
    std::fprintf(stderr, "nsys_bench: writing %s (%d copies of %s)\n", path.c_str(), copies,
                 source.c_str());
    MakeRepeatedExport(source, path + ".tmp", copies);
    fs::rename(path + ".tmp", path);
  }
  return {path, static_cast<int64_t>(fs::file_size(path))};
}

void Run(benchmark::State& state, const BenchExport& e, bool analyze) {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  const double cpu0 = ProcessCpuSeconds();
  int64_t events = 0;
  for (auto _ : state) {
    auto ranks = ReadTraceFileRanks(e.path);
    if (!ranks.ok()) {
      state.SkipWithError(ranks.error().ToString().c_str());
      return;
    }
    events = 0;
    Report report;
    for (const Trace& t : ranks.value()) {
      events += t.stats().events_seen;
      if (!analyze) continue;
      auto a = AnalyzeTrace(t, {});
      if (!a.ok()) {
        state.SkipWithError(a.error().ToString().c_str());
        return;
      }
      report.ranks.push_back(std::move(a.value()));
    }
    if (analyze) benchmark::DoNotOptimize(WriteJsonReport(report));
  }
  const double cpu = (ProcessCpuSeconds() - cpu0) / static_cast<double>(state.iterations());
  state.SetBytesProcessed(e.bytes * static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(events * static_cast<int64_t>(state.iterations()));
  state.counters["file_MB"] = static_cast<double>(e.bytes) / 1e6;
  state.counters["events"] = static_cast<double>(events);
  state.counters["process_cpu_s"] = cpu;
  state.counters["peak_rss_MB"] = PeakRssMb();
}

}  // namespace
}  // namespace teye::bench

int main(int argc, char** argv) {
  using namespace teye::bench;
  benchmark::Initialize(&argc, argv);
  ::mallopt(M_MMAP_THRESHOLD, 128 << 10);  // as teye_bench: peak RSS of one run, not the loop's
  auto env = [](const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return std::string(v && *v ? v : fallback);
  };
  const std::string source = env("TEYE_NSYS_BENCH_SOURCE",
                                 TEYE_SHARED_TRACES "/nsys/yyhtbs-yye__mmagic_vsr_v2__net.sqlite");
  if (!fs::exists(source)) {
    std::fprintf(stderr, "nsys_bench: %s is absent (set TEYE_NSYS_BENCH_SOURCE)\n", source.c_str());
    return 1;
  }
  const BenchExport e = EnsureExport(env("TEYE_BENCH_DIR", TEYE_BENCH_DEFAULT_DIR), source,
                                     std::stoi(env("TEYE_NSYS_BENCH_MB", "1000")));
  for (bool analyze : {false, true})
    benchmark::RegisterBenchmark(analyze ? "nsys/analyze" : "nsys/read_model", Run, e, analyze)
        ->Iterations(analyze ? 1 : 2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
