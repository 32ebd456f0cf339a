// Each rule of the catalogue fires on a run with its problem and stays silent on one without.
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/synth/synth.h"

#include "trace_maker.h"

namespace teye {
namespace {

TraceAnalysis Analyze(const Trace& trace) {
  auto a = AnalyzeTrace(trace, {});
  if (!a.ok()) throw std::runtime_error(a.error().ToString());
  return std::move(a.value());
}

TraceAnalysis AnalyzeKnobs(const synth::Knobs& k) {
  std::ostringstream text;
  synth::Simulate(k, text);
  auto trace = ReadTraceBytes("synth", text.str());
  if (!trace.ok()) throw std::runtime_error(trace.error().ToString());
  return Analyze(trace.value());
}

synth::Knobs Scenario(const std::string& name, uint64_t seed = 1) {
  return synth::ScenarioKnobs(name, seed).value();
}

bool Fires(const TraceAnalysis& a, std::string_view id) {
  for (const Recommendation& r : a.recommendations)
    if (r.id == id) {
      EXPECT_FALSE(r.evidence.empty()) << id;
      EXPECT_FALSE(r.action.empty()) << id;
      EXPECT_FALSE(r.method.empty()) << id;
      return true;
    }
  return false;
}

TEST(Rules, CatalogueHasEveryRuleOnce) {
  std::set<std::string_view> ids;
  for (const RuleInfo& r : Rules())
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
  EXPECT_EQ(ids.size(), 16u);
}

TEST(Rules, DataLoaderWorkers) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("input")), "dataloader_workers"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "dataloader_workers"));
}

TEST(Rules, PinMemory) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("input-pageable")), "pin_memory"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("input")), "pin_memory"));  // pinned already
}

TEST(Rules, OverlapInputCopies) {
  // Pinned, non-blocking, but on the compute stream: large copies sit between the kernels.
  synth::Knobs k = Scenario("input-pageable");
  k.pin_memory = true;
  k.non_blocking = true;
  k.copy_stream = false;
  k.batch_mb = 2000;
  EXPECT_TRUE(Fires(AnalyzeKnobs(k), "overlap_input_copies"));
  k.copy_stream = true;
  EXPECT_FALSE(Fires(AnalyzeKnobs(k), "overlap_input_copies"));
}

TEST(Rules, RemoveSyncs) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("host-sync")), "remove_syncs"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "remove_syncs"));
}

TEST(Rules, MixedPrecision) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "amp"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("memory-elementwise")), "amp"));  // bf16 already
}

TEST(Rules, FuseElementwise) {
  synth::Knobs k = Scenario("memory-elementwise");
  EXPECT_TRUE(Fires(AnalyzeKnobs(k), "fuse_elementwise"));
  k.fused_elementwise = true;
  EXPECT_FALSE(Fires(AnalyzeKnobs(k), "fuse_elementwise"));
}

TEST(Rules, FusedOptimizer) {
  synth::Knobs k = Scenario("memory-elementwise");
  k.elementwise_per_layer = 1;
  k.fused_optimizer = false;
  k.parameters = 600;
  EXPECT_TRUE(Fires(AnalyzeKnobs(k), "fused_optimizer"));
  k.fused_optimizer = true;
  EXPECT_FALSE(Fires(AnalyzeKnobs(k), "fused_optimizer"));
}

TEST(Rules, GradientBucketing) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("comm-small-buckets")), "gradient_bucketing"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("comm-no-overlap")), "gradient_bucketing"));
}

TEST(Rules, OverlapCommunication) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("comm-no-overlap")), "overlap_comm"));
  synth::Knobs k = Scenario("comm-no-overlap");
  k.overlap_comm = true;
  EXPECT_FALSE(Fires(AnalyzeKnobs(k), "overlap_comm"));
}

TEST(Rules, CudaGraphs) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("host-launch")), "cuda_graphs"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "cuda_graphs"));
}

TEST(Rules, LargerBatch) {
  EXPECT_TRUE(Fires(AnalyzeKnobs(Scenario("host-launch")), "larger_batch"));
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("host-sync")), "larger_batch"));  // fix syncs first
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "larger_batch"));
}

// Four 1 ms steps of one kernel each, `transpose_us` of them in layout transposes, and
// allocator events peaking at `peak_fraction` of the 80 GB device.
Trace HandMade(double transpose_us, double peak_fraction) {
  test::TraceMaker m;
  for (int s = 0; s < 4; ++s) {
    const double t = s * 1000.0;
    m.Host("user_annotation", fmt::format("ProfilerStep#{}", s + 1), t, 1000);
    m.Kernel("ampere_sgemm_128x64_nn", t + 20, 900 - transpose_us, t + 5);
    if (transpose_us > 0)
      m.Kernel(
          "void cudnn::ops::nchwToNhwcKernel<float, float, float, false, true, "
          "(cudnnKernelDataType_t)2>",
          t + 925 - transpose_us, transpose_us, t + 10);
    m.Host("cuda_runtime", "cudaDeviceSynchronize", t + 12, 914);  // the step waits for the GPU
    const double total = 85899345920.0;
    m.Raw(fmt::format(R"({{"ph":"i","cat":"cpu_instant_event","s":"t","name":"[memory]","pid":1,)"
                      R"("tid":1,"ts":{},"args":{{"Device Type":1,"Device Id":0,"Addr":1,)"
                      R"("Bytes":1048576,"Total Allocated":{:.0f},"Total Reserved":{:.0f}}}}})",
                      t + 30, total * peak_fraction, total * peak_fraction));
  }
  return m.Build();
}

TEST(Rules, ChannelsLast) {
  EXPECT_TRUE(Fires(Analyze(HandMade(200, 0.5)), "channels_last"));
  EXPECT_FALSE(Fires(Analyze(HandMade(0, 0.5)), "channels_last"));
}

TEST(Rules, MemoryPressure) {
  const TraceAnalysis full = Analyze(HandMade(0, 0.95));
  ASSERT_TRUE(Fires(full, "memory_pressure"));
  EXPECT_EQ(full.recommendations.back().id, "memory_pressure");  // no time saving: ranked last
  EXPECT_FALSE(Fires(Analyze(HandMade(0, 0.5)), "memory_pressure"));
}

// Four 2 ms steps: a kernel, then Python preprocessing on the launching thread.
Trace InlinePreprocessing(double python_us, double kernel_us = 300) {
  test::TraceMaker m;
  for (int s = 0; s < 4; ++s) {
    const double t = s * 2000.0;
    m.Host("user_annotation", fmt::format("ProfilerStep#{}", s + 1), t, 2000);
    m.Kernel("ampere_sgemm_128x64_nn", t + 20, kernel_us, t + 5);
    if (python_us > 0)
      m.Host("python_function", "transformers/image_transforms.py(390): normalize", t + 30,
             python_us);
  }
  return m.Build();
}

TEST(Rules, MoveCpuWork) {
  const TraceAnalysis a = Analyze(InlinePreprocessing(1500));
  ASSERT_TRUE(Fires(a, "move_cpu_work"));
  EXPECT_EQ(a.recommendations.front().title, "Move input preprocessing off the training thread");
  EXPECT_FALSE(Fires(Analyze(InlinePreprocessing(1500, 1950)), "move_cpu_work"));  // GPU busy
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "move_cpu_work"));
}

// Replayed savings first, then analytic ones, then none; by saving within each.
void ExpectRankedByTierThenSaving(const TraceAnalysis& a) {
  for (size_t i = 1; i < a.recommendations.size(); ++i) {
    const Recommendation& prev = a.recommendations[i - 1];
    const Recommendation& next = a.recommendations[i];
    EXPECT_LE(static_cast<int>(prev.basis), static_cast<int>(next.basis)) << next.id;
    if (prev.basis == next.basis) EXPECT_GE(prev.saving_ms, next.saving_ms) << next.id;
  }
}

TEST(Rules, RankedBySaving) {
  const TraceAnalysis a = AnalyzeKnobs(Scenario("demo"));
  ASSERT_GE(a.recommendations.size(), 2u);
  ExpectRankedByTierThenSaving(a);
}

TEST(Rules, AnalyticSavingsNeverOutrankReplayedOnes) {
  // host-launch: larger_batch's formula can promise more than the replayed CUDA graphs.
  const TraceAnalysis a = AnalyzeKnobs(Scenario("host-launch"));
  bool analytic = false;
  for (const Recommendation& r : a.recommendations)
    analytic |= r.basis == SavingBasis::kAnalytic;
  ASSERT_TRUE(analytic);
  EXPECT_EQ(a.recommendations.front().basis, SavingBasis::kReplayed);
  ExpectRankedByTierThenSaving(a);
}

// Four steps of `load_us` of inline loading (num_workers=0) then `gpu_us` of GPU work.
Trace InlineLoader(double load_us, double gpu_us) {
  test::TraceMaker m;
  const double step = load_us + gpu_us + 100;
  for (int s = 0; s < 4; ++s) {
    const double t = s * step;
    m.Host("user_annotation", fmt::format("ProfilerStep#{}", s + 1), t, step);
    m.Host("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", t,
           load_us);
    m.Host("cpu_op", "aten::stack", t + 10, load_us - 20);
    m.Kernel("ampere_sgemm_128x64_nn", t + load_us + 20, gpu_us, t + load_us + 5);
    m.Host("cuda_runtime", "cudaDeviceSynchronize", t + load_us + 10, gpu_us + 20);
  }
  return m.Build();
}

TEST(Rules, InlineLoaderIsPricedAsTheLoadingLessTheHandOff) {
  // 6 ms of loading on the training thread each step, 4 ms of GPU work after it: with workers
  // the step loses the loading but a 75 µs hand-off.
  const TraceAnalysis a = Analyze(InlineLoader(6000, 4000));
  ASSERT_FALSE(a.recommendations.empty());
  const Recommendation& r = a.recommendations.front();
  EXPECT_EQ(r.id, "dataloader_workers");
  EXPECT_NEAR(r.saving_ms, 6.0 - 0.075, 0.1) << r.method;
  EXPECT_NE(r.method.find("single-process loader"), std::string::npos) << r.method;
  EXPECT_EQ(a.bound.run.cls, BoundClass::kInput);
}

TEST(Rules, BalanceRanks) {
  // One rank's all-reduces of one size: most of them 3x the fastest, i.e. waiting.
  test::TraceMaker m;
  for (int s = 0; s < 4; ++s) {
    const double t = s * 1000.0;
    m.Host("user_annotation", fmt::format("ProfilerStep#{}", s + 1), t, 1000);
    m.Kernel("ampere_sgemm_128x64_nn", t + 20, 400, t + 5);
    m.Kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL(x)", t + 430, s == 0 ? 100 : 300, t + 10, 21,
             1, R"("Collective name":"allreduce","In msg nelems":1000000,"dtype":"Float")");
    m.Host("cuda_runtime", "cudaDeviceSynchronize", t + 15, 720);
  }
  const TraceAnalysis a = Analyze(m.Build());
  const Recommendation* r = nullptr;
  for (const Recommendation& x : a.recommendations)
    if (x.id == "balance_ranks") r = &x;
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->basis, SavingBasis::kReplayed);
  EXPECT_NEAR(r->saving_ms, 0.15, 0.03);  // 3 of 4 steps lose 200 µs
  EXPECT_NE(r->action.find("teye analyze DIR"), std::string::npos);
  // Without repeats at one size one rank cannot tell waiting from transfer: advice, no number.
  EXPECT_FALSE(Fires(AnalyzeKnobs(Scenario("compute-fp32")), "balance_ranks"));
}

TEST(Rules, OnlyInputRulesRunWithoutAGpu) {
  const TraceAnalysis a = AnalyzeKnobs(Scenario("cpu-only"));
  ASSERT_TRUE(a.breakdown.host_timeline);
  ASSERT_FALSE(a.recommendations.empty());
  for (const Recommendation& r : a.recommendations)
    EXPECT_TRUE(r.id == "dataloader_workers" || r.id == "move_cpu_work") << r.id;
  EXPECT_EQ(a.recommendations.front().id, "dataloader_workers");
}

TEST(Rules, AnInputBoundRunSaysWhyAnotherFixRanksFirst) {
  // Inline loading (input-bound) and FP32 GEMMs that AMP shortens by more than the loading.
  const TraceAnalysis a = Analyze(InlineLoader(3000, 9000));
  ASSERT_EQ(a.bound.run.cls, BoundClass::kInput);
  ASSERT_FALSE(a.recommendations.empty());
  ASSERT_EQ(a.recommendations.front().id, "amp");
  bool said = false;
  for (const std::string& n : a.notes)
    said |= n.find("input-bound, yet amp ranks first") != std::string::npos;
  EXPECT_TRUE(said);
}

}  // namespace
}  // namespace teye
