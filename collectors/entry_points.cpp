// The library's entry points: what runs when libteye_collector.so is loaded (LD_PRELOAD, or
// dlopen by the CUDA driver, NVTX or NCCL), the injection functions those call, the Python shim's
// C function, and the process-level hooks (exit, fork; signals are in signals.cpp).
//
// Loading by several routes never initialises twice: the first copy of the library in a process
// is the primary and owns the collector; a copy loaded under another path finds the primary and
// forwards to it.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <new>
#include <signal.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "cupti_backend.h"
#include "log.h"
#include "nccl_plugin.h"
#include "nvtx_injection.h"
#include "raw_io.h"
#include "resource_sampler.h"
#include "signals.h"

#define TEYE_EXPORT extern "C" __attribute__((visibility("default")))

TEYE_EXPORT const void* teye_collector_entry_points();

namespace teye::collector {
namespace {

// What a secondary copy needs from the primary.
struct EntryPoints {
  uint32_t version;
  int (*initialize_injection)();
  int (*initialize_injection_nvtx2)(nvtx::GetExportTableFn);
  const nccl::ProfilerV5* nccl_v5;
  const nccl::ProfilerV4* nccl_v4;
  int (*record_range)(const char*, const char*, int64_t, int64_t);
};

const EntryPoints* g_primary = nullptr;  // set in a secondary copy
std::atomic<bool> g_loaded{false};

int InjectCuda();
int InjectNvtx(nvtx::GetExportTableFn get);
int RecordRange(const char* category, const char* name, int64_t start_ns, int64_t end_ns);

const EntryPoints kEntryPoints = {
    1, InjectCuda, InjectNvtx, &ncclProfiler_v5, &ncclProfiler_v4, RecordRange};

// ---- Process hooks ------------------------------------------------------------------------

void AtExit() {
  if (Collector* c = Collector::Active()) c->Finish("exit");  // Finish never throws
}

void ForkPrepare() {
  if (Collector* c = Collector::Active()) c->PrepareFork();
}
void ForkParent() {
  if (Collector* c = Collector::Active()) c->ParentAfterFork();
}
void ForkChild() {
  SignalsAfterForkChild();
  if (Collector* c = Collector::Active()) c->ChildAfterFork();
}

// ---- Finding ourselves and a primary copy ------------------------------------------------

std::string SelfPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&SelfPath), &info) && info.dli_fname) return info.dli_fname;
  return {};
}

const EntryPoints* FindPrimary() {
  using Fn = const void* (*)();
  Dl_info self{};
  dladdr(reinterpret_cast<void*>(&FindPrimary), &self);
  auto valid = [&](void* fn) {
    Dl_info info{};
    return fn && dladdr(fn, &info) && info.dli_sname &&
           std::strcmp(info.dli_sname, "teye_collector_entry_points") == 0 &&
           info.dli_fbase != self.dli_fbase;
  };
  void* global = dlsym(RTLD_DEFAULT, "teye_collector_entry_points");
  if (valid(global)) return static_cast<const EntryPoints*>(reinterpret_cast<Fn>(global)());
  // A primary loaded privately (dlopen RTLD_LOCAL) announced itself in the environment.
  if (const char* env = std::getenv("TEYE_COLLECTOR_PRIMARY")) {
    void* fn = reinterpret_cast<void*>(std::strtoull(env, nullptr, 16));
    if (valid(fn)) return static_cast<const EntryPoints*>(reinterpret_cast<Fn>(fn)());
  }
  return nullptr;
}

bool Preloaded(const std::string& self) {
  const char* preload = std::getenv("LD_PRELOAD");
  if (!preload || self.empty()) return false;
  const char* base = std::strrchr(self.c_str(), '/');
  base = base ? base + 1 : self.c_str();
  return std::strstr(preload, self.c_str()) || std::strstr(preload, base);
}

bool LinkedWithCuda() {
  bool found = false;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const char* name = info->dlpi_name;
        if (name && (std::strstr(name, "libcudart.so") || std::strstr(name, "libcuda.so"))) {
          *static_cast<bool*>(data) = true;
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

// The preloaded library makes itself the NVTX tool, the CUDA injection and the NCCL profiler of
// the process and its children, unless the user chose others (then NVTX chains to theirs).
void ClaimInjectionPoints(const std::string& self, bool nccl_plugin,
                          const std::string& output_dir) {
  const char* nvtx = std::getenv("NVTX_INJECTION64_PATH");
  if (nvtx && *nvtx && std::strcmp(nvtx, self.c_str()) != 0 && !std::getenv("TEYE_NVTX_CHAIN"))
    setenv("TEYE_NVTX_CHAIN", nvtx, 1);
  setenv("NVTX_INJECTION64_PATH", self.c_str(), 1);
  const char* cuda = std::getenv("CUDA_INJECTION64_PATH");
  if (!cuda || !*cuda)
    setenv("CUDA_INJECTION64_PATH", self.c_str(), 1);
  else if (std::strcmp(cuda, self.c_str()) != 0)
    Log("CUDA_INJECTION64_PATH is %s (another tool): GPU activity is recorded only if CUDA is "
        "already linked, or with TEYE_CUPTI=eager",
        cuda);
  if (nccl_plugin && !std::getenv("NCCL_PROFILER_PLUGIN"))
    setenv("NCCL_PROFILER_PLUGIN", self.c_str(), 1);
  // Children (spawned workers, programs it runs) write where this process writes, even when
  // they start in another directory.
  if (output_dir.empty() || output_dir[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd))
      setenv("TEYE_OUTPUT_DIR", (std::string(cwd) + "/" + output_dir).c_str(), 1);
  }
}

void Load() {
  if (g_loaded.exchange(true)) return;
  const int saved_errno = errno;
  if ((g_primary = FindPrimary())) {
    NcclForwardTo(g_primary->nccl_v5, g_primary->nccl_v4);
    errno = saved_errno;
    return;
  }
  const std::string self = SelfPath();
  const bool preloaded = Preloaded(self);
  auto get_env = [](const char* name) { return static_cast<const char*>(std::getenv(name)); };
  Config probe = LoadConfig(get_env);
  if (!probe.enabled) {
    errno = saved_errno;
    return;
  }
  // Environment changes only from the preloaded copy, which runs before the program's threads.
  if (preloaded) ClaimInjectionPoints(self, probe.nccl_plugin, probe.output_dir);
  char address[32];
  std::snprintf(address, sizeof address, "%p",
                reinterpret_cast<void*>(&teye_collector_entry_points));
  if (preloaded) setenv("TEYE_COLLECTOR_PRIMARY", address, 1);
  Config config = LoadConfig(get_env);
  TickClock::Init(config.clock.c_str());
  auto* c = new (std::nothrow) Collector(std::move(config), ProcessIdentity::Current());
  if (!c) {
    errno = saved_errno;
    return;
  }
  NvtxAttach(*c);
  AttachResourceSampler(*c);
  c->Start(/*background=*/true);
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  InstallSignalHandling();  // only when preloaded (signals.h)
  std::atexit(AtExit);
  const CuptiMode mode = c->config().cupti;
  if (mode == CuptiMode::kEager)
    CuptiStart(*c, "library load (TEYE_CUPTI=eager)");
  else if (mode == CuptiMode::kAuto && LinkedWithCuda())
    CuptiStart(*c, "library load (CUDA program)");
  errno = saved_errno;
}

// Nothing below lets an exception reach the C caller: out of memory means "not recorded".
int InjectCuda() {
  if (g_primary) return g_primary->initialize_injection();
  try {
    Load();
    Collector* c = Collector::Active();
    if (c && c->config().cupti != CuptiMode::kOff) CuptiStart(*c, "CUDA initialisation");
  } catch (...) {
  }
  return 1;
}

int InjectNvtx(nvtx::GetExportTableFn get) {
  if (g_primary) return g_primary->initialize_injection_nvtx2(get);
  try {
    Load();
    return NvtxInitialize(get);
  } catch (...) {
    return 0;
  }
}

int RecordRange(const char* category, const char* name, int64_t start_ns, int64_t end_ns) {
  if (g_primary) return g_primary->record_range(category, name, start_ns, end_ns);
  Collector* c = Collector::Active();
  if (!c || !c->recording() || !name || end_ns < start_ns || start_ns <= 0) return 0;
  if (ThreadIsInsideCollector()) return 0;
  InsideCollector inside;
  ThreadState* ts = c->Thread();
  if (!ts) return 0;
  RangeCategory cat = RangeCategory::kUserAnnotation;
  if (category && std::strcmp(category, "dataloader") == 0) cat = RangeCategory::kDataLoader;
  const size_t len = strnlen(name, kMaxInlineText);
  const size_t size = RecordSize(sizeof(RangeRecord) + len);
  auto* r = static_cast<RangeRecord*>(c->Begin(ts, RecordType::kRange, size, ts->tid, kFlagTimeNs));
  if (!r) return 0;
  std::memset(reinterpret_cast<char*>(r) + sizeof(RecordHeader), 0,
              sizeof(RangeRecord) - sizeof(RecordHeader));
  r->start = static_cast<uint64_t>(start_ns);
  r->end = static_cast<uint64_t>(end_ns);
  r->category = cat;
  r->name_len = static_cast<uint16_t>(len);
  r->rank = -1;
  r->aux = -1;
  std::memcpy(reinterpret_cast<char*>(r + 1), name, len);
  c->Commit(ts, size);
  return 1;
}

}  // namespace
}  // namespace teye::collector

using namespace teye::collector;

// ---- Exported entry points ------------------------------------------------------------------

// Returns the primary's entry points (for a second copy of the library in the process).
TEYE_EXPORT const void* teye_collector_entry_points() {
  return &kEntryPoints;
}

// CUDA_INJECTION64_PATH: the driver calls this when CUDA initialises.
TEYE_EXPORT int InitializeInjection(void) {
  return InjectCuda();
}

// NVTX_INJECTION64_PATH: each NVTX instance calls this on its first NVTX call.
TEYE_EXPORT int InitializeInjectionNvtx2(nvtx::GetExportTableFn get) {
  return InjectNvtx(get);
}

// The Python shim's way in (ctypes): one finished range, CLOCK_REALTIME nanoseconds
// (time.time_ns()). Category "dataloader" or "user_annotation". Returns 1 when recorded.
TEYE_EXPORT int teye_record_range(const char* category, const char* name, int64_t start_ns,
                                  int64_t end_ns) {
  return RecordRange(category, name, start_ns, end_ns);  // allocates nothing
}

__attribute__((constructor)) static void TeyeCollectorLoad() {
  Load();
}
