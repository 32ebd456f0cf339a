// Reader and analyze benchmarks (docs/performance.md): load (read + inflate), read into the
// model, and a full analysis with its JSON report, on simulated traces of 250 MB and 1 GB.
//   TEYE_BENCH_DIR       where the traces are written once (default: <build>/bench-traces)
//   TEYE_BENCH_SIZES_MB  comma-separated sizes (default: 250,1000)
// Counters: bytes_per_second over the JSON parsed (inflated), items_per_second over trace
// events, peak_rss_MB of the process during the benchmark and rss_per_json_byte (peak RSS over
// the inflated JSON size; the target is at most 1).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/json_writer.h"

#include "bench_traces.h"
#include "input_buffer.h"

namespace teye::bench {
namespace {

// CPU seconds of the whole process (every thread), user + system.
double ProcessCpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Set at the start of each benchmark: the process CPU time the iterations use.
double cpu_at_start = 0;

// Restarts the kernel's peak-RSS (VmHWM) count at the current RSS, and the CPU clock.
void StartMeasuring() {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  cpu_at_start = ProcessCpuSeconds();
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void SetCounters(benchmark::State& state, const BenchTrace& t, int64_t parsed, int64_t events) {
  const double cpu = (ProcessCpuSeconds() - cpu_at_start) / static_cast<double>(state.iterations());
  // MB of JSON per CPU-second over all threads: what 2 idle cores would give, up to twice this
  // when the work is parallel. Measured wall times suffer from other load on a shared machine.
  state.counters["process_cpu_s"] = cpu;
  state.counters["MB_per_cpu_s"] = static_cast<double>(parsed) / 1e6 / cpu;
  state.SetBytesProcessed(parsed * static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(events * static_cast<int64_t>(state.iterations()));
  const double peak = PeakRssMb();
  state.counters["file_MB"] = static_cast<double>(t.bytes) / 1e6;
  state.counters["peak_rss_MB"] = peak;
  state.counters["rss_per_json_byte"] = peak * 1024 * 1024 / static_cast<double>(parsed);
}

void Load(benchmark::State& state, const BenchTrace& t) {
  StartMeasuring();
  int64_t parsed = 0;
  for (auto _ : state) {
    auto input = import::LoadInputFile(t.path);
    if (!input.ok()) state.SkipWithError(input.error().ToString().c_str());
    parsed = input.ok() ? static_cast<int64_t>(input.value().size()) : 0;
    // A mapped file is only read when touched: touch every page, as a parser would.
    unsigned sum = 0;
    for (int64_t i = 0; i < parsed; i += 4096)
      sum += static_cast<unsigned char>(input.value().data()[i]);
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, t, parsed, t.events);
}

void Read(benchmark::State& state, const BenchTrace& t) {
  StartMeasuring();
  int64_t parsed = 0, events = 0;
  for (auto _ : state) {
    auto trace = ReadTraceFile(t.path);
    if (!trace.ok()) {
      state.SkipWithError(trace.error().ToString().c_str());
      break;
    }
    parsed = trace.value().info().bytes_parsed;
    events = trace.value().stats().events_seen;
  }
  SetCounters(state, t, parsed, events);
}

void Analyze(benchmark::State& state, const BenchTrace& t) {
  StartMeasuring();
  int64_t parsed = 0, events = 0;
  for (auto _ : state) {
    auto trace = ReadTraceFile(t.path);
    if (!trace.ok()) {
      state.SkipWithError(trace.error().ToString().c_str());
      break;
    }
    auto analysis = AnalyzeTrace(trace.value(), AnalysisOptions{});
    if (!analysis.ok()) {
      state.SkipWithError(analysis.error().ToString().c_str());
      break;
    }
    parsed = trace.value().info().bytes_parsed;
    events = trace.value().stats().events_seen;
    teye::Report report;
    report.teye_version = "bench";
    report.ranks.push_back(std::move(analysis.value()));
    benchmark::DoNotOptimize(WriteJsonReport(report));
  }
  SetCounters(state, t, parsed, events);
}

std::vector<int> Sizes() {
  std::vector<int> sizes;
  const char* env = std::getenv("TEYE_BENCH_SIZES_MB");
  std::stringstream ss(env && *env ? env : "250,1000");
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) sizes.push_back(std::stoi(item));
  return sizes;
}

}  // namespace
}  // namespace teye::bench

int main(int argc, char** argv) {
  using namespace teye::bench;
  benchmark::Initialize(&argc, argv);
  // Pin glibc's mmap threshold at its start value: it otherwise rises after the first iteration
  // frees its big columns, later iterations keep up to 32 MB blocks in the heap, and the peak
  // RSS measured would be the benchmark loop's, not what one `teye analyze` run uses.
  ::mallopt(M_MMAP_THRESHOLD, 128 << 10);
  const char* dir_env = std::getenv("TEYE_BENCH_DIR");
  const std::string dir = dir_env && *dir_env ? dir_env : TEYE_BENCH_DEFAULT_DIR;
  const std::vector<int> sizes = Sizes();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int mb = sizes[i];
    const int iterations = mb >= 500 ? 2 : 4;
    std::vector<std::pair<std::string, BenchTrace>> traces = {
        {std::to_string(mb) + "MB", EnsureBenchTrace(dir, mb, false)}};
    if (i == 0) traces.push_back({std::to_string(mb) + "MB.gz", EnsureBenchTrace(dir, mb, true)});
    for (const auto& [name, t] : traces) {
      benchmark::RegisterBenchmark(("load/" + name).c_str(), Load, t)
          ->Iterations(iterations)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("read_model/" + name).c_str(), Read, t)
          ->Iterations(iterations)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("analyze/" + name).c_str(), Analyze, t)
          ->Iterations(iterations)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
