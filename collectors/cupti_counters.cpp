// Counter mode through CUPTI's range profiler. Everything that knows a range-profiler type is
// in this file and counters_api.h.
//
// Per CUDA context, at its first kernel launch (the context is current on the launching thread):
// host object for the chip, config image for the metrics, range profiler enabled in auto-range
// mode with kernel replay, counter data for `ranges_per_pass` kernels, started. Every launch is
// remembered in order; when the counter data is full (before the next launch), at context
// teardown and at the final flush, the profiler is stopped, its data decoded, and range i —
// the i-th kernel since the start — becomes a record with the i-th launch's correlation id.
#include "cupti_counters.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "clock.h"
#include "collector.h"
#include "counter_record.h"
#include "cupti_converter.h"
#include "log.h"
#include "raw_io.h"

namespace teye::collector {

std::vector<std::string> FlopsMetrics() {
  std::vector<std::string> m;
  for (const char* p : {"f", "h", "d"})
    for (const char* op : {"add", "mul", "fma"})
      m.push_back(std::string("smsp__sass_thread_inst_executed_op_") + p + op + "_pred_on.sum");
  m.push_back("dram__bytes_read.sum");
  m.push_back("dram__bytes_write.sum");
  return m;
}

CounterConfig LoadCounterConfig(const GetEnvFn& get_env) {
  CounterConfig c;
  const char* v = get_env("TEYE_COUNTERS");
  if (!v || !*v || std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0) return c;
  c.enabled = true;
  if (std::strcmp(v, "1") == 0 || std::strcmp(v, "flops") == 0) {
    c.metrics = FlopsMetrics();
  } else {
    std::string list(v);
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      std::string name = list.substr(pos, comma - pos);
      while (!name.empty() && name.front() == ' ')
        name.erase(0, 1);
      while (!name.empty() && name.back() == ' ')
        name.pop_back();
      if (!name.empty()) c.metrics.push_back(name);
      pos = comma + 1;
    }
    if (c.metrics.empty()) {
      c.enabled = false;
      c.error = "TEYE_COUNTERS names no metric: counter mode is off";
    }
  }
  if (c.metrics.size() > kMaxCounterMetrics) {
    c.metrics.resize(kMaxCounterMetrics);
    c.error = "TEYE_COUNTERS names more than 64 metrics: the first 64 are counted";
  }
  if (const char* k = get_env("TEYE_COUNTERS_KERNELS"); k && *k) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(k, &end, 10);
    if (end && *end == '\0' && n > 0)
      c.max_kernels = n;
    else
      c.error = "TEYE_COUNTERS_KERNELS is not a positive number: 20000 kernels are counted";
  }
  return c;
}

namespace {

struct Launch {
  uint32_t correlation = 0;
  uint32_t name_id = 0;
  uint32_t tid = 0;
  int64_t ns = 0;
};

struct ContextSession {
  CUcontext context = nullptr;
  int32_t device = -1;
  CUpti_RangeProfiler_Object* object = nullptr;
  std::vector<uint8_t> counter_data;
  std::vector<Launch> pending;  // launches since the profiler last started, in order
  bool running = false;
};

class Session {
 public:
  Session(Collector& c, const CounterApi& api, CounterConfig config)
      : c_(c), api_(api), config_(std::move(config)) {
    for (const std::string& m : config_.metrics) {
      metric_names_.push_back(m.c_str());
      metric_ids_.push_back(c_.strings().Intern(m));
    }
  }

  void OnLaunch(CUcontext context, uint32_t correlation, const char* symbol) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_ || !context) return;
    ContextSession* s = Find(context);
    if (!s) {
      contexts_.push_back(std::make_unique<ContextSession>());
      s = contexts_.back().get();
      s->context = context;
      if (!Setup(*s)) return;
    }
    if (!s->running) return;
    if (profiled_ >= config_.max_kernels) return ReadPass(*s, /*restart=*/false);
    if (s->pending.size() >= config_.ranges_per_pass) ReadPass(*s, /*restart=*/true);
    if (!s->running) return;
    Launch l;
    l.correlation = correlation;
    l.name_id = KernelName(symbol);
    l.tid = static_cast<uint32_t>(raw::GetTid());
    l.ns = RealtimeNs();
    s->pending.push_back(l);
    ++profiled_;
  }

  // The context is current on the calling thread (it is being destroyed, or we pushed it).
  void ReadAndStop(CUcontext context) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ContextSession* s = Find(context)) ReadPass(*s, /*restart=*/false);
  }

  // The final flush, from whatever thread: each context made current in turn.
  void FinishAll() {
    std::vector<CUcontext> running;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& s : contexts_)
        if (s->running) running.push_back(s->context);
    }
    for (CUcontext ctx : running) {
      const bool pushed = api_.ctx_push_current && api_.ctx_push_current(ctx) == CUDA_SUCCESS;
      ReadAndStop(ctx);
      if (pushed && api_.ctx_pop_current) {
        CUcontext popped = nullptr;
        api_.ctx_pop_current(&popped);
      }
    }
  }

 private:
  ContextSession* Find(CUcontext context) {
    for (const auto& s : contexts_)
      if (s->context == context) return s.get();
    return nullptr;
  }

  bool Fail(const char* what, CUptiResult r) {
    stopped_ = true;
    Log("counter mode stops: %s failed (CUPTI error %d)%s; kernels run unprofiled from here", what,
        static_cast<int>(r),
        r == CUPTI_ERROR_INSUFFICIENT_PRIVILEGES
            ? ": profiling needs NVreg_RestrictProfilingToAdminUsers=0 or root"
            : "");
    return false;
  }

  uint32_t KernelName(const char* name) {
    if (!name) return 0;
    if (auto it = names_.find(name); it != names_.end()) return it->second;
    const uint32_t id = cupti::InternKernelName(c_.strings(), name);
    if (names_.size() < (1 << 16)) names_.emplace(name, id);
    return id;
  }

  bool SetupHost(CUcontext context, uint32_t device) {
    CUptiResult r;
    CUpti_Profiler_Initialize_Params init{CUpti_Profiler_Initialize_Params_STRUCT_SIZE};
    if ((r = api_.profiler_initialize(&init)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerInitialize", r);
    CUpti_Device_GetChipName_Params chip{CUpti_Device_GetChipName_Params_STRUCT_SIZE};
    chip.deviceIndex = device;
    if ((r = api_.get_chip_name(&chip)) != CUPTI_SUCCESS || !chip.pChipName)
      return Fail("cuptiDeviceGetChipName", r);
    CUpti_Profiler_GetCounterAvailability_Params avail{
        CUpti_Profiler_GetCounterAvailability_Params_STRUCT_SIZE};
    avail.ctx = context;
    if ((r = api_.get_counter_availability(&avail)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerGetCounterAvailability", r);
    availability_.assign(avail.counterAvailabilityImageSize, 0);
    avail.pCounterAvailabilityImage = availability_.data();
    if ((r = api_.get_counter_availability(&avail)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerGetCounterAvailability", r);
    chip_ = chip.pChipName;
    CUpti_Profiler_Host_Initialize_Params host{CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE};
    host.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    host.pChipName = chip_.c_str();
    host.pCounterAvailabilityImage = availability_.data();
    if ((r = api_.host_initialize(&host)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerHostInitialize", r);
    host_ = host.pHostObject;
    CUpti_Profiler_Host_ConfigAddMetrics_Params add{
        CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE};
    add.pHostObject = host_;
    add.ppMetricNames = metric_names_.data();
    add.numMetrics = metric_names_.size();
    if ((r = api_.host_config_add_metrics(&add)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerHostConfigAddMetrics (is every metric known on this GPU?)", r);
    CUpti_Profiler_Host_GetConfigImageSize_Params size{
        CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE};
    size.pHostObject = host_;
    if ((r = api_.host_get_config_image_size(&size)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerHostGetConfigImageSize", r);
    config_image_.assign(size.configImageSize, 0);
    CUpti_Profiler_Host_GetConfigImage_Params image{
        CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE};
    image.pHostObject = host_;
    image.configImageSize = config_image_.size();
    image.pConfigImage = config_image_.data();
    if ((r = api_.host_get_config_image(&image)) != CUPTI_SUCCESS)
      return Fail("cuptiProfilerHostGetConfigImage", r);
    CUpti_Profiler_Host_GetNumOfPasses_Params passes{
        CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE};
    passes.configImageSize = config_image_.size();
    passes.pConfigImage = config_image_.data();
    if (api_.host_get_num_passes(&passes) == CUPTI_SUCCESS) passes_ = passes.numOfPasses;
    Log("counter mode: %zu metrics on %s, %zu replay pass%s per kernel, at most %llu kernels "
        "(TEYE_COUNTERS_KERNELS); kernels are serialized and replayed while it runs",
        metric_names_.size(), chip_.c_str(), passes_, passes_ == 1 ? "" : "es",
        static_cast<unsigned long long>(config_.max_kernels));
    return true;
  }

  // Counter data for ranges_per_pass kernels, the config, and the start: also after each read.
  bool Arm(ContextSession& s) {
    CUptiResult r;
    CUpti_RangeProfiler_CounterDataImage_Initialize_Params init{
        CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE};
    init.pRangeProfilerObject = s.object;
    init.counterDataSize = s.counter_data.size();
    init.pCounterData = s.counter_data.data();
    if ((r = api_.counter_data_initialize(&init)) != CUPTI_SUCCESS)
      return Fail("cuptiRangeProfilerCounterDataImageInitialize", r);
    CUpti_RangeProfiler_SetConfig_Params set{CUpti_RangeProfiler_SetConfig_Params_STRUCT_SIZE};
    set.pRangeProfilerObject = s.object;
    set.configSize = config_image_.size();
    set.pConfig = config_image_.data();
    set.counterDataImageSize = s.counter_data.size();
    set.pCounterDataImage = s.counter_data.data();
    set.range = CUPTI_AutoRange;
    set.replayMode = CUPTI_KernelReplay;
    set.maxRangesPerPass = config_.ranges_per_pass;
    set.numNestingLevels = 1;
    set.minNestingLevel = 1;
    set.passIndex = 0;
    set.targetNestingLevel = 1;
    if ((r = api_.set_config(&set)) != CUPTI_SUCCESS) return Fail("cuptiRangeProfilerSetConfig", r);
    CUpti_RangeProfiler_Start_Params start{CUpti_RangeProfiler_Start_Params_STRUCT_SIZE};
    start.pRangeProfilerObject = s.object;
    if ((r = api_.start(&start)) != CUPTI_SUCCESS) return Fail("cuptiRangeProfilerStart", r);
    s.running = true;
    return true;
  }

  bool Setup(ContextSession& s) {
    uint32_t device = 0;
    CUptiResult r = api_.get_device_id(s.context, &device);
    if (r != CUPTI_SUCCESS) return Fail("cuptiGetDeviceId", r);
    s.device = static_cast<int32_t>(device);
    if (!host_ && !SetupHost(s.context, device)) return false;
    CUpti_RangeProfiler_Enable_Params enable{CUpti_RangeProfiler_Enable_Params_STRUCT_SIZE};
    enable.ctx = s.context;
    if ((r = api_.enable(&enable)) != CUPTI_SUCCESS) return Fail("cuptiRangeProfilerEnable", r);
    s.object = enable.pRangeProfilerObject;
    CUpti_RangeProfiler_GetCounterDataSize_Params size{
        CUpti_RangeProfiler_GetCounterDataSize_Params_STRUCT_SIZE};
    size.pRangeProfilerObject = s.object;
    size.pMetricNames = metric_names_.data();
    size.numMetrics = metric_names_.size();
    size.maxNumOfRanges = config_.ranges_per_pass;
    size.maxNumRangeTreeNodes = config_.ranges_per_pass;
    if ((r = api_.get_counter_data_size(&size)) != CUPTI_SUCCESS)
      return Fail("cuptiRangeProfilerGetCounterDataSize", r);
    s.counter_data.assign(size.counterDataSize, 0);
    return Arm(s);
  }

  void Disable(ContextSession& s) {
    s.running = false;
    if (!s.object) return;
    CUpti_RangeProfiler_Disable_Params disable{CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE};
    disable.pRangeProfilerObject = s.object;
    api_.disable(&disable);
    s.object = nullptr;
  }

  void ReadPass(ContextSession& s, bool restart) {
    if (!s.running) return;
    CUptiResult r;
    CUpti_RangeProfiler_Stop_Params stop{CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE};
    stop.pRangeProfilerObject = s.object;
    if ((r = api_.stop(&stop)) != CUPTI_SUCCESS) {
      Fail("cuptiRangeProfilerStop", r);
      return Disable(s);
    }
    CUpti_RangeProfiler_DecodeData_Params decode{CUpti_RangeProfiler_DecodeData_Params_STRUCT_SIZE};
    decode.pRangeProfilerObject = s.object;
    if ((r = api_.decode(&decode)) != CUPTI_SUCCESS) {
      Fail("cuptiRangeProfilerDecodeData", r);
      return Disable(s);
    }
    CUpti_RangeProfiler_GetCounterDataInfo_Params info{
        CUpti_RangeProfiler_GetCounterDataInfo_Params_STRUCT_SIZE};
    info.pCounterDataImage = s.counter_data.data();
    info.counterDataImageSize = s.counter_data.size();
    size_t ranges = 0;
    if (api_.get_counter_data_info(&info) == CUPTI_SUCCESS) ranges = info.numTotalRanges;
    if (ranges != s.pending.size() || decode.numOfRangeDropped > 0)
      TEYE_LOG_ONCE(
          "counter mode: the profiler measured a different number of kernels than were launched "
          "(launches on several threads at once, or dropped ranges): counters are matched in "
          "launch order where they exist");
    std::vector<double> values(metric_names_.size());
    for (size_t i = 0; i < ranges && i < s.pending.size(); ++i) {
      CUpti_Profiler_Host_EvaluateToGpuValues_Params eval{
          CUpti_Profiler_Host_EvaluateToGpuValues_Params_STRUCT_SIZE};
      eval.pHostObject = host_;
      eval.pCounterDataImage = s.counter_data.data();
      eval.counterDataImageSize = s.counter_data.size();
      eval.rangeIndex = i;
      eval.ppMetricNames = metric_names_.data();
      eval.numMetrics = metric_names_.size();
      eval.pMetricValues = values.data();
      if (api_.host_evaluate(&eval) != CUPTI_SUCCESS) continue;
      Emit(s, s.pending[i], values);
    }
    s.pending.clear();
    if (!restart || profiled_ >= config_.max_kernels || stopped_) {
      Disable(s);
      if (profiled_ >= config_.max_kernels && !stopped_) {
        stopped_ = true;
        Log("counter mode: %llu kernels profiled (TEYE_COUNTERS_KERNELS): kernels run at full "
            "speed from here",
            static_cast<unsigned long long>(profiled_));
      }
      return;
    }
    if (!Arm(s)) Disable(s);
  }

  void Emit(const ContextSession& s, const Launch& l, const std::vector<double>& values) {
    ThreadState* ts = c_.Thread();
    if (!ts) return;
    const size_t size =
        RecordSize(sizeof(KernelCountersRecord) + values.size() * sizeof(KernelCounterValue));
    auto* r = static_cast<KernelCountersRecord*>(
        c_.Begin(ts, RecordType::kKernelCounters, size, l.tid, kFlagTimeNs));
    if (!r) return;
    r->start = static_cast<uint64_t>(l.ns);
    r->correlation = l.correlation;
    r->device = s.device;
    r->name_id = l.name_id;
    r->count = static_cast<uint16_t>(values.size());
    r->pad = 0;
    auto* out = const_cast<KernelCounterValue*>(r->values());
    for (size_t i = 0; i < values.size(); ++i)
      out[i] = KernelCounterValue{metric_ids_[i], 0, values[i]};
    c_.Commit(ts, size);
  }

  std::mutex mutex_;
  Collector& c_;
  const CounterApi api_;
  const CounterConfig config_;
  std::vector<const char*> metric_names_;  // point into config_.metrics
  std::vector<uint32_t> metric_ids_;
  std::string chip_;
  std::vector<uint8_t> availability_, config_image_;
  CUpti_Profiler_Host_Object* host_ = nullptr;
  size_t passes_ = 0;
  std::vector<std::unique_ptr<ContextSession>> contexts_;
  std::unordered_map<const char*, uint32_t> names_;
  uint64_t profiled_ = 0;
  bool stopped_ = false;
};

std::atomic<Session*> g_session{nullptr};
thread_local int t_runtime_launch_depth = 0;  // inside a runtime launch: its driver call is it

bool IsRuntimeLaunch(CUpti_CallbackId cbid) {
  switch (cbid) {
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060:
      return true;
    default:
      return false;
  }
}

bool IsDriverLaunch(CUpti_CallbackId cbid) {
  switch (cbid) {
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz:
      return true;
    default:
      return false;
  }
}

class CounterSource : public Source {
 public:
  void OnFlush(bool final) override {
    if (!final) return;
    if (Session* s = g_session.load(std::memory_order_acquire)) s->FinishAll();
  }
  void OnForkChild() override { g_session.store(nullptr); }  // never touch CUDA after fork
};

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn& out, std::string& error) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!out) error = std::string(name) + " is missing";
  return out != nullptr;
}

}  // namespace

bool LoadCounterApi(CounterApi& api, const std::string& cupti_path, std::string& error) {
  void* lib = dlopen(cupti_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!lib) lib = dlopen(cupti_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!lib) {
    error = "cannot open " + cupti_path;
    return false;
  }
  if (!cuda) {
    error = "libcuda.so.1 is not loaded";
    return false;
  }
  return Resolve(lib, "cuptiProfilerInitialize", api.profiler_initialize, error) &&
         Resolve(lib, "cuptiDeviceGetChipName", api.get_chip_name, error) &&
         Resolve(lib, "cuptiProfilerGetCounterAvailability", api.get_counter_availability, error) &&
         Resolve(lib, "cuptiGetDeviceId", api.get_device_id, error) &&
         Resolve(lib, "cuptiProfilerHostInitialize", api.host_initialize, error) &&
         Resolve(lib, "cuptiProfilerHostDeinitialize", api.host_deinitialize, error) &&
         Resolve(lib, "cuptiProfilerHostConfigAddMetrics", api.host_config_add_metrics, error) &&
         Resolve(lib, "cuptiProfilerHostGetConfigImageSize", api.host_get_config_image_size,
                 error) &&
         Resolve(lib, "cuptiProfilerHostGetConfigImage", api.host_get_config_image, error) &&
         Resolve(lib, "cuptiProfilerHostGetNumOfPasses", api.host_get_num_passes, error) &&
         Resolve(lib, "cuptiProfilerHostEvaluateToGpuValues", api.host_evaluate, error) &&
         Resolve(lib, "cuptiRangeProfilerEnable", api.enable, error) &&
         Resolve(lib, "cuptiRangeProfilerDisable", api.disable, error) &&
         Resolve(lib, "cuptiRangeProfilerGetCounterDataSize", api.get_counter_data_size, error) &&
         Resolve(lib, "cuptiRangeProfilerCounterDataImageInitialize", api.counter_data_initialize,
                 error) &&
         Resolve(lib, "cuptiRangeProfilerSetConfig", api.set_config, error) &&
         Resolve(lib, "cuptiRangeProfilerStart", api.start, error) &&
         Resolve(lib, "cuptiRangeProfilerStop", api.stop, error) &&
         Resolve(lib, "cuptiRangeProfilerDecodeData", api.decode, error) &&
         Resolve(lib, "cuptiRangeProfilerGetCounterDataInfo", api.get_counter_data_info, error) &&
         Resolve(cuda, "cuCtxPushCurrent_v2", api.ctx_push_current, error) &&
         Resolve(cuda, "cuCtxPopCurrent_v2", api.ctx_pop_current, error);
}

namespace counters {

bool Start(Collector& c, CUpti_SubscriberHandle subscriber, const std::string& cupti_path,
           CUptiResult (*enable_callback)(uint32_t, CUpti_SubscriberHandle, CUpti_CallbackDomain,
                                          CUpti_CallbackId)) {
  CounterConfig config = LoadCounterConfig([](const char* name) { return std::getenv(name); });
  if (!config.error.empty()) Log("%s", config.error.c_str());
  if (!config.enabled) return false;
  CounterApi api;
  std::string error;
  if (!enable_callback || !subscriber) {
    Log("counter mode is off: another CUPTI client holds the callbacks");
    return false;
  }
  if (!LoadCounterApi(api, cupti_path, error)) {
    Log("counter mode is off: %s (the range profiler needs CUDA 12.6 or later)", error.c_str());
    return false;
  }
  api.enable_callback = enable_callback;
  for (CUpti_CallbackId cbid : {CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000,
                                CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000,
                                CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000,
                                CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060,
                                CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060})
    enable_callback(1, subscriber, CUPTI_CB_DOMAIN_RUNTIME_API, cbid);
  for (CUpti_CallbackId cbid :
       {CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz})
    enable_callback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API, cbid);
  InstallForTest(c, api, config);
  c.AddSource(new CounterSource);  // lives as long as the process, like the collector
  return true;
}

void OnCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data) {
  Session* s = g_session.load(std::memory_order_acquire);
  if (!s || !data) return;
  try {
    if (domain == CUPTI_CB_DOMAIN_RESOURCE) {
      if (cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING)
        s->ReadAndStop(static_cast<const CUpti_ResourceData*>(data)->context);
      return;
    }
    const bool runtime = domain == CUPTI_CB_DOMAIN_RUNTIME_API && IsRuntimeLaunch(cbid);
    const bool driver = domain == CUPTI_CB_DOMAIN_DRIVER_API && IsDriverLaunch(cbid);
    if (!runtime && !driver) return;
    const auto* cb = static_cast<const CUpti_CallbackData*>(data);
    if (cb->callbackSite == CUPTI_API_EXIT) {
      if (runtime && t_runtime_launch_depth > 0) --t_runtime_launch_depth;
      return;
    }
    if (runtime) ++t_runtime_launch_depth;
    if (driver && t_runtime_launch_depth > 0) return;  // the runtime call already counted it
    s->OnLaunch(cb->context, cb->correlationId, cb->symbolName);
  } catch (...) {
    // Out of memory while recording: this kernel's counters are lost, the job is not.
  }
}

void InstallForTest(Collector& c, const CounterApi& api, const CounterConfig& config) {
  delete g_session.exchange(new Session(c, api, config));
}

void FinishForTest() {
  if (Session* s = g_session.load()) s->FinishAll();
}

}  // namespace counters
}  // namespace teye::collector
