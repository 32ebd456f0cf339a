// Reader and analyze benchmarks (docs/performance.md): load (read + inflate), read into the
// model, and a full analysis with its JSON report, on simulated traces of 250 MB and 1 GB; then
// the same on real content (real_content_bench.cpp), with the four targets.
//   TEYE_BENCH_DIR       where the traces are written once (default: <build>/bench-traces)
//   TEYE_BENCH_SIZES_MB  comma-separated sizes (default: 250,1000)
// Counters: bytes_per_second over the JSON parsed (inflated), items_per_second over trace
// events, peak_rss_MB of the process during the benchmark and rss_per_json_byte (peak RSS over
// the inflated JSON size; the target is at most 0.5).
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

#include "bench_measure.h"
#include "bench_traces.h"
#include "input_buffer.h"
#include "real_content_bench.h"

namespace teye::bench {
namespace {

// Set at the start of each benchmark: the process CPU time the iterations use.
double cpu_at_start = 0;

// Restarts the kernel's peak-RSS (VmHWM) count at the current RSS, and the CPU clock.
void StartMeasuring() {
  RestartPeakRss();
  cpu_at_start = ProcessCpuSeconds();
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
  Executor executor(0);  // as `teye analyze`: one executor for the read and the analysis
  StartMeasuring();
  int64_t parsed = 0, events = 0;
  for (auto _ : state) {
    ReadOptions read;
    read.executor = &executor;
    auto trace = ReadTraceFile(t.path, read);
    if (!trace.ok()) {
      state.SkipWithError(trace.error().ToString().c_str());
      break;
    }
    AnalysisOptions options;
    options.executor = &executor;
    auto analysis = AnalyzeTrace(trace.value(), options);
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
  RegisterRealContentBenchmarks(TEYE_SHARED_TRACES
                                "/hta/tests/data/trace_diff/control/control.json.gz");
  benchmark::RunSpecifiedBenchmarks();
  FinishRealContentBenchmarks();
  benchmark::Shutdown();
  return 0;
}
