// The CUPTI backend: loading libcupti, the activity-buffer callbacks, and what the collector
// asks CUPTI to record. Records are read by cupti_converter.cpp; CUPTI is shared with a profiler
// in the job by cupti_multiplex.cpp. No CUPTI type leaves these files and cupti_api.h.
#include "cupti_backend.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "collector.h"
#include "cupti_api.h"
#include "cupti_converter.h"
#include "cupti_counters.h"
#include "cupti_multiplex.h"
#include "log.h"

#ifndef TEYE_CUPTI_DEFAULT_PATH
#define TEYE_CUPTI_DEFAULT_PATH ""
#endif

namespace teye::collector {
namespace {

using cupti::Converter;

std::atomic<Converter*> g_converter{nullptr};
CuptiApi g_api;
std::atomic<int> g_outstanding_buffers{0};
std::atomic<bool> g_usable{false};  // CUPTI may be called (not in forked children)
size_t g_buffer_bytes = 4 << 20;
int g_max_buffers = 64;

// ---- Loading ------------------------------------------------------------------------------

std::string FindLoadedCupti() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libcupti.so")) {
          *static_cast<std::string*>(data) = info->dlpi_name;
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn& out, bool required, std::string& error) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!out && required) {
    error = std::string(name) + " is missing";
    return false;
  }
  return true;
}

// ---- Callbacks ----------------------------------------------------------------------------

void OwnCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void*) {
  // A context is going away: its records must be flushed while it still exists.
  if (domain == CUPTI_CB_DOMAIN_RESOURCE && cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING &&
      g_usable.load() && g_api.activity_flush_all)
    g_api.activity_flush_all(0);
}

void CUPTIAPI OnCallback(void*, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                         const void* data) {
  counters::OnCallback(domain, cbid, data);  // counter mode (TEYE_COUNTERS); a no-op when off
  OwnCallback(domain, cbid, data);
}

// What the collector asks CUPTI to record: activity kinds. Turned on at start, off while a
// profiler in the job holds CUPTI (cupti_multiplex.h), and on again after it. The runtime and
// driver APIs are recorded whole and filtered when converted (TEYE_CUPTI_RUNTIME/_DRIVER):
// CUPTI's per-API switches (cuptiActivityEnableRuntimeApi/DriverApi, to skip cudaGetDevice and
// the like) did not make the job faster on an H200: 49% overhead with them, 40% without, on a
// launch-bound job (docs/gpu-validation.md).
struct Recording {
  std::vector<CUpti_ActivityKind> kinds;
  std::string missing;  // kinds CUPTI refused, for the footer
};
// Made on first use: CuptiStart can run from this library's constructor, before the dynamic
// initializers of this file (a global std::string would still be zeros then).
Recording& TheRecording() {
  static Recording* r = new Recording;  // never destroyed: CUPTI may call back at exit
  return *r;
}

const char* KindName(CUpti_ActivityKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return "memcpy";
    case CUPTI_ACTIVITY_KIND_MEMCPY2:
      return "peer memcpy";
    case CUPTI_ACTIVITY_KIND_MEMSET:
      return "memset";
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
      return "synchronization";
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
      return "external correlation";
    case CUPTI_ACTIVITY_KIND_OVERHEAD:
      return "overhead";
    case CUPTI_ACTIVITY_KIND_CONTEXT:
      return "context";
    case CUPTI_ACTIVITY_KIND_GRAPH_TRACE:
      return "graph trace";
    case CUPTI_ACTIVITY_KIND_RUNTIME:
      return "runtime API";
    case CUPTI_ACTIVITY_KIND_DRIVER:
      return "driver API";
    default:
      return "kernel";
  }
}

void SwitchOn() {
  TheRecording().missing.clear();
  for (CUpti_ActivityKind kind : TheRecording().kinds)
    if (g_api.activity_enable(kind) != CUPTI_SUCCESS && kind != CUPTI_ACTIVITY_KIND_DEVICE)
      TheRecording().missing +=
          std::string(TheRecording().missing.empty() ? "" : ", ") + KindName(kind);
}

void SwitchOff() {
  if (!g_api.activity_disable) return;
  for (CUpti_ActivityKind kind : TheRecording().kinds)
    g_api.activity_disable(kind);
}

std::string TurnStatus(bool job_has_it) {
  const cupti::TurnStats t = cupti::JobTurns();
  std::string s =
      job_has_it ? "paused: a CUPTI profiler in the job (torch.profiler?) holds it" : "recording";
  if (t.turns > 0)
    s += "; GPU activity not recorded during " + std::to_string(t.turns) +
         " window(s) of a CUPTI profiler in the job (" +
         std::to_string(static_cast<double>(t.ns) / 1e9).substr(0, 5) + " s in all)";
  if (!TheRecording().missing.empty()) s += " (not available: " + TheRecording().missing + ")";
  return s;
}

// A profiler in the job took CUPTI (or gave it back).
void OnTurn(bool job_has_it) {
  if (Collector* c = Collector::Active()) c->SetCuptiStatus(TurnStatus(job_has_it));
  if (job_has_it)
    TEYE_LOG_ONCE(
        "a CUPTI profiler in the job (torch.profiler?) took CUPTI: teye records no GPU activity "
        "while it records, and again after it stops");
}

class CuptiSource : public Source {
 public:
  void OnFlush(bool final) override {
    if (!g_usable.load() || !g_api.activity_flush_all) return;
    g_api.activity_flush_all(final ? CUPTI_ACTIVITY_FLAG_FLUSH_FORCED : 0);
  }
  void OnForkChild() override { g_usable.store(false); }  // never touch CUDA after fork
};

std::string ResultString(CUptiResult r) {
  const char* s = nullptr;
  if (g_api.get_result_string) g_api.get_result_string(r, &s);
  return std::to_string(static_cast<int>(r)) + (s ? std::string(" ") + s : std::string());
}

}  // namespace

bool LoadCuptiApi(CuptiApi& api, std::string& where, std::string& error) {
  std::string candidates[8];
  size_t n = 0;
  if (const char* env = std::getenv("TEYE_CUPTI_LIBRARY"); env && *env) candidates[n++] = env;
  if (std::string loaded = FindLoadedCupti(); !loaded.empty()) candidates[n++] = loaded;
  candidates[n++] = "libcupti.so.13";
  candidates[n++] = "libcupti.so.12";
  candidates[n++] = "libcupti.so";
  if (const char* home = std::getenv("CUDA_HOME"); home && *home)
    candidates[n++] = std::string(home) + "/lib64/libcupti.so";
  if (*TEYE_CUPTI_DEFAULT_PATH) candidates[n++] = TEYE_CUPTI_DEFAULT_PATH;
  candidates[n++] = "/usr/local/cuda/lib64/libcupti.so";
  void* lib = nullptr;
  for (size_t i = 0; i < n && !lib; ++i) {
    lib = dlopen(candidates[i].c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (lib) where = candidates[i];
  }
  if (!lib) {
    error = "libcupti.so not found (set TEYE_CUPTI_LIBRARY)";
    return false;
  }
  return Resolve(lib, "cuptiActivityRegisterCallbacks", api.activity_register_callbacks, true,
                 error) &&
         Resolve(lib, "cuptiActivityEnable", api.activity_enable, true, error) &&
         Resolve(lib, "cuptiActivityDisable", api.activity_disable, false, error) &&
         Resolve(lib, "cuptiActivityGetNextRecord", api.activity_get_next_record, true, error) &&
         Resolve(lib, "cuptiActivityGetNumDroppedRecords", api.activity_get_num_dropped_records,
                 true, error) &&
         Resolve(lib, "cuptiActivityFlushAll", api.activity_flush_all, true, error) &&
         Resolve(lib, "cuptiGetTimestamp", api.get_timestamp, true, error) &&
         Resolve(lib, "cuptiGetResultString", api.get_result_string, false, error) &&
         Resolve(lib, "cuptiGetCallbackName", api.get_callback_name, false, error) &&
         Resolve(lib, "cuptiSubscribe", api.subscribe, false, error) &&
         Resolve(lib, "cuptiEnableCallback", api.enable_callback, false, error) &&
         Resolve(lib, "cuptiUnsubscribe", api.unsubscribe, false, error) &&

         Resolve(lib, "cuptiGetVersion", api.get_version, false, error);
}

namespace cupti {

void CUPTIAPI OnBufferRequested(uint8_t** buffer, size_t* size, size_t* max_num_records) {
  if (max_num_records) *max_num_records = 0;
  if (!buffer || !size) return;
  *buffer = nullptr;
  *size = 0;
  Collector* c = Collector::Active();
  if (g_outstanding_buffers.load() >= g_max_buffers) {
    if (c) c->stats().cupti_buffers_refused.fetch_add(1, std::memory_order_relaxed);
    return;  // CUPTI drops records and counts them
  }
  void* mem = std::aligned_alloc(8, g_buffer_bytes);
  if (!mem) return;
  NoteOwnBuffer(static_cast<uint8_t*>(mem));
  g_outstanding_buffers.fetch_add(1);
  *buffer = static_cast<uint8_t*>(mem);
  *size = g_buffer_bytes;
}

void CUPTIAPI OnBufferCompleted(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t size,
                                size_t valid_size) {
  const bool own = ForgetOwnBuffer(buffer);
  Converter* conv = g_converter.load(std::memory_order_acquire);
  if (conv) {
    try {
      conv->ProcessBuffer(context, stream_id, buffer, valid_size);
    } catch (...) {
      // Out of memory while converting: the buffer's remaining records are lost, the job is not.
    }
  }
  if (own) {
    std::free(buffer);
    if (g_outstanding_buffers.load() > 0) g_outstanding_buffers.fetch_sub(1);
  } else if (!ReturnToJob(context, stream_id, buffer, size, valid_size)) {
    // A job profiler's buffer still in flight when the collector took CUPTI back goes back to
    // it; one with no owner left (or a test's) is freed.
    std::free(buffer);
  }
}

void InstallForTest(Collector& c, const CuptiApi& api, int64_t offset_ns) {
  g_api = api;
  delete g_converter.exchange(NewConverter(c, api, offset_ns));
}

}  // namespace cupti

bool CuptiBuiltIn() {
  return true;
}

bool CuptiStart(Collector& c, const char* trigger) {
  static std::atomic<bool> started{false};
  if (started.exchange(true)) return g_usable.load();
  if (c.is_forked_child()) return false;
  const char* impact =
      "GPU kernels, copies and CUDA API calls are not recorded; NVTX ranges, I/O and CPU samples "
      "still are";
  std::string where, error;
  CuptiApi api;
  if (!LoadCuptiApi(api, where, error)) {
    c.SetCuptiStatus("unavailable: " + error);
    Log("CUPTI is not available (%s): %s", error.c_str(), impact);
    return false;
  }
  g_api = api;
  g_buffer_bytes = static_cast<size_t>(c.config().cupti_buffer_kb) << 10;
  g_max_buffers = static_cast<int>(c.config().cupti_max_buffers);

  // CUPTI and host timestamps are both CLOCK_REALTIME here; measure the offset anyway.
  uint64_t cupti_now = 0;
  int64_t offset = 0;
  const int64_t before = RealtimeNs();
  if (api.get_timestamp(&cupti_now) == CUPTI_SUCCESS && cupti_now) {
    const int64_t after = RealtimeNs();
    offset = before + (after - before) / 2 - static_cast<int64_t>(cupti_now);
    if (offset > -1000000 && offset < 1000000) offset = 0;  // same clock: keep exact values
  }
  Converter* conv = cupti::NewConverter(c, api, offset);
  if (!conv) return false;
  g_converter.store(conv, std::memory_order_release);

  // What to record.
  const Config& cfg = c.config();
  TheRecording().kinds = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
                          CUPTI_ACTIVITY_KIND_MEMCPY,
                          CUPTI_ACTIVITY_KIND_MEMCPY2,
                          CUPTI_ACTIVITY_KIND_MEMSET,
                          CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,
                          CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION,
                          CUPTI_ACTIVITY_KIND_OVERHEAD,
                          CUPTI_ACTIVITY_KIND_CONTEXT,
                          CUPTI_ACTIVITY_KIND_DEVICE};
  if (cfg.cupti_runtime != RuntimeApiMode::kOff)
    TheRecording().kinds.push_back(CUPTI_ACTIVITY_KIND_RUNTIME);
  if (cfg.cupti_driver != DriverApiMode::kOff)
    TheRecording().kinds.push_back(CUPTI_ACTIVITY_KIND_DRIVER);
  if (cfg.cupti_graph_trace) TheRecording().kinds.push_back(CUPTI_ACTIVITY_KIND_GRAPH_TRACE);

  // A profiler in the job may hold CUPTI already (it claimed it before CUDA started): then the
  // collector waits for its turn.
  const bool job_has_it = cupti::JobHoldsActivity();
  CUptiResult r = CUPTI_SUCCESS;
  if (!job_has_it) {
    r = api.activity_register_callbacks(cupti::OnBufferRequested, cupti::OnBufferCompleted);
    if (r == CUPTI_SUCCESS) r = api.activity_enable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  }
  if (r != CUPTI_SUCCESS) {
    const std::string reason =
        ResultString(r) + (r == CUPTI_ERROR_UNKNOWN ? " (no GPU or driver?)" : "");
    c.SetCuptiStatus("unavailable: cuptiActivityEnable failed: " + reason);
    Log("CUPTI is not available (cuptiActivityEnable: %s, %s): %s", reason.c_str(), where.c_str(),
        impact);
    return false;
  }
  if (!job_has_it) SwitchOn();
  cupti::ActivityOwner owner;
  owner.request = cupti::OnBufferRequested;
  owner.complete = cupti::OnBufferCompleted;
  owner.register_callbacks = api.activity_register_callbacks;
  owner.flush_all = api.activity_flush_all;
  owner.switch_on = SwitchOn;
  owner.switch_off = SwitchOff;
  owner.on_turn = OnTurn;
  cupti::EngageActivity(owner, job_has_it);

  // CUPTI's one subscriber, to flush before a context is destroyed; given up to a profiler in
  // the job that asks for it, and unavailable when another tool holds it (Nsight).
  if (api.subscribe && api.enable_callback && api.unsubscribe) {
    CUpti_SubscriberHandle subscriber = nullptr;
    CUptiResult s = api.subscribe(&subscriber, OnCallback, nullptr);
    if (s == CUPTI_SUCCESS) {
      cupti::EngageSubscriber(subscriber, api.unsubscribe);
      api.enable_callback(1, subscriber, CUPTI_CB_DOMAIN_RESOURCE,
                          CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING);
      counters::Start(c, subscriber, where, api.enable_callback);
    } else if (s == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
      Log("another CUPTI client holds CUPTI's subscriber (Nsight, or a profiler in the job): "
          "teye records GPU activity but cannot flush at context teardown");
    }
  }
  g_usable.store(true);
  c.AddSource(new CuptiSource);  // lives as long as the process, like the collector
  c.SetCuptiStatus(TurnStatus(job_has_it));
  (void)trigger;
  return true;
}

}  // namespace teye::collector
