// The roofline end to end on small traces: kernels find their op (once, at the op that ran),
// achieved rates and the bound follow from the work and the A100's datasheet, counters replace
// shape estimates, and the compute/memory split of the breakdown and bound class follows the
// evidence. Expected numbers are worked by hand in the comments.
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

TraceAnalysis Analyze(const TraceMaker& m) {
  Trace t = m.Build();
  auto a = AnalyzeTrace(t, {});
  if (!a.ok()) throw std::runtime_error(a.error().ToString());
  return std::move(a.value());
}

// A cpu_op with recorded arguments on the launching thread (pid 1, tid 1), times in µs.
std::string Op(std::string_view name, double ts, double dur, std::string_view dims,
               std::string_view types, std::string_view concrete = "[]") {
  return fmt::format(R"({{"ph":"X","cat":"cpu_op","name":"{}","pid":1,"tid":1,"ts":{},"dur":{},)"
                     R"("args":{{"Input Dims":{},"Input type":{},"Concrete Inputs":{}}}}})",
                     name, ts, dur, dims, types, concrete);
}

constexpr std::string_view kBf16x3 =
    R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16","Scalar","Scalar"])";

double MsOf(const TraceAnalysis& a, TimeCategory c) {
  for (const auto& s : a.shares)
    if (s.category == c) return s.ms_per_step;
  return -1;
}

TEST(RooflineTest, GemmCountsOnceAtTheOpThatRanAgainstTheDatasheetRoof) {
  // linear → addmm (bf16, X[1024,4096]·W[4096,4096] + b[4096]) → one 300 µs kernel.
  // FLOPs 2·1024·4096·4096 + 1024·4096 = 34,363,932,672; bytes 2·(1024·4096 + 4096·4096 +
  // 1024·4096) + 2·4096 = 50,339,840. Achieved 34,363,932,672 / 300 µs = 114.55 TFLOP/s,
  // 167.8 GB/s; intensity 682.6 FLOP/B. A100 80GB SXM: BF16 312 TFLOP/s, 2,039 GB/s, ridge
  // 153.0: compute-bound; roof time 34,363,932,672 / 312e12 = 0.11014 ms, 36.7% of 0.3 ms.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Raw(Op("aten::linear", 10, 500, "[[1024,4096],[4096,4096],[4096]]",
              R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16"])"))
      .Raw(Op("aten::t", 12, 5, "[[4096,4096]]", R"(["c10::BFloat16"])"))
      .Raw(Op("aten::addmm", 20, 480, "[[4096],[1024,4096],[4096,4096],[],[]]", kBf16x3,
              R"(["","","","1","1"])"))
      .Kernel("sm80_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x32", 100, 300, 30);
  const TraceAnalysis a = Analyze(m);
  const RooflineResult& r = a.roofline;
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.source, "shapes");
  EXPECT_EQ(r.peaks.origin, PeakOrigin::kTable);
  EXPECT_EQ(r.dtype, DataType::kBf16);
  EXPECT_EQ(r.peak_tflops, 312);
  EXPECT_EQ(r.peak_gbps, 2039);
  EXPECT_NEAR(r.ridge, 153.02, 0.01);
  ASSERT_EQ(r.ops.size(), 1u);  // addmm only: linear launched nothing itself
  const RooflineOp& op = r.ops[0];
  EXPECT_EQ(op.name, "aten::addmm");
  EXPECT_EQ(op.calls, 1);
  EXPECT_EQ(op.flops, 34363932672.0);
  EXPECT_EQ(op.bytes, 50339840);
  EXPECT_NEAR(op.achieved_tflops, 114.546, 0.001);
  EXPECT_NEAR(op.achieved_gbps, 167.80, 0.01);
  EXPECT_NEAR(op.intensity, 682.64, 0.01);
  EXPECT_EQ(op.bound, "compute");
  EXPECT_NEAR(op.roof_ms, 0.110141, 1e-6);
  EXPECT_NEAR(op.efficiency, 0.36714, 1e-5);
  EXPECT_DOUBLE_EQ(r.coverage(), 1.0);
}

TEST(RooflineTest, EvidenceDecidesComputeOrMemoryOverTheKernelName) {
  // An elementwise-named kernel that does a large GEMM (intensity 1365 FLOP/B) and a
  // GEMM-named kernel that does an add (0.17 FLOP/B): the roofline decides, and says so.
  // Step 0-1000 µs: the GEMM kernel 50-650, the add 650-950: 90% useful GPU time.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Raw(Op("aten::mm", 10, 30, "[[4096,4096],[4096,4096]]",
              R"(["c10::BFloat16","c10::BFloat16"])"))
      .Kernel("void at::native::vectorized_elementwise_kernel<4, Gemm>", 50, 600, 15)
      .Raw(Op("aten::add", 40, 30, "[[4096,4096],[4096,4096],[]]",
              R"(["c10::BFloat16","c10::BFloat16","Scalar"])"))
      .Kernel("ampere_sgemm_128x64_nn", 650, 300, 45);
  const TraceAnalysis a = Analyze(m);
  ASSERT_EQ(a.roofline.ops.size(), 2u);
  EXPECT_NEAR(MsOf(a, TimeCategory::kCompute), 0.600, 1e-9);
  EXPECT_NEAR(MsOf(a, TimeCategory::kMemoryBound), 0.300, 1e-9);
  ASSERT_TRUE(a.bound.valid);
  EXPECT_EQ(a.bound.run.cls, BoundClass::kCompute);
  EXPECT_NE(a.bound.run.reason.find("by roofline evidence"), std::string::npos)
      << a.bound.run.reason;
}

TEST(RooflineTest, CountersReplaceShapesAndSayWhereTheyCameFrom) {
  // The add's kernel (correlation 1) measured ffma 1,000, fadd 500 and 8 MB read + 4 MB written:
  // FLOPs 2·1,000 + 500 = 2,500 and 12,000,000 bytes, from counters, not from its shapes.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Raw(Op("aten::add", 10, 30, "[[1048576],[1048576],[]]", R"(["float","float","Scalar"])"))
      .Kernel("void at::native::vectorized_elementwise_kernel<4, add>", 50, 100, 15)
      .Raw(R"({"ph":"X","cat":"cuda_profiler_range","name":"vectorized_elementwise_kernel",)"
           R"("pid":0,"tid":0,"ts":50,"dur":100,"args":{"correlation":1,)"
           R"("smsp__sass_thread_inst_executed_op_ffma_pred_on.sum":1000,)"
           R"("smsp__sass_thread_inst_executed_op_fadd_pred_on.sum":500,)"
           R"("smsp__sass_thread_inst_executed_op_fmul_pred_on.sum":0,)"
           R"("dram__bytes_read.sum":8000000,"dram__bytes_write.sum":4000000}})");
  const TraceAnalysis a = Analyze(m);
  const RooflineResult& r = a.roofline;
  ASSERT_TRUE(r.has_counters);
  EXPECT_EQ(r.counter_flops, 2500);
  EXPECT_EQ(r.counter_dram_bytes, 12000000);
  EXPECT_EQ(r.counter_mapping.how, "correlation");
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].flops, 2500);
  EXPECT_EQ(r.ops[0].bytes, 12000000);
  EXPECT_EQ(r.ops[0].flops_source, "counters");
  EXPECT_EQ(r.ops[0].bytes_source, "counters");
  EXPECT_EQ(r.source, "counters");
}

TEST(RooflineTest, KinetoCounterRangesMatchLaunchesInOrderOnlyWhenTheCountsAgree) {
  // Kineto's ranges carry no correlation: two ranges for two launches match in order; a third
  // range with no launch leaves them unmatched, and the total still counts.
  auto range = [](int ffma) {
    return fmt::format(
        R"({{"ph":"X","cat":"cuda_profiler_range","name":"__missing__","pid":0,"tid":0,)"
        R"("ts":900,"dur":1,"args":{{"smsp__sass_thread_inst_executed_op_ffma_pred_on.sum":{}}}}})",
        ffma);
  };
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Raw(Op("aten::relu", 10, 20, "[[64]]", R"(["float"])"))
      .Kernel("void at::native::vectorized_elementwise_kernel<4, relu>", 50, 10, 15)
      .Raw(Op("aten::gelu", 30, 20, "[[64],[]]", R"(["float",""])"))
      .Kernel("void at::native::vectorized_elementwise_kernel<4, gelu>", 70, 10, 35)
      .Raw(range(10))
      .Raw(range(20));
  const TraceAnalysis a = Analyze(m);
  EXPECT_EQ(a.roofline.counter_mapping.how, "launch order");
  EXPECT_EQ(a.roofline.counter_mapping.matched, 2);
  ASSERT_EQ(a.roofline.ops.size(), 2u);
  for (const RooflineOp& op : a.roofline.ops)
    EXPECT_EQ(op.flops, op.name == "aten::relu" ? 20 : 40) << op.name;

  m.Raw(range(30));
  const TraceAnalysis b = Analyze(m);
  EXPECT_EQ(b.roofline.counter_mapping.matched, 0);
  EXPECT_EQ(b.roofline.counter_flops, 120);
  for (const RooflineOp& op : b.roofline.ops)
    EXPECT_EQ(op.flops_source, "shapes");
}

TEST(RooflineTest, AmpIsPricedFromTheAchievedFractionOfTheRoof) {
  // An FP32 2048³ GEMM on SIMT cores (2·2048³ = 17.18 GFLOP) for 2 ms of a 2.2 ms step that
  // waits for it (cudaDeviceSynchronize) on an A100: 8.59 TFLOP/s, 44% of the 19.5 TFLOP/s FP32
  // roof. Kept at 44% of the 312 TFLOP/s BF16 Tensor Core roof it takes
  // 17.18e9 / (0.4405 · 312e12) = 0.125 ms (its halved bytes, 25 MB at 2,039 GB/s, take 12 µs):
  // 1/16 of 2 ms, so the step, which waits for it, saves 2 − 0.125 = 1.875 ms.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 2200)
      .Raw(Op("aten::mm", 10, 40, "[[2048,2048],[2048,2048]]", R"(["float","float"])"))
      .Kernel("ampere_sgemm_128x64_nn", 100, 2000, 20)
      .Host("cuda_runtime", "cudaDeviceSynchronize", 60, 2050);
  const TraceAnalysis a = Analyze(m);
  const Recommendation* amp = nullptr;
  for (const Recommendation& r : a.recommendations)
    if (r.id == "amp") amp = &r;
  ASSERT_NE(amp, nullptr);
  EXPECT_NE(amp->method.find("fraction of its FP32 roof"), std::string::npos) << amp->method;
  EXPECT_NEAR(amp->saving_ms, 1.875, 0.01);
}

TEST(RooflineTest, UnknownDeviceHasNoRoofsAndSaysSo) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Raw(Op("aten::mm", 10, 30, "[[64,64],[64,64]]", R"(["float","float"])"))
      .Kernel("ampere_sgemm_64x64_nn", 50, 10, 15);
  std::string json = m.Json();
  json.replace(json.find("NVIDIA A100-SXM4-80GB"), 21, "NVIDIA Mystery GPU");
  auto t = ReadTraceBytes("t.json", json);
  ASSERT_TRUE(t.ok());
  auto a = AnalyzeTrace(t.value(), {});
  ASSERT_TRUE(a.ok());
  const RooflineResult& r = a.value().roofline;
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.peaks.origin, PeakOrigin::kUnknown);
  EXPECT_EQ(r.ops[0].bound, "unknown");
  EXPECT_GT(r.ops[0].achieved_tflops, 0);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("not in the peak table"), std::string::npos);
}

TEST(OccupancySummaryTest, SmEfficiencyIsBlocksOverSmsWeightedByTime) {
  // 108 SMs: a 54-block kernel for 100 µs (0.5) and a 216-block kernel for 300 µs (capped at 1):
  // (0.5·100 + 1·300) / 400 = 0.875. The 54-block kernel fills at most half: 0.1 ms small-grid.
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Kernel("k_small", 100, 100, 90, 7, 1,
              R"("grid":[54,1,1],"block":[128,1,1],"registers per thread":32,"shared memory":0)")
      .Kernel("k_big", 300, 300, 290, 7, 1,
              R"("grid":[216,1,1],"block":[256,1,1],"registers per thread":64,)"
              R"("shared memory":0,"est. achieved occupancy %":50)");
  const TraceAnalysis a = Analyze(m);
  const OccupancyResult& o = a.occupancy;
  ASSERT_TRUE(o.valid);
  EXPECT_NEAR(o.sm_efficiency, 0.875, 1e-12);
  ASSERT_EQ(o.step_sm_efficiency.size(), 1u);
  EXPECT_NEAR(o.step_sm_efficiency[0], 0.875, 1e-12);
  EXPECT_EQ(o.small_grid_ns, 100000);
  ASSERT_EQ(o.kernels.size(), 2u);
  EXPECT_EQ(o.kernels[0].name, "k_big");
  EXPECT_DOUBLE_EQ(o.kernels[0].occupancy.theoretical, 0.5);  // 64 regs, 256 threads: 4 blocks
  EXPECT_DOUBLE_EQ(o.kernels[0].achieved, 0.5);
  EXPECT_LT(o.kernels[1].achieved, 0);  // not recorded
}

}  // namespace
}  // namespace teye
