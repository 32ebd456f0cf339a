// Collector costs measured inside one process (docs/performance.md, "Collector overhead"). Not a
// test: numbers depend on the machine. The overhead targets for NVTX and reads (DESIGN.md §8)
// are judged end to end, from outside, by teye_overhead_bench; these isolate the parts:
//
//   BM_NvtxPushPop/<recording>     one nvtxRangePushA + nvtxRangePop through the installed slots
//   BM_ReadHotPath/<recording>     read(2) of 1 byte from /dev/zero with the interposer's
//                                  recording code around it (io_record.h)
//   BM_CuptiToTrace                CUDA 13 activity records → teye records → JSON (target
//                                  >= 10 M records/s)
//   BM_WriterIoRecords             the writer alone on I/O records
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "clock.h"
#include "collector.h"
#include "io_record.h"
#include "nvtx_abi.h"
#include "nvtx_injection.h"
#ifdef TEYE_COLLECTOR_HAVE_CUPTI
#include "cupti_api.h"
#endif

namespace teye::collector {
namespace {

std::string MakeTempDir() {
  char pattern[] = "/tmp/teye-bench-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  return dir ? dir : "/tmp";
}

void RemoveDir(const std::string& dir) {
  if (dir.rfind("/tmp/teye-bench-", 0) == 0) std::system(("rm -rf '" + dir + "'").c_str());
}

// The trace goes to /dev/null: the benchmark measures formatting and write(2), not the disk.
void SinkTraceToDevNull(Collector& c) {
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) c.SetTraceSink(fd);  // kept open for the benchmark's life
}

// A collector whose chunks a helper thread keeps draining (and discarding), as the background
// thread would, so the producer never runs out of buffer.
class DrainedCollector {
 public:
  DrainedCollector() : dir_(MakeTempDir()) {
    TickClock::Init("auto");
    Config config;
    config.output_dir = dir_;
    config.quiet = true;
    config.buffer_mb = 256;
    collector_ = std::make_unique<Collector>(config, ProcessIdentity::Current());
    NvtxAttach(*collector_);
    collector_->Start(/*background=*/false);
    drainer_ = std::thread([this] {
      while (!stop_.load(std::memory_order_relaxed)) {
        collector_->store().Drain([](const RecordHeader&) {});
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~DrainedCollector() {
    stop_.store(true);
    drainer_.join();
    collector_.reset();
    RemoveDir(dir_);
  }
  Collector& collector() { return *collector_; }

 private:
  std::string dir_;
  std::unique_ptr<Collector> collector_;
  std::atomic<bool> stop_{false};
  std::thread drainer_;
};

// ---- NVTX -------------------------------------------------------------------------------------

struct NvtxSlots {
  nvtx::FunctionPointer core[nvtx::kCoreSize] = {};
  nvtx::FunctionPointer* table[nvtx::kCoreSize + 1] = {};
  nvtx::FunctionPointer core2[nvtx::kCore2Size] = {};
  nvtx::FunctionPointer* table2[nvtx::kCore2Size + 1] = {};
  nvtx::ExportTableCallbacks callbacks{};
};
NvtxSlots* g_slots = nullptr;

int GetTable(int module, nvtx::FunctionTable* out, unsigned* size) {
  if (module == nvtx::kModuleCore) {
    *out = g_slots->table;
    *size = nvtx::kCoreSize;
    return 1;
  }
  if (module == nvtx::kModuleCore2) {
    *out = g_slots->table2;
    *size = nvtx::kCore2Size;
    return 1;
  }
  return 0;
}
const void* GetExportTable(uint32_t id) {
  return id == nvtx::kEtidCallbacks ? &g_slots->callbacks : nullptr;
}

void BM_NvtxPushPop(benchmark::State& state) {
  const bool recording = state.range(0) != 0;
  auto collector = std::make_unique<DrainedCollector>();
  static NvtxSlots slots;
  g_slots = &slots;
  for (unsigned i = 1; i < nvtx::kCoreSize; ++i)
    slots.table[i] = &slots.core[i];
  for (unsigned i = 1; i < nvtx::kCore2Size; ++i)
    slots.table2[i] = &slots.core2[i];
  slots.callbacks = {sizeof slots.callbacks, GetTable};
  NvtxInitialize(GetExportTable);
  using Push = int (*)(const char*);
  using Pop = int (*)();
  // What nvtx3's inline functions do: call the slot when it is set, else nothing.
  Push push = reinterpret_cast<Push>(recording ? slots.core[nvtx::kRangePushA] : nullptr);
  Pop pop = reinterpret_cast<Pop>(recording ? slots.core[nvtx::kRangePop] : nullptr);
  benchmark::DoNotOptimize(push);
  benchmark::DoNotOptimize(pop);
  for (auto _ : state) {
    if (push) push("forward");
    if (pop) pop();
  }
  state.counters["dropped"] = static_cast<double>(collector->collector().store().dropped());
  state.SetLabel(recording ? "collector recording" : "no NVTX tool (baseline)");
}
BENCHMARK(BM_NvtxPushPop)->Arg(0)->Arg(1);

// ---- Interposed read --------------------------------------------------------------------------

using ReadFn = ssize_t (*)(int, void*, size_t);

// This VM's neighbours make single runs noisy: repeat, and compare the minima.
double Min(const std::vector<double>& v) {
  return *std::min_element(v.begin(), v.end());
}

// The interposer's own work around a real read (io_record.h, the code interpose.cpp runs), with
// chunks recycled by a light drainer: the hot path alone, without the writer competing for the
// two vCPUs of this machine.
void BM_ReadHotPath(benchmark::State& state) {
  auto drained = std::make_unique<DrainedCollector>();
  Collector& c = drained->collector();
  const int fd = ::open("/dev/zero", O_RDONLY);
  auto real_read = reinterpret_cast<ReadFn>(dlsym(RTLD_DEFAULT, "read"));
  char byte;
  const bool record = state.range(0) != 0;
  for (auto _ : state) {
    if (!record) {
      benchmark::DoNotOptimize(real_read(fd, &byte, 1));
      continue;
    }
    IoCall call;
    const ssize_t r = real_read(fd, &byte, 1);
    if (call.c) RecordIo(call, IoOp::kRead, fd, r, 0);
  }
  ::close(fd);
  state.counters["dropped"] = static_cast<double>(c.store().dropped());
  state.SetLabel(record ? "read + teye record" : "read");
}
BENCHMARK(BM_ReadHotPath)
    ->Arg(0)
    ->Arg(1)
    ->MinTime(0.3)
    ->Repetitions(5)
    ->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly();

// ---- Writer -----------------------------------------------------------------------------------

void BM_WriterIoRecords(benchmark::State& state) {
  const std::string dir = MakeTempDir();
  TickClock::Init("auto");
  Config config;
  config.output_dir = dir;
  config.quiet = true;
  config.buffer_mb = 256;
  ProcessIdentity id = ProcessIdentity::Current();
  Collector c(config, id);
  SinkTraceToDevNull(c);
  c.Start(false);
  ThreadState* ts = c.Thread();
  const uint32_t path = c.strings().Intern("/data/imagenet/train/n01440764/n01440764_10026.JPEG");
  constexpr int kBatch = 100000;
  for (auto _ : state) {
    uint64_t t = NowTicks();
    for (int i = 0; i < kBatch; ++i) {
      auto* r = static_cast<IoRecord*>(
          c.Begin(ts, RecordType::kIo, RecordSize(sizeof(IoRecord)), ts->tid));
      if (!r) continue;
      std::memset(reinterpret_cast<char*>(r) + sizeof(RecordHeader), 0,
                  sizeof(IoRecord) - sizeof(RecordHeader));
      r->start = t;
      r->end = t += 3000;
      r->result = 110000;
      r->fd = 7;
      r->path = path;
      r->op = IoOp::kRead;
      c.Commit(ts, RecordSize(sizeof(IoRecord)));
    }
    c.Flush();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  c.Finish("bench");
  RemoveDir(dir);
}
BENCHMARK(BM_WriterIoRecords)->Unit(benchmark::kMillisecond);

#ifdef TEYE_COLLECTOR_HAVE_CUPTI
// ---- CUPTI records → trace --------------------------------------------------------------------

size_t KindBytes(CUpti_ActivityKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
      return sizeof(CUpti_ActivityKernel10);
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return sizeof(CUpti_ActivityMemcpy6);
    case CUPTI_ACTIVITY_KIND_RUNTIME:
      return sizeof(CUpti_ActivityAPI);
    default:
      return 0;
  }
}
CUptiResult Next(uint8_t* buffer, size_t valid, CUpti_Activity** record) {
  uint8_t* next =
      *record ? reinterpret_cast<uint8_t*>(*record) + KindBytes((*record)->kind) : buffer;
  if (next >= buffer + valid) return CUPTI_ERROR_MAX_LIMIT_REACHED;
  *record = reinterpret_cast<CUpti_Activity*>(next);
  return CUPTI_SUCCESS;
}
CUptiResult NoDrops(CUcontext, uint32_t, size_t* dropped) {
  *dropped = 0;
  return CUPTI_SUCCESS;
}
CUptiResult Name(CUpti_CallbackDomain, uint32_t, const char** name) {
  *name = "cudaLaunchKernel_v7000";
  return CUPTI_SUCCESS;
}

// A training-like mix: every kernel has its launch; one copy per ten kernels.
std::vector<uint8_t> MakeActivityBuffer(size_t records, size_t& count) {
  std::vector<uint8_t> bytes;
  static const char* kNames[] = {
      "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
      "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, "
      "at::detail::Array<char*, 3>)",
      "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_"
      "segment_k_off_kernel__5x_cublas",
      "_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_11FillFunctorIfEENS_"
      "6detail5ArrayIPcLi1EEEEEviT0_T1_"};
  uint64_t t = 1'790'000'000'000'000'000;
  uint32_t corr = 1;
  count = 0;
  auto add = [&](auto& r, CUpti_ActivityKind kind) {
    r.kind = kind;
    const size_t off = bytes.size();
    bytes.resize(off + sizeof(r));
    std::memcpy(bytes.data() + off, &r, sizeof(r));
    ++count;
  };
  while (count < records) {
    CUpti_ActivityAPI api{};
    api.cbid = 211;
    api.start = t;
    api.end = t + 4000;
    api.threadId = 1234;
    api.correlationId = corr;
    add(api, CUPTI_ACTIVITY_KIND_RUNTIME);
    CUpti_ActivityKernel10 k{};
    k.name = kNames[corr % 3];
    k.start = t + 5000;
    k.end = t + 25000;
    k.streamId = 7;
    k.contextId = 1;
    k.correlationId = corr;
    k.gridX = 1024;
    k.gridY = k.gridZ = 1;
    k.blockX = 256;
    k.blockY = k.blockZ = 1;
    k.registersPerThread = 64;
    add(k, CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
    if (corr % 10 == 0) {
      CUpti_ActivityMemcpy6 m{};
      m.copyKind = 1;
      m.srcKind = 2;
      m.dstKind = 3;
      m.bytes = 1 << 20;
      m.start = t + 26000;
      m.end = t + 36000;
      m.streamId = 7;
      m.correlationId = corr;
      add(m, CUPTI_ACTIVITY_KIND_MEMCPY);
    }
    t += 40000;
    ++corr;
  }
  return bytes;
}

void BM_CuptiToTrace(benchmark::State& state) {
  const std::string dir = MakeTempDir();
  TickClock::Init("auto");
  Config config;
  config.output_dir = dir;
  config.quiet = true;
  config.buffer_mb = 512;
  ProcessIdentity id = ProcessIdentity::Current();
  Collector c(config, id);
  SinkTraceToDevNull(c);
  c.Start(false);
  CuptiApi api;
  api.activity_get_next_record = Next;
  api.activity_get_num_dropped_records = NoDrops;
  api.get_callback_name = Name;
  cupti::InstallForTest(c, api);
  size_t count = 0;
  const std::vector<uint8_t> buffer = MakeActivityBuffer(200000, count);
  for (auto _ : state) {
    auto* copy = static_cast<uint8_t*>(std::aligned_alloc(8, buffer.size()));
    std::memcpy(copy, buffer.data(), buffer.size());
    cupti::OnBufferCompleted(nullptr, 0, copy, buffer.size(), buffer.size());  // convert
    c.Flush();                                                                 // format, write
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * count));
  state.counters["dropped"] = static_cast<double>(c.store().dropped());
  c.Finish("bench");
  RemoveDir(dir);
}
BENCHMARK(BM_CuptiToTrace)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace teye::collector

BENCHMARK_MAIN();
