// Counter mode without a GPU: CUPTI's launch callbacks are fed with the real CUpti_CallbackData
// and CUpti_ResourceData layouts, and the range profiler is a fake that takes and fills CUPTI's
// own parameter structs (counters_api.h). The trace must hold one `cuda_profiler_range` event per
// kernel launch, with its correlation id, demangled name and every metric value, in the order
// the profiler measured them — and teye's reader must read them back as Kineto's are read.
#include <cstring>

#include "teye/analyzers/kernel_counters.h"
#include "teye/import/read_trace.h"

#include "clock.h"
#include "collector.h"
#include "collector_test_util.h"
#include "cupti_counters.h"

namespace teye::collector {
namespace {

using teye::test::Events;
using teye::test::LoadJson;
using teye::test::TempDir;

// The fake range profiler: a pass measures the kernels run since its start; range i of the
// pass reads as metric m = 1000·i + m.
struct FakeProfiler {
  int kernels_run = 0;  // since the last start
  int starts = 0, stops = 0, set_configs = 0, enables = 0, disables = 0, pushes = 0;
  size_t metrics = 0;
  uint32_t max_ranges = 0;
  CUptiResult add_metrics_result = CUPTI_SUCCESS;
} g_fake;

CUpti_RangeProfiler_Object* const kObject = reinterpret_cast<CUpti_RangeProfiler_Object*>(0x5150);
CUpti_Profiler_Host_Object* const kHost = reinterpret_cast<CUpti_Profiler_Host_Object*>(0x4057);
const CUcontext kContext = reinterpret_cast<CUcontext>(0xC0);

CounterApi FakeApi() {
  CounterApi a;
  a.profiler_initialize = [](CUpti_Profiler_Initialize_Params* p) {
    return p->structSize == CUpti_Profiler_Initialize_Params_STRUCT_SIZE
               ? CUPTI_SUCCESS
               : CUPTI_ERROR_INVALID_PARAMETER;
  };
  a.get_chip_name = [](CUpti_Device_GetChipName_Params* p) {
    p->pChipName = "GH100";
    return CUPTI_SUCCESS;
  };
  a.get_counter_availability = [](CUpti_Profiler_GetCounterAvailability_Params* p) {
    if (p->ctx != kContext) return CUPTI_ERROR_INVALID_CONTEXT;
    if (!p->pCounterAvailabilityImage) p->counterAvailabilityImageSize = 64;
    return CUPTI_SUCCESS;
  };
  a.get_device_id = [](CUcontext ctx, uint32_t* id) {
    *id = 3;
    return ctx == kContext ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_CONTEXT;
  };
  a.host_initialize = [](CUpti_Profiler_Host_Initialize_Params* p) {
    if (p->profilerType != CUPTI_PROFILER_TYPE_RANGE_PROFILER ||
        std::strcmp(p->pChipName, "GH100") != 0)
      return CUPTI_ERROR_INVALID_PARAMETER;
    p->pHostObject = kHost;
    return CUPTI_SUCCESS;
  };
  a.host_deinitialize = [](CUpti_Profiler_Host_Deinitialize_Params*) { return CUPTI_SUCCESS; };
  a.host_config_add_metrics = [](CUpti_Profiler_Host_ConfigAddMetrics_Params* p) {
    g_fake.metrics = p->numMetrics;
    return g_fake.add_metrics_result;
  };
  a.host_get_config_image_size = [](CUpti_Profiler_Host_GetConfigImageSize_Params* p) {
    p->configImageSize = 128;
    return CUPTI_SUCCESS;
  };
  a.host_get_config_image = [](CUpti_Profiler_Host_GetConfigImage_Params* p) {
    return p->configImageSize == 128 ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
  };
  a.host_get_num_passes = [](CUpti_Profiler_Host_GetNumOfPasses_Params* p) {
    p->numOfPasses = 1;
    return CUPTI_SUCCESS;
  };
  a.host_evaluate = [](CUpti_Profiler_Host_EvaluateToGpuValues_Params* p) {
    if (p->pHostObject != kHost || p->numMetrics != g_fake.metrics)
      return CUPTI_ERROR_INVALID_PARAMETER;
    for (size_t m = 0; m < p->numMetrics; ++m)
      p->pMetricValues[m] = 1000.0 * static_cast<double>(p->rangeIndex) + static_cast<double>(m);
    return CUPTI_SUCCESS;
  };
  a.enable = [](CUpti_RangeProfiler_Enable_Params* p) {
    ++g_fake.enables;
    p->pRangeProfilerObject = kObject;
    return p->ctx == kContext ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_CONTEXT;
  };
  a.disable = [](CUpti_RangeProfiler_Disable_Params*) {
    ++g_fake.disables;
    return CUPTI_SUCCESS;
  };
  a.get_counter_data_size = [](CUpti_RangeProfiler_GetCounterDataSize_Params* p) {
    p->counterDataSize = 1024 * p->maxNumOfRanges;
    return CUPTI_SUCCESS;
  };
  a.counter_data_initialize = [](CUpti_RangeProfiler_CounterDataImage_Initialize_Params* p) {
    return p->pCounterData ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
  };
  a.set_config = [](CUpti_RangeProfiler_SetConfig_Params* p) {
    if (p->range != CUPTI_AutoRange || p->replayMode != CUPTI_KernelReplay ||
        p->configSize != 128 || p->numNestingLevels != 1)
      return CUPTI_ERROR_INVALID_PARAMETER;
    ++g_fake.set_configs;
    g_fake.max_ranges = static_cast<uint32_t>(p->maxRangesPerPass);
    return CUPTI_SUCCESS;
  };
  a.start = [](CUpti_RangeProfiler_Start_Params*) {
    ++g_fake.starts;
    g_fake.kernels_run = 0;
    return CUPTI_SUCCESS;
  };
  a.stop = [](CUpti_RangeProfiler_Stop_Params* p) {
    ++g_fake.stops;
    p->isAllPassSubmitted = 1;
    return CUPTI_SUCCESS;
  };
  a.decode = [](CUpti_RangeProfiler_DecodeData_Params* p) {
    p->numOfRangeDropped = 0;
    return CUPTI_SUCCESS;
  };
  a.get_counter_data_info = [](CUpti_RangeProfiler_GetCounterDataInfo_Params* p) {
    p->numTotalRanges = static_cast<size_t>(g_fake.kernels_run);
    return CUPTI_SUCCESS;
  };
  a.ctx_push_current = [](CUcontext) {
    ++g_fake.pushes;
    return CUDA_SUCCESS;
  };
  a.ctx_pop_current = [](CUcontext* c) {
    *c = kContext;
    return CUDA_SUCCESS;
  };
  return a;
}

class CounterModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_fake = FakeProfiler{};
    TickClock::Init("auto");
    Config config;
    config.output_dir = dir_.path();
    config.quiet = true;
    collector_ = std::make_unique<Collector>(config, ProcessIdentity::Current());
    collector_->Start(false);
  }
  void Install(uint32_t ranges_per_pass, uint64_t max_kernels) {
    CounterConfig cc;
    cc.enabled = true;
    cc.metrics = FlopsMetrics();
    cc.ranges_per_pass = ranges_per_pass;
    cc.max_kernels = max_kernels;
    counters::InstallForTest(*collector_, FakeApi(), cc);
  }
  // One kernel launch as CUPTI reports it: the API callback on entry, the kernel, the callback
  // on exit. `driver_inside` adds the driver call a runtime launch makes.
  void Launch(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, uint32_t correlation,
              const char* symbol, bool driver_inside = false) {
    CUpti_CallbackData cb{};
    cb.callbackSite = CUPTI_API_ENTER;
    cb.context = kContext;
    cb.correlationId = correlation;
    cb.symbolName = symbol;
    cb.functionName = "launch";
    counters::OnCallback(domain, cbid, &cb);
    if (driver_inside) {
      CUpti_CallbackData inner = cb;
      inner.correlationId = correlation + 10000;
      counters::OnCallback(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
                           &inner);
      inner.callbackSite = CUPTI_API_EXIT;
      counters::OnCallback(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
                           &inner);
    }
    ++g_fake.kernels_run;
    cb.callbackSite = CUPTI_API_EXIT;
    counters::OnCallback(domain, cbid, &cb);
  }
  nlohmann::json Finish() {
    counters::FinishForTest();
    // Stop reading this test's fake before the next test installs its own.
    counters::InstallForTest(*collector_, CounterApi{}, CounterConfig{});
    collector_->Finish("test");
    path_ = collector_->final_path();
    return LoadJson(path_);
  }
  TempDir dir_;
  std::unique_ptr<Collector> collector_;
  std::string path_;
};

// The fake's value of metric m for the k-th kernel of a pass, and teye's FLOPs and DRAM bytes of
// it: f, h, d each add (1000k + a) + mul (1000k + b) + 2·fma (1000k + c) with (a, b, c) =
// (0, 1, 2), (3, 4, 5), (6, 7, 8): 12000k + 51; DRAM read 1000k + 9 + write 1000k + 10.
double Value(int k, int m) {
  return 1000.0 * k + m;
}

TEST_F(CounterModeTest, EveryLaunchGetsItsCountersInOrder) {
  Install(/*ranges_per_pass=*/4, /*max_kernels=*/1000);
  const char* kMangled = "_Z10vector_addPfS_S_i";
  for (uint32_t i = 0; i < 9; ++i)
    Launch(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 500 + i,
           kMangled, /*driver_inside=*/i == 2);
  // A Triton-style launch straight through the driver counts too.
  Launch(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, 600, "triton_mm_0");
  const nlohmann::json j = Finish();
  ASSERT_TRUE(j.is_object());
  const auto ranges = Events(j, "cuda_profiler_range", "X");
  ASSERT_EQ(ranges.size(), 10u);  // 9 runtime launches + 1 driver launch, no nested duplicate
  // Passes of 4: read before the 5th and 9th launches and at the end: 3 starts, 3 stops.
  EXPECT_EQ(g_fake.max_ranges, 4u);
  EXPECT_EQ(g_fake.starts, 3);
  EXPECT_EQ(g_fake.stops, 3);
  EXPECT_EQ(g_fake.enables, 1);
  EXPECT_EQ(g_fake.disables, 1);
  EXPECT_EQ(g_fake.pushes, 1);  // the final read made the context current
  for (size_t i = 0; i < ranges.size(); ++i) {
    const auto& e = ranges[i];
    const bool triton = i == 9;
    EXPECT_EQ(e["args"]["correlation"], triton ? 600 : 500 + i);
    EXPECT_EQ(e["name"], triton ? "triton_mm_0" : "vector_add(float*, float*, float*, int)");
    EXPECT_EQ(e["pid"], 3);  // the context's device
    EXPECT_EQ(e["args"]["device"], 3);
    const int index_in_pass = static_cast<int>(i % 4);
    const std::vector<std::string> metrics = FlopsMetrics();
    ASSERT_EQ(metrics.size(), 11u);
    for (size_t m = 0; m < metrics.size(); ++m)
      EXPECT_EQ(e["args"][metrics[m]].get<double>(), Value(index_in_pass, static_cast<int>(m)))
          << metrics[m];
  }

  // teye reads them as it reads Kineto's, with the correlation ids and the work they measured.
  auto trace = ReadTraceFile(path_);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  const KernelCounterTable& k = trace->kernel_counters();
  ASSERT_EQ(k.size(), 10u);
  for (size_t i = 0; i < k.size(); ++i) {
    EXPECT_EQ(k.correlation[i], i == 9 ? 600 : 500 + static_cast<int64_t>(i));
    const CounterWork w = CounterWorkOf(trace.value(), i);
    const double n = static_cast<double>(i % 4);
    EXPECT_EQ(w.flops, 12000 * n + 51);
    EXPECT_EQ(w.dram_bytes, 2000 * n + 19);
  }
}

TEST_F(CounterModeTest, StopsAfterTheKernelLimit) {
  Install(/*ranges_per_pass=*/8, /*max_kernels=*/3);
  for (uint32_t i = 0; i < 6; ++i)
    Launch(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 700 + i,
           "k");
  const nlohmann::json j = Finish();
  EXPECT_EQ(Events(j, "cuda_profiler_range", "X").size(), 3u);
  EXPECT_EQ(g_fake.disables, 1);
}

TEST_F(CounterModeTest, AnUnknownMetricStopsCounterModeAndNothingElse) {
  g_fake.add_metrics_result = CUPTI_ERROR_INVALID_METRIC_NAME;
  Install(4, 1000);
  for (uint32_t i = 0; i < 3; ++i)
    Launch(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, 800 + i,
           "k");
  const nlohmann::json j = Finish();
  // Nothing was recorded, so no trace was written (a trace would hold no counter events).
  EXPECT_TRUE(!j.is_object() || Events(j, "cuda_profiler_range").empty());
  EXPECT_EQ(g_fake.enables, 0);
  EXPECT_EQ(g_fake.starts, 0);
}

TEST(CounterConfigTest, ReadsTheEnvironment) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  };
  EXPECT_FALSE(LoadCounterConfig(env({})).enabled);
  EXPECT_FALSE(LoadCounterConfig(env({{"TEYE_COUNTERS", "0"}})).enabled);
  CounterConfig flops = LoadCounterConfig(env({{"TEYE_COUNTERS", "flops"}}));
  EXPECT_TRUE(flops.enabled);
  EXPECT_EQ(flops.metrics, FlopsMetrics());
  CounterConfig list =
      LoadCounterConfig(env({{"TEYE_COUNTERS", " sm__cycles_elapsed.avg , dram__bytes_read.sum,"},
                             {"TEYE_COUNTERS_KERNELS", "50"}}));
  EXPECT_EQ(list.metrics,
            (std::vector<std::string>{"sm__cycles_elapsed.avg", "dram__bytes_read.sum"}));
  EXPECT_EQ(list.max_kernels, 50u);
  CounterConfig bad =
      LoadCounterConfig(env({{"TEYE_COUNTERS", "flops"}, {"TEYE_COUNTERS_KERNELS", "many"}}));
  EXPECT_TRUE(bad.enabled);
  EXPECT_EQ(bad.max_kernels, 20000u);
  EXPECT_FALSE(bad.error.empty());
  EXPECT_FALSE(LoadCounterConfig(env({{"TEYE_COUNTERS", ","}})).enabled);
}

}  // namespace
}  // namespace teye::collector
