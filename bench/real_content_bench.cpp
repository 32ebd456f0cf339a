// Real-content benchmarks (docs/performance.md, "Real content"): a real PyTorch profiler trace
// tiled in time (real_tiles.h) to about 300 MB and 1 GB, and the four targets of DESIGN.md §8
// measured on them. The tiles are written when first needed into a fresh temporary directory
// ($TMPDIR, else /tmp) and deleted at the end.
//   TEYE_BENCH_REAL_SOURCE  the real trace to tile (default: the A100 DDP rank in
//                           ../shared/traces/hta/tests/data/trace_diff/control)
//   TEYE_BENCH_REAL_MB      tile sizes in MB, comma-separated (default: 300,1000); the first is
//                           also written gzip-compressed
// Each benchmark runs 3 times (repetitions of one iteration); the targets use the fastest run of
// each and show the spread:
//   scan/real-N          the yardstick: simdjson On-Demand on one thread over the whole tile
//                        (already in memory), every key, string (unescaped) and number read,
//                        nothing kept; warm (the parser's buffers already touched by a first,
//                        cold scan, whose time the table shows too)
//   analyze/real-N       `teye analyze -f json --timings real-N` as a child process, as a user
//                        runs it (its report to /dev/null): wall time from spawn to exit, CPU
//                        time and peak RSS from wait4's rusage, the phase split from --timings
//   gzip_dc/real-N.gz    `gzip -dc real-N.gz > /dev/null`, a child process
//   analyze/real-N.gz    the analysis of the compressed tile, as analyze/real-N
#include "real_content_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "teye/runtime/phase_timings.h"

#include "real_tiles.h"

extern char** environ;

namespace teye::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Run {
  double wall_s = 0;
  double cpu_s = 0;
  double peak_rss_mb = 0;
  std::vector<PhaseTimings::Phase> phases;
};

struct State {
  std::string source_json;
  std::vector<int> sizes_mb;
  std::string dir;  // the temporary directory, once made
  std::map<std::string, RealTile> tiles;
  // Every run of every benchmark, by benchmark name, for the targets.
  std::map<std::string, std::vector<Run>> runs;
  std::string load_at_start;
};
State& S() {
  static State state;
  return state;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// /proc/loadavg's three load averages (1, 5, 15 minutes): how busy the machine was.
std::string LoadAverages() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string TileName(int mb) {
  return "real-" + std::to_string(mb) + "MB";
}

// The tile called `name` ("real-300MB", "real-300MB.gz"), written on first use.
const RealTile* Tile(const std::string& name) {
  State& s = S();
  if (auto it = s.tiles.find(name); it != s.tiles.end()) return &it->second;
  if (s.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/teye-real-tiles-XXXXXX";
    if (!::mkdtemp(pattern.data())) return nullptr;
    s.dir = pattern;
  }
  const bool gzip = name.ends_with(".gz");
  const std::string plain_name = gzip ? name.substr(0, name.size() - 3) : name;
  if (!s.tiles.contains(plain_name)) {
    const int mb = std::stoi(plain_name.substr(5));
    std::fprintf(stderr, "writing the %d MB tile into %s...\n", mb, s.dir.c_str());
    RealTile t = WriteRealTile(s.dir, plain_name + ".pt.trace.json", s.source_json, mb);
    if (t.path.empty()) return nullptr;
    s.tiles[plain_name] = t;
  }
  if (gzip) {
    std::fprintf(stderr, "compressing it...\n");
    RealTile t = GzipRealTile(s.tiles[plain_name]);
    if (t.path.empty()) return nullptr;
    s.tiles[name] = t;
  }
  return &s.tiles[name];
}

// Reads every value of `v`, as a parser must: keys, strings unescaped, numbers parsed.
simdjson::error_code Visit(simdjson::ondemand::value v, size_t& values) {
  using simdjson::ondemand::json_type;
  json_type type;
  if (auto ec = v.type().get(type)) return ec;
  ++values;
  switch (type) {
    case json_type::object: {
      simdjson::ondemand::object o;
      if (auto ec = v.get_object().get(o)) return ec;
      for (auto field : o) {
        std::string_view key;
        if (auto ec = field.unescaped_key().get(key)) return ec;
        simdjson::ondemand::value child;
        if (auto ec = field.value().get(child)) return ec;
        if (auto ec = Visit(child, values)) return ec;
      }
      return simdjson::SUCCESS;
    }
    case json_type::array: {
      simdjson::ondemand::array a;
      if (auto ec = v.get_array().get(a)) return ec;
      for (auto element : a) {
        simdjson::ondemand::value child;
        if (auto ec = element.get(child)) return ec;
        if (auto ec = Visit(child, values)) return ec;
      }
      return simdjson::SUCCESS;
    }
    case json_type::string: {
      std::string_view str;
      return v.get_string().get(str);
    }
    case json_type::number: {
      simdjson::ondemand::number n;
      return v.get_number().get(n);
    }
    case json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case json_type::null:
      return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

void Scan(benchmark::State& state, const std::string& name) {
  const RealTile* t = Tile(name);
  simdjson::padded_string json;
  if (!t || simdjson::padded_string::load(t->path).get(json)) {
    state.SkipWithError("cannot load the tile");
    return;
  }
  simdjson::ondemand::parser parser(json.size());
  size_t values = 0;
  // The first scan with this parser is the cold one: its buffers are faulted in as it goes, as
  // in a one-shot program. It is kept apart (scan_cold); the timed scans that follow are warm,
  // the tile in the caches: the scan at its fastest, the yardstick of the target.
  {
    const auto start = Clock::now();
    simdjson::ondemand::document doc;
    simdjson::ondemand::value root;
    if (parser.iterate(json).get(doc) || doc.get_value().get(root) || Visit(root, values)) {
      state.SkipWithError("simdjson could not scan the tile");
      return;
    }
    const double wall = Seconds(start);
    S().runs["scan_cold/" + name].push_back({wall, wall, 0, {}});
  }
  for (auto _ : state) {
    const auto start = Clock::now();
    simdjson::ondemand::document doc;
    simdjson::ondemand::value root;
    values = 0;
    if (parser.iterate(json).get(doc) || doc.get_value().get(root) || Visit(root, values)) {
      state.SkipWithError("simdjson could not scan the tile");
      break;
    }
    const double wall = Seconds(start);
    state.SetIterationTime(wall);
    S().runs["scan/" + name].push_back({wall, wall, 0, {}});
  }
  state.SetBytesProcessed(t->json_bytes * static_cast<int64_t>(state.iterations()));
  state.counters["json_values"] = static_cast<double>(values);
}

// Runs `argv` as a child process, through teye_run_measured (run_measured.cpp), with its stdout
// and stderr sent to the files given: its wall time, CPU time (user + system) and peak RSS.
// wall_s < 0 when it could not run or failed.
Run RunChild(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  const std::string result = S().dir + "/run.result";
  std::vector<std::string> measured = {TEYE_RUN_MEASURED, result, out, err, "--"};
  measured.insert(measured.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& a : measured)
    args.push_back(a.data());
  args.push_back(nullptr);
  Run run;
  run.wall_s = -1;
  pid_t pid;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return run;
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return run;
  std::ifstream in(result);
  double wall = -1, cpu = 0;
  long rss_kib = 0;
  int exit_status = -1;
  in >> wall >> cpu >> rss_kib >> exit_status;
  if (!in || exit_status != 0) return run;
  run.wall_s = wall;
  run.cpu_s = cpu;
  run.peak_rss_mb = static_cast<double>(rss_kib) / 1024.0;
  return run;
}

// The phases of a `teye analyze --timings` table ("<name> <wall s> <CPU s> <runs>" lines).
std::vector<PhaseTimings::Phase> ParseTimings(const std::string& path) {
  std::vector<PhaseTimings::Phase> phases;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;)
      w.push_back(word);
    if (w.size() < 4) continue;
    PhaseTimings::Phase p;
    char* end = nullptr;
    p.wall_s = std::strtod(w[w.size() - 3].c_str(), &end);
    if (*end) continue;
    p.cpu_s = std::strtod(w[w.size() - 2].c_str(), &end);
    if (*end) continue;
    p.count = static_cast<int>(std::strtol(w.back().c_str(), &end, 10));
    if (*end) continue;
    for (size_t i = 0; i + 3 < w.size(); ++i)
      p.name += (i ? " " : "") + w[i];
    phases.push_back(std::move(p));
  }
  return phases;
}

void Analyze(benchmark::State& state, const std::string& name) {
  const RealTile* t = Tile(name);
  if (!t) {
    state.SkipWithError("cannot write the tile");
    return;
  }
  const std::string err = S().dir + "/analyze.stderr";
  for (auto _ : state) {
    Run run = RunChild({TEYE_BIN, "analyze", "-f", "json", "--timings", t->path}, "/dev/null", err);
    if (run.wall_s < 0) {
      std::ifstream in(err);
      std::string first_line;
      std::getline(in, first_line);
      state.SkipWithError(("teye analyze failed: " + first_line).c_str());
      break;
    }
    state.SetIterationTime(run.wall_s);
    run.phases = ParseTimings(err);
    state.counters["process_cpu_s"] = run.cpu_s;
    state.counters["peak_rss_MB"] = run.peak_rss_mb;
    state.counters["rss_per_json_byte"] =
        run.peak_rss_mb * 1024 * 1024 / static_cast<double>(t->json_bytes);
    S().runs["analyze/" + name].push_back(std::move(run));
  }
  state.SetBytesProcessed(t->json_bytes * static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(t->events * static_cast<int64_t>(state.iterations()));
}

void GzipDc(benchmark::State& state, const std::string& name) {
  const RealTile* t = Tile(name);
  if (!t) {
    state.SkipWithError("cannot write the tile");
    return;
  }
  for (auto _ : state) {
    const Run run = RunChild({"gzip", "-dc", t->path}, "/dev/null", "/dev/null");
    if (run.wall_s < 0) {
      state.SkipWithError("gzip -dc failed (is gzip installed?)");
      break;
    }
    state.SetIterationTime(run.wall_s);
    state.counters["process_cpu_s"] = run.cpu_s;
    S().runs["gzip_dc/" + name].push_back(run);
  }
  state.SetBytesProcessed(t->json_bytes * static_cast<int64_t>(state.iterations()));
}

std::vector<int> RealSizes() {
  std::vector<int> sizes;
  const char* env = std::getenv("TEYE_BENCH_REAL_MB");
  std::stringstream ss(env && *env ? env : "300,1000");
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) sizes.push_back(std::stoi(item));
  return sizes;
}

const Run* Fastest(const std::vector<Run>& runs) {
  if (runs.empty()) return nullptr;
  return &*std::min_element(runs.begin(), runs.end(),
                            [](const Run& a, const Run& b) { return a.wall_s < b.wall_s; });
}
const Run* Slowest(const std::vector<Run>& runs) {
  if (runs.empty()) return nullptr;
  return &*std::max_element(runs.begin(), runs.end(),
                            [](const Run& a, const Run& b) { return a.wall_s < b.wall_s; });
}

void PrintTarget(const char* what, double measured, const char* op, double target) {
  const bool met = op[0] == '>' ? measured >= target : measured <= target;
  std::printf("  %-58s %7.2f  %s %.2f  %s\n", what, measured, op, target, met ? "met" : "MISSED");
}

void PrintTargets() {
  State& s = S();
  auto& runs = s.runs;
  auto mbps = [&](const std::string& bench, const std::string& tile) {
    const Run* r = Fastest(runs[bench + "/" + tile]);
    return r ? static_cast<double>(s.tiles[tile].json_bytes) / 1e6 / r->wall_s : 0.0;
  };
  std::printf(
      "\nReal content, fastest of 3 runs (slowest in brackets); load average (1, 5, 15 "
      "min) %s at the start, %s at the end\n",
      s.load_at_start.c_str(), LoadAverages().c_str());
  std::printf("%-15s %8s %14s %14s %14s %16s %13s %20s\n", "tile", "JSON MB", "scan MB/s",
              "cold scan MB/s", "gzip -dc s", "analyze s", "analyze MB/s", "peak RSS MB");
  for (const auto& [tile, t] : s.tiles) {
    const Run* fast = Fastest(runs["analyze/" + tile]);
    const Run* slow = Slowest(runs["analyze/" + tile]);
    if (!fast) continue;
    const Run* scan = Fastest(runs["scan/" + tile]);
    const Run* gzip = Fastest(runs["gzip_dc/" + tile]);
    double rss_min = fast->peak_rss_mb, rss_max = fast->peak_rss_mb;
    for (const Run& r : runs["analyze/" + tile])
      rss_min = std::min(rss_min, r.peak_rss_mb), rss_max = std::max(rss_max, r.peak_rss_mb);
    char scan_mbps[32] = "-", cold_mbps[32] = "-", gzip_s[32] = "-";
    const double mb = static_cast<double>(t.json_bytes) / 1e6;
    if (scan)
      std::snprintf(scan_mbps, sizeof scan_mbps, "%.0f (%.0f)", mbps("scan", tile),
                    mb / Slowest(runs["scan/" + tile])->wall_s);
    if (const Run* cold = Fastest(runs["scan_cold/" + tile]))
      std::snprintf(cold_mbps, sizeof cold_mbps, "%.0f (%.0f)", mb / cold->wall_s,
                    mb / Slowest(runs["scan_cold/" + tile])->wall_s);
    if (gzip)
      std::snprintf(gzip_s, sizeof gzip_s, "%.2f (%.2f)", gzip->wall_s,
                    Slowest(runs["gzip_dc/" + tile])->wall_s);
    std::printf("%-15s %8.0f %14s %14s %14s %7.2f (%6.2f) %13.0f %11.0f (%6.0f)\n", tile.c_str(),
                static_cast<double>(t.json_bytes) / 1e6, scan_mbps, cold_mbps, gzip_s, fast->wall_s,
                slow->wall_s, mbps("analyze", tile), rss_min, rss_max);
  }

  std::printf("\nTargets (DESIGN.md §8):\n");
  const std::string small = TileName(s.sizes_mb.front()), large = TileName(s.sizes_mb.back());
  if (mbps("scan", large) > 0 && mbps("analyze", large) > 0) {
    PrintTarget(("analyze MB/s / one-thread simdjson scan MB/s, " + large).c_str(),
                mbps("analyze", large) / mbps("scan", large), ">=", 1.0);
    std::printf("  %-58s %7.2f  (the cold scan, for reference)\n",
                ("analyze MB/s / cold scan MB/s, " + large).c_str(),
                mbps("analyze", large) / mbps("scan_cold", large));
  }
  if (small != large && mbps("analyze", small) > 0 && mbps("analyze", large) > 0)
    PrintTarget(("linear: analyze MB/s " + large + " / " + small).c_str(),
                mbps("analyze", large) / mbps("analyze", small), ">=", 0.8);
  for (int mb : s.sizes_mb) {
    const RealTile& t = s.tiles[TileName(mb)];
    if (const Run* r = Fastest(runs["analyze/" + TileName(mb)]))
      PrintTarget(("peak RSS / file, " + TileName(mb)).c_str(),
                  r->peak_rss_mb * 1024 * 1024 / static_cast<double>(t.json_bytes), "<=", 0.5);
  }
  const std::string gz = small + ".gz";
  const Run* analyze_gz = Fastest(runs["analyze/" + gz]);
  const Run* gzip_dc = Fastest(runs["gzip_dc/" + gz]);
  if (analyze_gz && gzip_dc)
    PrintTarget(("analyze time / gzip -dc time, " + gz).c_str(),
                analyze_gz->wall_s / gzip_dc->wall_s, "<=", 1.25);

  // The --timings split of the fastest run on the largest tile, as `teye analyze` printed it.
  if (const Run* fast = Fastest(runs["analyze/" + large])) {
    std::printf("\nteye analyze --timings, fastest run on %s (wall %.2f s, CPU %.2f s):\n",
                large.c_str(), fast->wall_s, fast->cpu_s);
    for (const auto& p : fast->phases)
      std::printf("  %-30s %8.3f %8.3f %5d\n", p.name.c_str(), p.wall_s, p.cpu_s, p.count);
  }
}

}  // namespace

void RegisterRealContentBenchmarks(const std::string& default_source) {
  State& s = S();
  const char* env = std::getenv("TEYE_BENCH_REAL_SOURCE");
  const std::string source = env && *env ? env : default_source;
  s.source_json = ReadSourceTrace(source);
  if (s.source_json.empty()) {
    std::fprintf(stderr,
                 "teye_bench: cannot read %s: skipping the real-content benchmarks "
                 "(../shared/traces absent? set TEYE_BENCH_REAL_SOURCE)\n",
                 source.c_str());
    return;
  }
  s.sizes_mb = RealSizes();
  s.load_at_start = LoadAverages();
  auto three_runs = [](benchmark::internal::Benchmark* b) {
    b->Iterations(1)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseManualTime();
  };
  for (size_t i = 0; i < s.sizes_mb.size(); ++i) {
    const std::string name = TileName(s.sizes_mb[i]);
    three_runs(benchmark::RegisterBenchmark(("scan/" + name).c_str(), Scan, name));
    three_runs(benchmark::RegisterBenchmark(("analyze/" + name).c_str(), Analyze, name));
    if (i == 0) {
      three_runs(
          benchmark::RegisterBenchmark(("gzip_dc/" + name + ".gz").c_str(), GzipDc, name + ".gz"));
      three_runs(
          benchmark::RegisterBenchmark(("analyze/" + name + ".gz").c_str(), Analyze, name + ".gz"));
    }
  }
}

void FinishRealContentBenchmarks() {
  State& s = S();
  if (!s.tiles.empty()) PrintTargets();
  std::error_code ec;
  if (!s.dir.empty()) fs::remove_all(s.dir, ec);
}

}  // namespace teye::bench
