// The program the overhead driver (overhead_bench.cpp) runs with and without the collector
// preloaded: a job doing nothing but the calls being measured, timing its own loop the way a
// job would feel it. Usage:
//
//   teye_overhead_probe read N     N 64-byte pread()s of a file in the page cache
//   teye_overhead_probe nvtx N     N nvtxRangePushA + nvtxRangePop pairs
//
// Like every PyTorch process, the probe has more than one thread (it starts an idle one): libc
// then takes its multi-threaded paths (a system call such as pread checks for thread
// cancellation, ~65 ns here), in both runs, so the difference is the collector's own cost and
// not that of its background thread turning a single-threaded program into a threaded one.
//
// Prints "<wall ns> <thread CPU ns>" per call or pair: the loop's elapsed time, and the CPU time
// the thread spent in it (the same on a quiet machine; on a busy one the wall time also holds the
// time the thread waited for a CPU, which has nothing to do with the collector). NVTX calls go
// through the NVTX 3 headers when they were found at build time (TEYE_HAVE_NVTX_HEADERS), else
// through the same injection protocol done here by hand: NVTX_INJECTION64_PATH,
// InitializeInjectionNvtx2 and one indirect call per function, as nvtx3's inline functions do.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <string>
#include <unistd.h>

#ifdef TEYE_HAVE_NVTX_HEADERS
#include <nvtx3/nvToolsExt.h>
#else
#include "nvtx_abi.h"
#endif

namespace {

double Now(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall = -1;
  double cpu = -1;
};

// Times `n` calls of body().
template <typename Body>
Timing Time(long n, Body body) {
  const double wall = Now(CLOCK_MONOTONIC);
  const double cpu = Now(CLOCK_THREAD_CPUTIME_ID);
  for (long i = 0; i < n; ++i)
    body();
  Timing t;
  t.cpu = (Now(CLOCK_THREAD_CPUTIME_ID) - cpu) / static_cast<double>(n);
  t.wall = (Now(CLOCK_MONOTONIC) - wall) / static_cast<double>(n);
  return t;
}

volatile long g_sink;

Timing ReadLoop(long n) {
  char path[] = "/tmp/teye-overhead-probe-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return {};
  ::unlink(path);
  char block[4096];
  std::memset(block, 'x', sizeof block);
  if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) return {};
  char buf[64];
  auto one = [&] { g_sink = g_sink + ::pread(fd, buf, sizeof buf, 0); };
  Time(1000, one);  // warm: the collector's thread state, caches, predictors
  const Timing t = Time(n, one);
  ::close(fd);
  return t;
}

#ifdef TEYE_HAVE_NVTX_HEADERS
void Push(const char* name) {
  nvtxRangePushA(name);
}
void Pop() {
  nvtxRangePop();
}
#else
using namespace teye::collector;
nvtx::FunctionPointer g_core[nvtx::kCoreSize];
nvtx::FunctionPointer* g_table[nvtx::kCoreSize + 1];
nvtx::FunctionPointer g_core2[nvtx::kCore2Size];
nvtx::FunctionPointer* g_table2[nvtx::kCore2Size + 1];
int GetTable(int module, nvtx::FunctionTable* out, unsigned* size) {
  *out = module == nvtx::kModuleCore ? g_table : g_table2;
  *size = module == nvtx::kModuleCore ? nvtx::kCoreSize : nvtx::kCore2Size;
  return module == nvtx::kModuleCore || module == nvtx::kModuleCore2;
}
nvtx::ExportTableCallbacks g_callbacks{sizeof(nvtx::ExportTableCallbacks), GetTable};
const void* GetExportTable(uint32_t id) {
  return id == nvtx::kEtidCallbacks ? &g_callbacks : nullptr;
}
using PushFn = int (*)(const char*);
using PopFn = int (*)();
PushFn g_push;
PopFn g_pop;
// What NVTX does on its first call: load the tool named by NVTX_INJECTION64_PATH.
void LoadTool() {
  for (unsigned i = 1; i < nvtx::kCoreSize; ++i)
    g_table[i] = &g_core[i];
  for (unsigned i = 1; i < nvtx::kCore2Size; ++i)
    g_table2[i] = &g_core2[i];
  const char* path = std::getenv("NVTX_INJECTION64_PATH");
  if (!path || !*path) return;
  void* lib = dlopen(path, RTLD_LAZY);
  auto init = lib ? reinterpret_cast<int (*)(nvtx::GetExportTableFn)>(
                        dlsym(lib, "InitializeInjectionNvtx2"))
                  : nullptr;
  if (!init || !init(GetExportTable)) return;
  g_push = reinterpret_cast<PushFn>(g_core[nvtx::kRangePushA]);
  g_pop = reinterpret_cast<PopFn>(g_core[nvtx::kRangePop]);
}
void Push(const char* name) {
  if (PushFn fn = g_push) g_sink = g_sink + fn(name);
}
void Pop() {
  if (PopFn fn = g_pop) g_sink = g_sink + fn();
}
#endif

Timing NvtxLoop(long n) {
#ifndef TEYE_HAVE_NVTX_HEADERS
  LoadTool();
#endif
  auto pair = [] {
    Push("step");
    Pop();
  };
  Time(1000, pair);
  return Time(n, pair);
}

}  // namespace

void* Idle(void*) {
  ::pause();
  return nullptr;
}

int main(int argc, char** argv) {
  pthread_t helper;
  pthread_create(&helper, nullptr, Idle, nullptr);
  if (argc < 3) {
    std::fprintf(stderr, "usage: teye_overhead_probe read|nvtx N\n");
    return 2;
  }
  const long n = std::atol(argv[2]);
  const Timing t = std::strcmp(argv[1], "read") == 0   ? ReadLoop(n)
                   : std::strcmp(argv[1], "nvtx") == 0 ? NvtxLoop(n)
                                                       : Timing{};
  if (t.cpu < 0) return 2;
  std::printf("%.2f %.2f\n", t.wall, t.cpu);
  return 0;
}
