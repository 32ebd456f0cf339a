// CUPTI shared between the collector and a profiler inside the job: see cupti_multiplex.h.
#include "cupti_multiplex.h"

#include <atomic>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <mutex>
#include <string>

#include "clock.h"

namespace teye::collector::cupti {
namespace {

constexpr size_t kKinds = 256;

struct JobState {
  std::atomic<CUpti_BuffersCallbackCompleteFunc> complete{nullptr};
  bool registered = false;  // it registered buffer callbacks (and has not finalized since)
  uint8_t kinds[kKinds] = {};
  std::atomic<CUpti_TimestampCallbackFunc> timestamp_source{nullptr};
  std::atomic<uint32_t> timestamp_generation{0};
};

struct CollectorState {
  bool engaged = false;     // the collector records through CUPTI's activity API
  bool job_has_it = false;  // ... but it is the job's turn
  int64_t turn_started = 0;
  ActivityOwner owner;
  CUpti_SubscriberHandle subscriber = nullptr;
  CUptiResult (*unsubscribe)(CUpti_SubscriberHandle) = nullptr;
  TurnStats stats;
};

JobState g_job;
CollectorState g_collector;
// Everything here may be used before this library's dynamic initializers have run: the
// collector starts CUPTI from the library's constructor in programs linked with CUDA, and CUPTI
// asks for a buffer at once. So no global has a constructor that runs code: the mutex is
// made on first use, the buffer list is a fixed array (TEYE_CUPTI_MAX_BUFFERS is at most 4096).

// Registrations and turns. Never taken on a record's path, nor by anything CUPTI calls back
// (a flush may deliver buffers from CUPTI's own thread while the caller holds it).
std::recursive_mutex& Mutex() {
  static std::recursive_mutex* m = new std::recursive_mutex;  // never destroyed: used at exit
  return *m;
}

constexpr size_t kMaxOwnBuffers = 4096;
std::atomic<uint8_t*> g_own_buffers[kMaxOwnBuffers] = {};

size_t Slot(CUpti_ActivityKind kind) {
  return static_cast<size_t>(kind) < kKinds ? static_cast<size_t>(kind) : 0;
}

bool JobHasKinds() {
  for (uint8_t k : g_job.kinds)
    if (k) return true;
  return false;
}

// ---- The real CUPTI, for the job's calls -------------------------------------------------------

bool InThisLibrary(void* fn) {
  Dl_info mine{}, theirs{};
  return dladdr(reinterpret_cast<void*>(&InThisLibrary), &mine) && dladdr(fn, &theirs) &&
         mine.dli_fbase == theirs.dli_fbase;
}

// The job's libcupti: the next definition after this library, or (when the job loaded it into a
// private namespace, as Python extensions are) the loaded copy found by name.
void* RealSymbol(const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn && !InThisLibrary(fn)) return fn;
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libcupti.so")) {
          *static_cast<std::string*>(data) = info->dlpi_name;
          return 1;
        }
        return 0;
      },
      &path);
  if (path.empty()) return nullptr;
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  fn = lib ? dlsym(lib, name) : nullptr;
  return fn && !InThisLibrary(fn) ? fn : nullptr;
}

#define TEYE_REAL(fn, ...)                                               \
  do {                                                                   \
    static auto real = reinterpret_cast<decltype(&fn)>(RealSymbol(#fn)); \
    return real ? real(__VA_ARGS__) : CUPTI_ERROR_NOT_INITIALIZED;       \
  } while (0)

CUptiResult RealRegister(CUpti_BuffersCallbackRequestFunc request,
                         CUpti_BuffersCallbackCompleteFunc complete) {
  TEYE_REAL(cuptiActivityRegisterCallbacks, request, complete);
}
CUptiResult RealEnable(CUpti_ActivityKind kind) {
  TEYE_REAL(cuptiActivityEnable, kind);
}
CUptiResult RealDisable(CUpti_ActivityKind kind) {
  TEYE_REAL(cuptiActivityDisable, kind);
}

// The job's turn begins: the collector's records so far are flushed to it, its recording goes
// off.
void GiveToJob() {
  if (!g_collector.engaged || g_collector.job_has_it) return;
  if (g_collector.owner.flush_all) g_collector.owner.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  if (g_collector.owner.switch_off) g_collector.owner.switch_off();
  g_collector.job_has_it = true;
  g_collector.turn_started = RealtimeNs();
  ++g_collector.stats.turns;
  if (g_collector.owner.on_turn) g_collector.owner.on_turn(true);
}

// The job's profiler is done: the collector's callbacks and recording come back.
void TakeBack() {
  if (!g_collector.engaged || !g_collector.job_has_it || !g_collector.owner.register_callbacks)
    return;
  if (g_collector.owner.register_callbacks(g_collector.owner.request, g_collector.owner.complete) !=
      CUPTI_SUCCESS)
    return;
  if (g_collector.owner.switch_on) g_collector.owner.switch_on();
  g_collector.job_has_it = false;
  g_collector.stats.ns += RealtimeNs() - g_collector.turn_started;
  if (g_collector.owner.on_turn) g_collector.owner.on_turn(false);
}

}  // namespace

// ---- The collector's side ----------------------------------------------------------------------

bool JobHoldsActivity() {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  return g_job.registered && JobHasKinds();
}

void EngageActivity(const ActivityOwner& owner, bool job_has_it) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  g_collector.owner = owner;
  g_collector.engaged = true;
  g_collector.job_has_it = job_has_it;
  if (job_has_it) {
    g_collector.turn_started = RealtimeNs();
    ++g_collector.stats.turns;
  }
}

void EngageSubscriber(CUpti_SubscriberHandle ours,
                      CUptiResult (*unsubscribe)(CUpti_SubscriberHandle)) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  g_collector.subscriber = ours;
  g_collector.unsubscribe = unsubscribe;
}

void NoteOwnBuffer(uint8_t* buffer) {
  for (auto& slot : g_own_buffers) {
    uint8_t* empty = nullptr;
    if (slot.compare_exchange_strong(empty, buffer, std::memory_order_acq_rel)) return;
  }
}

bool ForgetOwnBuffer(uint8_t* buffer) {
  if (!buffer) return false;
  for (auto& slot : g_own_buffers) {
    uint8_t* mine = buffer;
    if (slot.compare_exchange_strong(mine, nullptr, std::memory_order_acq_rel)) return true;
  }
  return false;
}

bool ReturnToJob(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t size,
                 size_t valid_size) {
  CUpti_BuffersCallbackCompleteFunc complete = g_job.complete.load(std::memory_order_acquire);
  if (!complete) return false;
  complete(context, stream_id, buffer, size, valid_size);
  return true;
}

CUpti_TimestampCallbackFunc JobTimestampSource(uint32_t* generation) {
  if (generation) *generation = g_job.timestamp_generation.load(std::memory_order_acquire);
  return g_job.timestamp_source.load(std::memory_order_acquire);
}

TurnStats JobTurns() {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  TurnStats s = g_collector.stats;
  if (g_collector.job_has_it) s.ns += RealtimeNs() - g_collector.turn_started;
  return s;
}

// ---- The job's side ----------------------------------------------------------------------------

CUptiResult JobSubscribe(CUpti_SubscriberHandle* subscriber, CUpti_CallbackFunc callback,
                         void* userdata, void* params, bool v2) {
  {
    std::lock_guard<std::recursive_mutex> lock(Mutex());
    if (g_collector.subscriber && g_collector.unsubscribe) {
      // The job's profiler needs the one subscriber more than the collector does.
      g_collector.unsubscribe(g_collector.subscriber);
      g_collector.subscriber = nullptr;
      g_collector.stats.subscriber_given = true;
    }
  }
  if (v2)
    TEYE_REAL(cuptiSubscribe_v2, subscriber, callback, userdata,
              static_cast<CUpti_SubscriberParams*>(params));
  TEYE_REAL(cuptiSubscribe, subscriber, callback, userdata);
}

CUptiResult JobActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc request,
                                         CUpti_BuffersCallbackCompleteFunc complete) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  if (!request || !complete) return RealRegister(request, complete);  // CUPTI's own error
  GiveToJob();
  const CUptiResult r = RealRegister(request, complete);
  if (r == CUPTI_SUCCESS) {
    g_job.complete.store(complete, std::memory_order_release);
    g_job.registered = true;
  } else {
    TakeBack();
  }
  return r;
}

CUptiResult JobActivityEnable(CUpti_ActivityKind kind) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  const CUptiResult r = RealEnable(kind);
  if (r == CUPTI_SUCCESS) {
    if (const size_t s = Slot(kind)) g_job.kinds[s] = 1;
  }
  return r;
}

CUptiResult JobActivityDisable(CUpti_ActivityKind kind) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  const CUptiResult r = RealDisable(kind);
  if (const size_t s = Slot(kind)) g_job.kinds[s] = 0;
  if (g_collector.job_has_it && !JobHasKinds()) TakeBack();
  return r;
}

CUptiResult JobRegisterTimestampCallback(CUpti_TimestampCallbackFunc source) {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  // Records still in the collector's buffers are stamped with the clock they were taken with.
  if (g_collector.engaged && !g_collector.job_has_it && g_collector.owner.flush_all)
    g_collector.owner.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  static auto real = reinterpret_cast<decltype(&cuptiActivityRegisterTimestampCallback)>(
      RealSymbol("cuptiActivityRegisterTimestampCallback"));
  const CUptiResult r = real ? real(source) : CUPTI_ERROR_NOT_INITIALIZED;
  if (r == CUPTI_SUCCESS) {
    g_job.timestamp_source.store(source, std::memory_order_release);
    g_job.timestamp_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  return r;
}

CUptiResult JobFinalize() {
  std::lock_guard<std::recursive_mutex> lock(Mutex());
  for (uint8_t& k : g_job.kinds)
    k = 0;
  g_job.registered = false;
  if (!g_collector.engaged) TEYE_REAL(cuptiFinalize);
  if (g_collector.job_has_it) {
    // CUPTI forgets every client's state: the collector starts over with its own.
    static auto real = reinterpret_cast<decltype(&cuptiFinalize)>(RealSymbol("cuptiFinalize"));
    const CUptiResult r = real ? real() : CUPTI_ERROR_NOT_INITIALIZED;
    TakeBack();
    return r;
  }
  return CUPTI_SUCCESS;  // the collector's session goes on; the job's ended
}

}  // namespace teye::collector::cupti
