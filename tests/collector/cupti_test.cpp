// The CUPTI path, with or without a GPU.
//
// 1. The seam: activity buffers laid out exactly as CUDA 13's cupti_activity.h records (kernel,
//    memcpy, peer memcpy, memset, synchronisation, runtime/driver API, overhead, markers,
//    external correlation, device; out of order, invalid and unknown records, a dropped count)
//    go through cupti::OnBufferCompleted, the function CUPTI itself calls, and the written trace
//    is checked event by event. The records are iterated by a fake cuptiActivityGetNextRecord
//    and, when libcupti.so loads, by the real one.
// 2. The real libcupti.so: the collector loads into programs (one that asks for CUDA injection the
//    way the driver does, one linked with libcudart) and changes neither their output nor their
//    exit code. On a GPU-less machine (CI) it says once that CUPTI is unavailable; on a machine
//    with a GPU (scripts/gpu/validate.sh runs this test there) it records the CUDA program's
//    memset and copy, each linked to its runtime call.
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <set>

#include "teye/import/read_trace.h"

#include "clock.h"
#include "collector.h"
#include "collector_test_util.h"
#include "cupti_api.h"

namespace teye::collector {
namespace {

using teye::test::Events;
using teye::test::ListDir;
using teye::test::LoadJson;
using teye::test::TempDir;

constexpr uint64_t kT0 = 1'790'000'000'000'000'000;  // CUPTI timestamps are CLOCK_REALTIME ns

size_t RecordBytes(CUpti_ActivityKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
    case CUPTI_ACTIVITY_KIND_KERNEL:
      return sizeof(CUpti_ActivityKernel10);
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return sizeof(CUpti_ActivityMemcpy6);
    case CUPTI_ACTIVITY_KIND_MEMCPY2:
      return sizeof(CUpti_ActivityMemcpyPtoP4);
    case CUPTI_ACTIVITY_KIND_MEMSET:
      return sizeof(CUpti_ActivityMemset4);
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
      return sizeof(CUpti_ActivitySynchronization2);
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER:
      return sizeof(CUpti_ActivityAPI);
    case CUPTI_ACTIVITY_KIND_OVERHEAD:
      return sizeof(CUpti_ActivityOverhead3);
    case CUPTI_ACTIVITY_KIND_MARKER:
      return sizeof(CUpti_ActivityMarker2);
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
      return sizeof(CUpti_ActivityExternalCorrelation);
    case CUPTI_ACTIVITY_KIND_DEVICE:
      return sizeof(CUpti_ActivityDevice5);
    case CUPTI_ACTIVITY_KIND_NAME:
      return sizeof(CUpti_ActivityName);
    default:
      return 0;
  }
}

// The fake CUPTI: iterates records by their CUDA 13 sizes, as the real one does.
size_t g_dropped = 0;
CUptiResult FakeNext(uint8_t* buffer, size_t valid, CUpti_Activity** record) {
  uint8_t* next = buffer;
  if (*record) {
    const size_t size = RecordBytes((*record)->kind);
    if (!size) return CUPTI_ERROR_INVALID_KIND;
    next = reinterpret_cast<uint8_t*>(*record) + size;
  }
  if (next >= buffer + valid) return CUPTI_ERROR_MAX_LIMIT_REACHED;
  *record = reinterpret_cast<CUpti_Activity*>(next);
  return CUPTI_SUCCESS;
}
CUptiResult FakeDropped(CUcontext, uint32_t, size_t* dropped) {
  *dropped = g_dropped;
  g_dropped = 0;
  return CUPTI_SUCCESS;
}
CUptiResult FakeCallbackName(CUpti_CallbackDomain domain, uint32_t cbid, const char** name) {
  static const std::map<std::pair<int, uint32_t>, const char*> names = {
      {{CUPTI_CB_DOMAIN_RUNTIME_API, 211}, "cudaLaunchKernel_v7000"},
      {{CUPTI_CB_DOMAIN_RUNTIME_API, 41}, "cudaMemcpyAsync_v3020"},
      {{CUPTI_CB_DOMAIN_RUNTIME_API, 17}, "cudaGetDevice_v3020"},
      {{CUPTI_CB_DOMAIN_RUNTIME_API, 131}, "cudaStreamSynchronize_v3020"},
      {{CUPTI_CB_DOMAIN_DRIVER_API, 307}, "cuLaunchKernel"},
      {{CUPTI_CB_DOMAIN_DRIVER_API, 9}, "cuCtxGetCurrent"},
  };
  auto it = names.find({domain, cbid});
  if (it == names.end()) return CUPTI_ERROR_INVALID_PARAMETER;
  *name = it->second;
  return CUPTI_SUCCESS;
}

class Buffer {
 public:
  template <typename R>
  R& Add(CUpti_ActivityKind kind) {
    static_assert(sizeof(R) % 8 == 0);
    const size_t offset = bytes_.size();
    bytes_.resize(offset + sizeof(R), 0);
    auto* r = reinterpret_cast<R*>(bytes_.data() + offset);
    reinterpret_cast<CUpti_Activity*>(r)->kind = kind;
    return *r;
  }
  // A copy CUPTI would have handed over: 8-byte aligned, from malloc (OnBufferCompleted frees it).
  uint8_t* Release(size_t& size) const {
    size = bytes_.size();
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(8, (size + 7) / 8 * 8));
    std::memcpy(p, bytes_.data(), size);
    return p;
  }

 private:
  std::vector<uint8_t> bytes_;  // records are reinterpreted in place: keep 8-byte alignment
};

void Fill(Buffer& b) {
  auto& ext = b.Add<CUpti_ActivityExternalCorrelation>(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION);
  ext.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0;
  ext.externalId = 77;
  ext.correlationId = 100;

  auto& dev = b.Add<CUpti_ActivityDevice5>(CUPTI_ACTIVITY_KIND_DEVICE);
  static const char kDeviceName[] = "NVIDIA Test GPU";
  dev.name = kDeviceName;
  dev.id = 0;
  dev.globalMemorySize = 80ull << 30;
  dev.computeCapabilityMajor = 9;
  dev.computeCapabilityMinor = 0;
  dev.numMultiprocessors = 128;
  dev.numThreadsPerWarp = 32;
  dev.maxWarpsPerMultiprocessor = 64;
  dev.maxThreadsPerBlock = 1024;
  for (int i = 0; i < 16; ++i)
    dev.uuid.bytes[i] = static_cast<char>(i);

  auto& api = b.Add<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_RUNTIME);
  api.cbid = 211;
  api.start = kT0 + 1000;
  api.end = kT0 + 1500;
  api.processId = 1;
  api.threadId = 4242;
  api.correlationId = 100;

  static const char kMangled[] = "_Z10vector_addPfS_S_i";
  auto& k = b.Add<CUpti_ActivityKernel10>(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  k.name = kMangled;
  k.start = kT0 + 2000;
  k.end = kT0 + 5000;
  k.queued = kT0 + 1600;
  k.deviceId = 0;
  k.contextId = 1;
  k.streamId = 7;
  k.correlationId = 100;
  k.gridX = 128;
  k.gridY = 2;
  k.gridZ = 1;
  k.blockX = 256;
  k.blockY = 1;
  k.blockZ = 1;
  k.registersPerThread = 32;
  k.staticSharedMemory = 1024;
  k.dynamicSharedMemory = 2048;

  static const char kNccl[] =
      "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
  auto& nk = b.Add<CUpti_ActivityKernel10>(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  nk.name = kNccl;
  nk.start = kT0 + 6000;
  nk.end = kT0 + 9000;
  nk.deviceId = 0;
  nk.contextId = 1;
  nk.streamId = 13;
  nk.correlationId = 104;
  nk.gridX = nk.gridY = nk.gridZ = 1;
  nk.blockX = 512;
  nk.blockY = nk.blockZ = 1;

  auto& h2d = b.Add<CUpti_ActivityMemcpy6>(CUPTI_ACTIVITY_KIND_MEMCPY);
  h2d.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
  h2d.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE;
  h2d.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  h2d.bytes = 4096;
  h2d.start = kT0 + 10000;
  h2d.end = kT0 + 12000;
  h2d.deviceId = 0;
  h2d.contextId = 1;
  h2d.streamId = 7;
  h2d.correlationId = 101;

  auto& d2h = b.Add<CUpti_ActivityMemcpy6>(CUPTI_ACTIVITY_KIND_MEMCPY);
  d2h.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_DTOH;
  d2h.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  d2h.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_PINNED;
  d2h.flags = CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC;
  d2h.bytes = 1 << 20;
  d2h.start = kT0 + 13000;
  d2h.end = kT0 + 14000;
  d2h.deviceId = 0;
  d2h.contextId = 1;
  d2h.streamId = 8;
  d2h.correlationId = 106;

  auto& p2p = b.Add<CUpti_ActivityMemcpyPtoP4>(CUPTI_ACTIVITY_KIND_MEMCPY2);
  p2p.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_PTOP;
  p2p.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  p2p.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
  p2p.bytes = 2048;
  p2p.start = kT0 + 15000;
  p2p.end = kT0 + 16000;
  p2p.deviceId = 0;
  p2p.srcDeviceId = 0;
  p2p.dstDeviceId = 1;
  p2p.streamId = 9;
  p2p.correlationId = 107;

  auto& ms = b.Add<CUpti_ActivityMemset4>(CUPTI_ACTIVITY_KIND_MEMSET);
  ms.value = 0;
  ms.bytes = 8192;
  ms.start = kT0 + 17000;
  ms.end = kT0 + 17500;
  ms.deviceId = 0;
  ms.contextId = 1;
  ms.streamId = 7;
  ms.correlationId = 102;
  ms.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;

  auto& ss = b.Add<CUpti_ActivitySynchronization2>(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION);
  ss.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE;
  ss.start = kT0 + 18000;
  ss.end = kT0 + 20000;
  ss.correlationId = 103;
  ss.contextId = 1;
  ss.streamId = 7;

  auto& cs = b.Add<CUpti_ActivitySynchronization2>(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION);
  cs.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE;
  cs.start = kT0 + 21000;
  cs.end = kT0 + 22000;
  cs.correlationId = 108;
  cs.contextId = 1;
  cs.streamId = 0xffffffffu;

  auto& filtered = b.Add<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_RUNTIME);
  filtered.cbid = 17;  // cudaGetDevice: noise, left out
  filtered.start = kT0 + 500;
  filtered.end = kT0 + 600;
  filtered.threadId = 4242;
  filtered.correlationId = 99;

  auto& sync_api = b.Add<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_RUNTIME);
  sync_api.cbid = 131;
  sync_api.start = kT0 + 17900;
  sync_api.end = kT0 + 20100;
  sync_api.threadId = 4242;
  sync_api.correlationId = 103;

  auto& drv = b.Add<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_DRIVER);
  drv.cbid = 307;  // cuLaunchKernel (Triton-style launch)
  drv.start = kT0 + 5500;
  drv.end = kT0 + 5800;
  drv.threadId = 4243;
  drv.correlationId = 104;

  auto& drv_noise = b.Add<CUpti_ActivityAPI>(CUPTI_ACTIVITY_KIND_DRIVER);
  drv_noise.cbid = 9;  // cuCtxGetCurrent: not a launch
  drv_noise.start = kT0 + 5900;
  drv_noise.end = kT0 + 5950;
  drv_noise.threadId = 4243;
  drv_noise.correlationId = 109;

  auto& ov = b.Add<CUpti_ActivityOverhead3>(CUPTI_ACTIVITY_KIND_OVERHEAD);
  ov.overheadKind = CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH;
  ov.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  ov.objectId.pt.threadId = 4242;
  ov.start = kT0 + 23000;
  ov.end = kT0 + 24000;

  static const char kMarker[] = "marker range";
  static const char kDomain[] = "cupti.domain";
  auto& m1 = b.Add<CUpti_ActivityMarker2>(CUPTI_ACTIVITY_KIND_MARKER);
  m1.flags = CUPTI_ACTIVITY_FLAG_MARKER_START;
  m1.timestamp = kT0 + 25000;
  m1.id = 9;
  m1.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  m1.objectId.pt.threadId = 4242;
  m1.name = kMarker;
  m1.domain = kDomain;
  auto& m2 = b.Add<CUpti_ActivityMarker2>(CUPTI_ACTIVITY_KIND_MARKER);
  m2.flags = CUPTI_ACTIVITY_FLAG_MARKER_END;
  m2.timestamp = kT0 + 26000;
  m2.id = 9;
  m2.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  m2.objectId.pt.threadId = 4242;
  static const char kInstant[] = "instant marker";
  auto& m3 = b.Add<CUpti_ActivityMarker2>(CUPTI_ACTIVITY_KIND_MARKER);
  m3.flags = CUPTI_ACTIVITY_FLAG_MARKER_INSTANTANEOUS;
  m3.timestamp = kT0 + 27000;
  m3.id = 10;
  m3.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
  m3.objectId.pt.threadId = 4242;
  m3.name = kInstant;

  // Out of order: a kernel that ran before everything above, reported last.
  static const char kEarly[] = "early_kernel";
  auto& early = b.Add<CUpti_ActivityKernel10>(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  early.name = kEarly;
  early.start = kT0 + 100;
  early.end = kT0 + 400;
  early.deviceId = 0;
  early.contextId = 1;
  early.streamId = 7;
  early.correlationId = 98;
  early.gridX = early.gridY = early.gridZ = early.blockX = early.blockY = early.blockZ = 1;

  // Invalid: ends before it starts. Skipped and counted.
  auto& bad = b.Add<CUpti_ActivityKernel10>(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  bad.name = kEarly;
  bad.start = kT0 + 900;
  bad.end = kT0 + 800;
  bad.correlationId = 97;

  // A kind teye does not convert.
  b.Add<CUpti_ActivityName>(CUPTI_ACTIVITY_KIND_NAME);
}

enum class Iterator { kFake, kRealCupti };

class CuptiSeamTest : public ::testing::TestWithParam<Iterator> {
 protected:
  void SetUp() override {
    TickClock::Init("auto");
    CuptiApi api;
    api.activity_get_num_dropped_records = FakeDropped;
    api.get_callback_name = FakeCallbackName;
    if (GetParam() == Iterator::kFake) {
      api.activity_get_next_record = FakeNext;
    } else {
      CuptiApi real;
      std::string where, error;
      if (!LoadCuptiApi(real, where, error)) GTEST_SKIP() << "libcupti.so does not load: " << error;
      api.activity_get_next_record = real.activity_get_next_record;
    }
    Config config;
    config.output_dir = dir_.path();
    config.quiet = true;
    collector_ = std::make_unique<Collector>(config, ProcessIdentity::Current());
    collector_->Start(false);
    cupti::InstallForTest(*collector_, api);
  }

  nlohmann::json FeedAndFinish(const Buffer& b, size_t dropped) {
    g_dropped = dropped;
    size_t size = 0;
    uint8_t* bytes = b.Release(size);
    cupti::OnBufferCompleted(nullptr, 0, bytes, size, size);  // frees the buffer
    collector_->Finish("test");
    path_ = collector_->final_path();
    return LoadJson(path_);
  }

  TempDir dir_;
  std::unique_ptr<Collector> collector_;
  std::string path_;
};

std::map<std::string, nlohmann::json> ByName(const std::vector<nlohmann::json>& events) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& e : events)
    out[e["name"]] = e;
  return out;
}

double Us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

TEST_P(CuptiSeamTest, EveryRecordBecomesTheRightEvent) {
  Buffer b;
  Fill(b);
  nlohmann::json j = FeedAndFinish(b, 5);
  ASSERT_TRUE(j.is_object());

  // Kernels: demangled names, Kineto args, device/stream tracks, host-clock times.
  auto kernels = ByName(Events(j, "kernel", "X"));
  ASSERT_EQ(kernels.size(), 3u);
  const auto& k = kernels["vector_add(float*, float*, float*, int)"];
  ASSERT_FALSE(k.is_null());
  EXPECT_EQ(k["pid"], 0);
  EXPECT_EQ(k["tid"], 7);
  EXPECT_DOUBLE_EQ(k["ts"].get<double>(), Us(kT0 + 2000));
  EXPECT_DOUBLE_EQ(k["dur"].get<double>(), 3.0);
  EXPECT_EQ(k["args"]["device"], 0);
  EXPECT_EQ(k["args"]["context"], 1);
  EXPECT_EQ(k["args"]["stream"], 7);
  EXPECT_EQ(k["args"]["correlation"], 100);
  EXPECT_EQ(k["args"]["External id"], 77);
  EXPECT_EQ(k["args"]["grid"], nlohmann::json::array({128, 2, 1}));
  EXPECT_EQ(k["args"]["block"], nlohmann::json::array({256, 1, 1}));
  EXPECT_EQ(k["args"]["registers per thread"], 32);
  EXPECT_EQ(k["args"]["shared memory"], 3072);
  EXPECT_DOUBLE_EQ(k["args"]["blocks per SM"].get<double>(), 2.0);  // 256 blocks / 128 SMs
  EXPECT_EQ(k["args"]["queued"], kT0 + 1600);
  const auto& nccl =
      kernels["ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)"];
  EXPECT_EQ(nccl["args"]["Collective name"], "allreduce");
  EXPECT_EQ(nccl["args"]["dtype"], "BFloat16");
  EXPECT_EQ(nccl["args"]["algorithm"], "RING");
  EXPECT_EQ(nccl["args"]["protocol"], "LL");
  EXPECT_DOUBLE_EQ(kernels["early_kernel"]["ts"].get<double>(), Us(kT0 + 100));

  // Copies and memsets: Kineto's names and the memory kinds.
  auto copies = ByName(Events(j, "gpu_memcpy", "X"));
  ASSERT_EQ(copies.size(), 3u);
  const auto& h2d = copies["Memcpy HtoD (Pageable -> Device)"];
  EXPECT_EQ(h2d["args"]["bytes"], 4096);
  EXPECT_EQ(h2d["args"]["copy_kind"], "HtoD");
  EXPECT_EQ(h2d["args"]["src_kind"], "pageable");
  EXPECT_EQ(h2d["args"]["dst_kind"], "device");
  EXPECT_EQ(h2d["args"]["async"], false);
  EXPECT_DOUBLE_EQ(h2d["args"]["memory bandwidth (GB/s)"].get<double>(), 2.048);
  const auto& d2h = copies["Memcpy DtoH (Device -> Pinned)"];
  EXPECT_EQ(d2h["args"]["async"], true);
  EXPECT_EQ(d2h["tid"], 8);
  const auto& p2p = copies["Memcpy PtoP (Device -> Device)"];
  EXPECT_EQ(p2p["args"]["src_device"], 0);
  EXPECT_EQ(p2p["args"]["dst_device"], 1);
  auto memsets = Events(j, "gpu_memset", "X");
  ASSERT_EQ(memsets.size(), 1u);
  EXPECT_EQ(memsets[0]["name"], "Memset (Device)");
  EXPECT_EQ(memsets[0]["args"]["bytes"], 8192);

  // Synchronisation on the device of its context (learned from the kernel).
  auto syncs = ByName(Events(j, "cuda_sync", "X"));
  ASSERT_EQ(syncs.size(), 2u);
  EXPECT_EQ(syncs["Stream Sync"]["pid"], 0);
  EXPECT_EQ(syncs["Stream Sync"]["tid"], 7);
  EXPECT_EQ(syncs["Stream Sync"]["args"]["correlation"], 103);
  EXPECT_EQ(syncs["Context Sync"]["args"]["stream"], -1);

  // API calls: names without the CUPTI version suffix, correlation, the filter.
  auto runtime = ByName(Events(j, "cuda_runtime", "X"));
  ASSERT_EQ(runtime.size(), 2u) << "cudaGetDevice is filtered";
  EXPECT_EQ(runtime["cudaLaunchKernel"]["tid"], 4242);
  EXPECT_EQ(runtime["cudaLaunchKernel"]["args"]["correlation"], 100);
  EXPECT_EQ(runtime["cudaLaunchKernel"]["args"]["cbid"], 211);
  EXPECT_EQ(runtime["cudaLaunchKernel"]["args"]["External id"], 77);
  EXPECT_TRUE(runtime.count("cudaStreamSynchronize"));
  auto driver = ByName(Events(j, "cuda_driver", "X"));
  ASSERT_EQ(driver.size(), 1u);
  EXPECT_EQ(driver["cuLaunchKernel"]["args"]["correlation"], 104);
  EXPECT_EQ(j["teye"]["cupti_filtered_api_calls"], 2);

  // ac2g flows: start at each launch, end at each GPU activity with a correlation.
  std::set<int64_t> starts, ends;
  for (const auto& e : Events(j, "ac2g"))
    (e["ph"] == "s" ? starts : ends).insert(e["id"].get<int64_t>());
  EXPECT_EQ(starts, (std::set<int64_t>{100, 104}));
  EXPECT_TRUE(ends.count(100) && ends.count(104) && ends.count(101) && ends.count(102));

  auto overhead = Events(j, "overhead", "X");
  ASSERT_EQ(overhead.size(), 1u);
  EXPECT_EQ(overhead[0]["name"], "CUPTI Buffer Flush");
  EXPECT_EQ(overhead[0]["tid"], 4242);

  auto markers = ByName(Events(j, "nvtx"));
  ASSERT_EQ(markers.size(), 2u);
  EXPECT_EQ(markers["marker range"]["ph"], "X");
  EXPECT_DOUBLE_EQ(markers["marker range"]["dur"].get<double>(), 1.0);
  EXPECT_EQ(markers["marker range"]["args"]["domain"], "cupti.domain");
  EXPECT_EQ(markers["instant marker"]["ph"], "i");

  ASSERT_TRUE(j.contains("deviceProperties"));
  EXPECT_EQ(j["deviceProperties"][0]["name"], "NVIDIA Test GPU");
  EXPECT_EQ(j["deviceProperties"][0]["numSms"], 128);
  EXPECT_EQ(j["deviceProperties"][0]["computeMajor"], 9);
  EXPECT_EQ(j["deviceProperties"][0]["maxThreadsPerMultiprocessor"], 2048);

  EXPECT_EQ(j["teye"]["cupti_dropped_records"], 5);
  EXPECT_EQ(j["teye"]["cupti_invalid_records"], 1);
  EXPECT_EQ(j["teye"]["cupti_unknown_records"], 1);
  EXPECT_EQ(j["teye"]["cupti_records"], 22);

  // teye's reader links launches to kernels and sees the device and copy kinds.
  auto trace = ReadTraceFile(path_);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  const Trace& t = trace.value();
  EXPECT_EQ(t.stats().TotalLost(), 0);
  ASSERT_EQ(t.devices().size(), 1u);
  EXPECT_EQ(t.devices()[0].num_sms, 128);
  const GpuOpTable& ops = t.gpu_ops();
  EXPECT_EQ(ops.size(), 3u + 3u + 1u + 2u);
  int linked = 0, pageable_h2d = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops.kind[i] == GpuOpKind::kKernel && ops.correlation[i] == 100) {
      ASSERT_NE(ops.launch[i], kNoRow);
      EXPECT_EQ(t.str(t.host_slices().name[ops.launch[i]]), "cudaLaunchKernel");
      ++linked;
    }
    pageable_h2d +=
        ops.copy_kind[i] == CopyKind::kHtoD && ops.src_memory[i] == MemoryKind::kPageable;
  }
  EXPECT_EQ(linked, 1);
  EXPECT_EQ(pageable_h2d, 1);
}

TEST_P(CuptiSeamTest, EmptyAndNullBuffersAreHarmless) {
  cupti::OnBufferCompleted(nullptr, 0, nullptr, 0, 0);
  uint8_t* empty = static_cast<uint8_t*>(std::aligned_alloc(8, 64));
  cupti::OnBufferCompleted(nullptr, 0, empty, 64, 0);
  g_dropped = 3;  // drops are read even from an empty buffer
  Buffer b;
  nlohmann::json j = FeedAndFinish(b, 3);
  // Nothing recorded: no file at all.
  EXPECT_EQ(path_, "") << j.dump();
  EXPECT_TRUE(ListDir(dir_.path(), ".partial").empty());
}

INSTANTIATE_TEST_SUITE_P(Iterators, CuptiSeamTest,
                         ::testing::Values(Iterator::kFake, Iterator::kRealCupti),
                         [](const auto& param_info) {
                           return param_info.param == Iterator::kFake ? "FakeIterator"
                                                                      : "RealLibcupti";
                         });

// ---- The real libcupti.so in programs -------------------------------------------------------

using teye::test::CollectorEnv;
using teye::test::CollectorUnset;
using teye::test::ProcessResult;
using teye::test::RunProgram;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

// Whether this machine has a usable GPU: the driver loads, initialises and has a device.
bool MachineHasGpu() {
  static const bool has = [] {
    void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cuda) return false;
    using Init = int (*)(unsigned);
    using Count = int (*)(int*);
    auto init = reinterpret_cast<Init>(dlsym(cuda, "cuInit"));
    auto count = reinterpret_cast<Count>(dlsym(cuda, "cuDeviceGetCount"));
    int n = 0;
    return init && count && init(0) == 0 && count(&n) == 0 && n > 0;
  }();
  return has;
}

size_t CountEvents(const nlohmann::json& j, const std::string& cat) {
  size_t n = 0;
  for (const auto& e : j["traceEvents"])
    if (e.value("cat", "") == cat) ++n;
  return n;
}

// The job's output and exit code are the same with the collector injected. Without a GPU the
// collector says once that CUPTI is unavailable and records the rest; with one it records GPU
// activity and says nothing. Returns the injected run's trace.
nlohmann::json ExpectUnchanged(const std::string& program,
                               std::map<std::string, std::string> extra_env) {
  TempDir dir;
  ProcessResult plain = RunProgram({program}, {}, CollectorUnset());
  auto env = CollectorEnv(dir.path());
  for (auto& [k, v] : extra_env)
    env[k] = v;
  ProcessResult injected = RunProgram({program}, env, CollectorUnset());
  EXPECT_EQ(injected.out, plain.out);
  EXPECT_EQ(injected.exit_code, plain.exit_code);
  EXPECT_EQ(injected.signal, 0);
  auto traces = ListDir(dir.path(), ".pt.trace.json");
  EXPECT_EQ(traces.size(), 1u) << injected.err;
  if (traces.size() != 1) return {};
  nlohmann::json j = LoadJson(traces[0]);
  const std::string status = j["teye"]["cupti"].get<std::string>();
  if (MachineHasGpu()) {
    EXPECT_EQ(Count(injected.err, "CUPTI is not available"), 0) << injected.err;
    EXPECT_EQ(status.rfind("recording", 0), 0u) << status;
  } else {
    EXPECT_EQ(Count(injected.err, "CUPTI is not available"), 1) << injected.err;
    EXPECT_NE(injected.err.find("NVTX ranges, I/O and CPU samples still are"), std::string::npos);
    // The rest is still recorded: the trace exists and says why GPU activity is missing.
    EXPECT_EQ(status.rfind("unavailable", 0), 0u) << status;
  }
  return j;
}

TEST(RealCupti, InjectionRequestIsReportedOnceWithoutAGpu) {
  ExpectUnchanged(TEYE_CUPTI_PROBE, {});
}

TEST(RealCupti, EagerModeReportsOnceToo) {
  ExpectUnchanged(TEYE_CUPTI_PROBE, {{"TEYE_CUPTI", "eager"}});
}

#ifdef TEYE_CUDA_PROBE
// With a GPU, the program's memset and device-to-host copy of one MiB are in the trace, each
// linked to the runtime call that issued it.
TEST(RealCupti, ACudaProgramRunsUnchanged) {
  nlohmann::json j = ExpectUnchanged(TEYE_CUDA_PROBE, {});
  if (!MachineHasGpu() || j.is_null()) return;
  std::map<int64_t, std::string> launches;
  for (const auto& e : j["traceEvents"])
    if (e.value("cat", "") == "cuda_runtime" && e["args"].contains("correlation"))
      launches[e["args"]["correlation"].get<int64_t>()] = e["name"].get<std::string>();
  int copies = 0, sets = 0;
  for (const auto& e : j["traceEvents"]) {
    const std::string cat = e.value("cat", "");
    if (cat != "gpu_memcpy" && cat != "gpu_memset") continue;
    EXPECT_EQ(e["args"]["bytes"].get<int64_t>(), 1 << 20) << e.dump();
    const auto launch = launches.find(e["args"]["correlation"].get<int64_t>());
    ASSERT_NE(launch, launches.end()) << e.dump();
    if (cat == "gpu_memcpy") {
      ++copies;
      EXPECT_EQ(e["name"].get<std::string>().rfind("Memcpy DtoH (Device -> ", 0), 0u) << e.dump();
      EXPECT_EQ(launch->second, "cudaMemcpy");
    } else {
      ++sets;
      EXPECT_EQ(launch->second, "cudaMemset");
    }
  }
  EXPECT_EQ(copies, 1) << CountEvents(j, "gpu_memcpy");
  EXPECT_EQ(sets, 1) << CountEvents(j, "gpu_memset");
}
#endif

#ifdef TEYE_CUPTI_JOB
// A profiler inside the job (torch.profiler's Kineto is one) gets CUPTI's subscriber and activity
// buffers under the collector exactly as without it, whether it claims them before or after CUDA
// (and the collector's CUPTI) starts: the job prints the same. The collector records the
// kernels before the profiler's window and after it (not during it), on the host's clock
// although the profiler set CUPTI's clock to its own.
void ExpectProfilerInTheJobUnchanged(const std::string& mode, int before,
                                     std::map<std::string, std::string> extra_env = {}) {
  TempDir dir;
  ProcessResult plain = RunProgram({TEYE_CUPTI_JOB, mode}, {}, CollectorUnset());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_NE(plain.out.find("subscribe 0\nenable callback 0\nclock 0\nregister 0\n"),
            std::string::npos)
      << plain.out;
  ASSERT_NE(plain.out.find("callbacks 10 kernels 5 other records 0 wrong userdata 0 buffers not "
                           "returned 0"),
            std::string::npos)
      << plain.out;
  auto env = CollectorEnv(dir.path());
  for (auto& [k, v] : extra_env)
    env[k] = v;
  ProcessResult injected = RunProgram({TEYE_CUPTI_JOB, mode}, env, CollectorUnset());
  EXPECT_EQ(injected.out, plain.out) << injected.err;
  EXPECT_EQ(injected.exit_code, 0);
  auto traces = ListDir(dir.path(), ".pt.trace.json");
  ASSERT_EQ(traces.size(), 1u) << injected.err;
  nlohmann::json j = LoadJson(traces[0]);
  const double start_us = j["teye"]["start_ns"].get<double>() / 1000;
  int seen_before = 0, window = 0, after = 0, launches = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e.value("cat", "") == "kernel") {
      seen_before += e["name"] == "before_window_kernel";
      window += e["name"] == "job_window_kernel";
      after += e["name"] == "after_window_kernel";
      // On the host's clock: within a minute of the collector's start, not at half of it.
      EXPECT_NEAR(e["ts"].get<double>(), start_us, 60e6) << e.dump();
    }
    launches += e.value("cat", "") == "cuda_runtime" && e["name"] == "cudaLaunchKernel";
  }
  EXPECT_EQ(seen_before, before) << j["teye"].dump();
  EXPECT_EQ(window, 0);
  EXPECT_EQ(after, 3);
  EXPECT_EQ(launches, before + 3);
  EXPECT_NE(j["teye"]["cupti"].get<std::string>().find("1 window(s) of a CUPTI profiler"),
            std::string::npos)
      << j["teye"]["cupti"];
}

TEST(CuptiShared, AProfilerThatStartsAfterCudaGetsCuptiAsWithoutTheCollector) {
  ExpectProfilerInTheJobUnchanged("late", 2);
}

TEST(CuptiShared, AProfilerThatStartsBeforeCudaGetsCuptiAsWithoutTheCollector) {
  ExpectProfilerInTheJobUnchanged("early", 0);
}

// CUPTI started from the library's constructor (TEYE_CUPTI=eager, and programs linked with
// CUDA), before the library's own globals are initialized, with a CUPTI that asks for a buffer
// at once (the device record): found on an H200, where this crashed every such program.
TEST(CuptiShared, CuptiStartedFromTheLibraryConstructorIsSafe) {
  ExpectProfilerInTheJobUnchanged("late", 2, {{"TEYE_CUPTI", "eager"}});
}
#endif

}  // namespace
}  // namespace teye::collector
