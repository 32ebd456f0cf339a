// The micro-architecture view on the real traces in ../shared/traces:
//  - the counter FLOPs of the CUPTI range-profiler trace equal the sum, computed here from the raw
//    JSON, of add + mul + 2·fma over the f/h/d SASS counters of every cuda_profiler_range event;
//  - on every trace with recorded shapes, no op runs above its device's peak: TFLOP/s never, and
//    GB/s not for the bytes that must have crossed DRAM — all but twice the L2 cache per call
//    (the cache can serve reads and absorb writes up to its size; L2 sizes below are the
//    vendors', typed here);
//  - theoretical occupancy agrees with Kineto's "est. achieved occupancy %", which Kineto derives
//    from CUDA's own occupancy calculator: min(blocks / SMs, blocks per SM) × warps per block ÷
//    max warps per SM, for every kernel Kineto gave a nonzero estimate (it writes 0 where its
//    calculator call fails, e.g. for kernels with more than 48 KiB of dynamic shared memory).
// Skipped, with a message, when the folder is absent.
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"

namespace teye {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = TEYE_SHARED_TRACES;

std::vector<fs::path> TraceFiles() {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(kRoot, ec)) return files;
  for (const auto& e : fs::recursive_directory_iterator(kRoot, ec)) {
    const std::string p = e.path().string();
    if (e.is_regular_file() && (p.ends_with(".json") || p.ends_with(".json.gz")))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Gunzip(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  if (!f) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

TraceAnalysis Analyze(const fs::path& path) {
  auto t = ReadTraceFile(path.string());
  EXPECT_TRUE(t.ok()) << path;
  if (!t.ok()) return {};
  auto a = AnalyzeTrace(t.value(), {});
  EXPECT_TRUE(a.ok()) << path;
  return a.ok() ? std::move(a.value()) : TraceAnalysis{};
}

TEST(MicroArchCorpus, CounterFlopsEqualTheRawCountersSum) {
  const fs::path path =
      kRoot / "hta/tests/data/cupti_profiler/benchmark_result_924719_1679055439_trace.json.gz";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent";
  const nlohmann::json raw = nlohmann::json::parse(Gunzip(path));
  double expected = 0;
  int ranges = 0;
  for (const auto& e : raw["traceEvents"]) {
    if (e.value("cat", "") != "cuda_profiler_range") continue;
    ++ranges;
    for (const char p : {'f', 'h', 'd'}) {
      auto count = [&](const char* op) {
        const std::string key =
            std::string("smsp__sass_thread_inst_executed_op_") + p + op + "_pred_on.sum";
        return e["args"].value(key, 0.0);
      };
      expected += count("add") + count("mul") + 2 * count("fma");
    }
  }
  ASSERT_EQ(ranges, 77);
  const TraceAnalysis a = Analyze(path);
  const RooflineResult& r = a.roofline;
  ASSERT_TRUE(r.has_counters);
  EXPECT_EQ(r.counter_ranges, ranges);
  EXPECT_EQ(r.counter_flops, expected);
  EXPECT_EQ(r.source, "counters");
  // Every range matched its launch (the trace has no kernel activity), so the ops hold it all.
  EXPECT_EQ(r.counter_mapping.matched, ranges);
  double by_ops = 0;
  int64_t kernels = 0;
  for (const RooflineOp& op : r.ops) {
    by_ops += op.flops;
    kernels += op.kernels;
    EXPECT_EQ(op.flops_source, "counters") << op.name;
  }
  EXPECT_EQ(by_ops, expected);
  EXPECT_EQ(kernels, ranges);
}

// L2 cache per device, from the vendors' specifications.
double L2Bytes(const std::string& device) {
  const std::pair<const char*, double> kL2[] = {
      {"H100", 50e6}, {"A100", 40e6}, {"V100", 6e6}, {"B200", 126e6}, {"AMD Radeon", 8e6}};
  for (const auto& [name, bytes] : kL2)
    if (device.find(name) != std::string::npos) return bytes;
  return -1;
}

TEST(MicroArchCorpus, NoOpRunsAboveItsDevicesPeak) {
  const auto files = TraceFiles();
  if (files.empty()) GTEST_SKIP() << kRoot << " is absent: no corpus to test";
  int traces = 0, compute_checked = 0, bandwidth_checked = 0;
  for (const fs::path& path : files) {
    const TraceAnalysis a = Analyze(path);
    const RooflineResult& r = a.roofline;
    if (!r.valid || r.source == "counters" || r.peaks.origin != PeakOrigin::kTable) continue;
    ++traces;
    const double l2 = L2Bytes(r.peaks.device);
    for (const RooflineOp& op : r.ops) {
      if (op.gpu_ns <= 0) continue;
      if (op.peak_tflops > 0) {
        EXPECT_LE(op.achieved_tflops, op.peak_tflops)
            << path.filename() << ": " << op.name << " " << op.shape;
        ++compute_checked;
      }
      // The L2 cache can serve at most its size of a call's reads (what it held when the call
      // began) and absorb at most its size of its writes: the rest crossed DRAM.
      const double dram_at_least = op.bytes - 2 * l2 * static_cast<double>(op.calls);
      if (l2 > 0 && dram_at_least > 0) {
        const double gbps = dram_at_least / (static_cast<double>(op.gpu_ns) / 1e9) / 1e9;
        EXPECT_LE(gbps, r.peak_gbps) << path.filename() << ": " << op.name << " " << op.shape;
        ++bandwidth_checked;
      }
    }
  }
  EXPECT_GE(traces, 15);
  EXPECT_GE(compute_checked, 1000);
  EXPECT_GE(bandwidth_checked, 20);
}

TEST(MicroArchCorpus, TheoreticalOccupancyAgreesWithKinetosEstimate) {
  const auto files = TraceFiles();
  if (files.empty()) GTEST_SKIP() << kRoot << " is absent: no corpus to test";
  int64_t compared = 0;
  std::map<std::string, int> devices;
  for (const fs::path& path : files) {
    auto read = ReadTraceFile(path.string());
    ASSERT_TRUE(read.ok()) << path;
    const Trace& trace = read.value();
    const GpuOpTable& g = trace.gpu_ops();
    for (size_t i = 0; i < g.size(); ++i) {
      if (g.est_occupancy_pct[i] <= 0 || g.block_threads[i] <= 0) continue;
      const DeviceInfo* d = trace.FindDevice(g.device[i]);
      if (!d || d->num_sms <= 0) continue;
      const SmLimits sm = SmLimitsOf(*d);
      if (!sm.known) continue;
      const Occupancy o =
          TheoreticalOccupancy(sm, g.block_threads[i], g.registers[i], g.shared_memory[i]);
      const double blocks = std::min(static_cast<double>(g.grid_blocks[i]) / d->num_sms,
                                     static_cast<double>(o.blocks_per_sm));
      const double expected = 100.0 * blocks * o.warps_per_block / sm.max_warps_per_sm;
      EXPECT_NEAR(expected, g.est_occupancy_pct[i], 1.0)  // Kineto writes whole percents
          << path.filename() << ": " << trace.str(g.name[i]).substr(0, 100) << " grid "
          << g.grid_blocks[i] << " block " << g.block_threads[i] << " regs " << g.registers[i]
          << " smem " << g.shared_memory[i];
      ++compared;
      ++devices[d->name];
    }
  }
  EXPECT_GE(compared, 10000);
  EXPECT_GE(devices.size(), 4u);  // V100, A100, H100, B200 generations
}

}  // namespace
}  // namespace teye
