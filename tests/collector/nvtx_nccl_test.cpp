// NVTX injection and the NCCL profiler plugin, driven in this process: a fake NVTX instance
// (laid out like NVTX 3's slot tables) hands its export table to the collector's
// InitializeInjectionNvtx2 body, then calls the installed slots the way nvtx3 headers do; the
// NCCL plugin tables are called with synthetic descriptors the way NCCL calls them.
#include <cstring>
#include <thread>

#include "teye/import/read_trace.h"

#include "clock.h"
#include "collector.h"
#include "collector_test_util.h"
#include "nccl_abi.h"
#include "nvtx_abi.h"
#include "nvtx_injection.h"

namespace teye::collector {
namespace {

using teye::test::Events;
using teye::test::LoadJson;
using teye::test::TempDir;

// One NVTX instance's globals: slots and the tables of pointers to them.
struct FakeNvtx {
  nvtx::FunctionPointer core[nvtx::kCoreSize] = {};
  nvtx::FunctionPointer core2[nvtx::kCore2Size] = {};
  nvtx::FunctionPointer* core_table[nvtx::kCoreSize + 1] = {};
  nvtx::FunctionPointer* core2_table[nvtx::kCore2Size + 1] = {};
  nvtx::ExportTableCallbacks callbacks{};

  template <typename Fn>
  Fn Core(unsigned cbid) const {
    return reinterpret_cast<Fn>(core[cbid]);
  }
  template <typename Fn>
  Fn Core2(unsigned cbid) const {
    return reinterpret_cast<Fn>(core2[cbid]);
  }
};
FakeNvtx* g_fake = nullptr;

void NvtxInitStub() {}  // what NVTX leaves in a slot before the tool fills it

int GetModuleFunctionTable(int module, nvtx::FunctionTable* out, unsigned* size) {
  if (module == nvtx::kModuleCore) {
    *out = g_fake->core_table;
    *size = nvtx::kCoreSize;
    return 1;
  }
  if (module == nvtx::kModuleCore2) {
    *out = g_fake->core2_table;
    *size = nvtx::kCore2Size;
    return 1;
  }
  return 0;
}
const void* GetExportTable(uint32_t id) {
  return id == nvtx::kEtidCallbacks ? &g_fake->callbacks : nullptr;
}

void Prepare(FakeNvtx& f) {
  for (unsigned i = 1; i < nvtx::kCoreSize; ++i) {
    f.core[i] = &NvtxInitStub;
    f.core_table[i] = &f.core[i];
  }
  for (unsigned i = 1; i < nvtx::kCore2Size; ++i) {
    f.core2[i] = &NvtxInitStub;
    f.core2_table[i] = &f.core2[i];
  }
  f.callbacks.struct_size = sizeof f.callbacks;
  f.callbacks.GetModuleFunctionTable = GetModuleFunctionTable;
}

using PushA = int (*)(const char*);
using Pop = int (*)();
using MarkA = void (*)(const char*);
using StartA = nvtx::RangeId (*)(const char*);
using End = void (*)(nvtx::RangeId);
using NameThread = void (*)(uint32_t, const char*);
using DomainCreate = nvtx::DomainHandle (*)(const char*);
using RegisterString = nvtx::StringHandle (*)(nvtx::DomainHandle, const char*);
using DomainPushEx = int (*)(nvtx::DomainHandle, const nvtx::EventAttributes*);
using DomainPop = int (*)(nvtx::DomainHandle);
using PushW = int (*)(const wchar_t*);

class InjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TickClock::Init("auto");
    Config config;
    config.output_dir = dir_.path();
    config.quiet = true;
    collector_ = std::make_unique<Collector>(config, ProcessIdentity::Current());
    NvtxAttach(*collector_);
    collector_->Start(false);
    Prepare(fake_);
    g_fake = &fake_;
    ASSERT_EQ(NvtxInitialize(GetExportTable), 1);
  }
  nlohmann::json Finish() {
    collector_->Finish("test");
    path_ = collector_->final_path();
    return LoadJson(path_);
  }

  TempDir dir_;
  FakeNvtx fake_;
  std::unique_ptr<Collector> collector_;
  std::string path_;
};

nvtx::EventAttributes Attributes() {
  nvtx::EventAttributes a{};
  a.version = 3;
  a.size = sizeof(nvtx::EventAttributes);
  return a;
}

TEST_F(InjectionTest, FillsEveryCoreSlotItHandles) {
  for (unsigned cbid : {nvtx::kMarkA, nvtx::kRangePushA, nvtx::kRangePop, nvtx::kRangeStartA,
                        nvtx::kRangeEnd, nvtx::kRangePushEx, nvtx::kNameOsThreadA})
    EXPECT_NE(fake_.core[cbid], &NvtxInitStub) << "core cbid " << cbid;
  for (unsigned cbid :
       {nvtx::kDomainCreateA, nvtx::kDomainRegisterStringA, nvtx::kDomainRangePushEx,
        nvtx::kDomainRangePop, nvtx::kDomainMarkEx, nvtx::kDomainRangeStartEx})
    EXPECT_NE(fake_.core2[cbid], &NvtxInitStub) << "core2 cbid " << cbid;
}

TEST_F(InjectionTest, PushPopNestingMarksAndUnbalancedCalls) {
  auto push = fake_.Core<PushA>(nvtx::kRangePushA);
  auto pop = fake_.Core<Pop>(nvtx::kRangePop);
  EXPECT_EQ(push("outer"), 0);
  EXPECT_EQ(push("inner"), 1);
  fake_.Core<MarkA>(nvtx::kMarkA)("checkpoint");
  EXPECT_EQ(pop(), 1);
  EXPECT_EQ(pop(), 0);
  EXPECT_EQ(pop(), -1);  // unbalanced: nothing open
  EXPECT_EQ(fake_.Core<PushW>(nvtx::kRangePushW)(L"wide \u00e9"), 0);
  pop();
  push("left open");
  fake_.Core<NameThread>(nvtx::kNameOsThreadA)(static_cast<uint32_t>(gettid()), "trainer");

  nlohmann::json j = Finish();
  auto ranges = Events(j, "nvtx", "X");
  std::map<std::string, nlohmann::json> by_name;
  for (auto& e : ranges)
    by_name[e["name"]] = e;
  ASSERT_TRUE(by_name.count("outer") && by_name.count("inner") && by_name.count("wide é"));
  const auto& outer = by_name["outer"];
  const auto& inner = by_name["inner"];
  EXPECT_LE(outer["ts"].get<double>(), inner["ts"].get<double>() + 0.5);
  // JSON numbers parse to doubles: at 1.8e15 µs their resolution is 0.25 µs.
  EXPECT_GE(outer["ts"].get<double>() + outer["dur"].get<double>() + 0.5,
            inner["ts"].get<double>() + inner["dur"].get<double>());
  EXPECT_EQ(outer["tid"], inner["tid"]);
  ASSERT_TRUE(by_name.count("left open"));
  EXPECT_EQ(by_name["left open"]["args"]["unclosed"], true);
  auto marks = Events(j, "nvtx", "i");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0]["name"], "checkpoint");
  EXPECT_EQ(j["teye"]["nvtx_unmatched_pops"], 1);
  bool named = false;
  for (auto& e : Events(j, "", "M"))
    named |=
        e["name"] == "thread_name" && e["args"]["name"].get<std::string>().rfind("trainer", 0) == 0;
  EXPECT_TRUE(named);
}

TEST_F(InjectionTest, DomainsRegisteredStringsAndCrossThreadStartEnd) {
  auto domain = fake_.Core2<DomainCreate>(nvtx::kDomainCreateA)("my.domain");
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(fake_.Core2<DomainCreate>(nvtx::kDomainCreateA)("my.domain"), domain);
  auto name = fake_.Core2<RegisterString>(nvtx::kDomainRegisterStringA)(domain, "registered step");
  nvtx::EventAttributes a = Attributes();
  a.message_type = nvtx::kMessageRegistered;
  a.message.registered = name;
  a.color_type = nvtx::kColorArgb;
  a.color = 0xff00ff00;
  a.payload_type = nvtx::kPayloadI64;
  a.payload.ll_value = -7;
  fake_.Core2<DomainPushEx>(nvtx::kDomainRangePushEx)(domain, &a);
  fake_.Core<PushA>(nvtx::kRangePushA)("default domain");
  // Popping the custom domain leaves the default-domain range open on the same thread.
  EXPECT_EQ(fake_.Core2<DomainPop>(nvtx::kDomainRangePop)(domain), 0);
  EXPECT_EQ(fake_.Core<Pop>(nvtx::kRangePop)(), 0);

  nvtx::RangeId id = fake_.Core<StartA>(nvtx::kRangeStartA)("io phase");
  std::thread([&] { fake_.Core<End>(nvtx::kRangeEnd)(id); }).join();
  fake_.Core<End>(nvtx::kRangeEnd)(987654);  // never started

  nlohmann::json j = Finish();
  std::map<std::string, nlohmann::json> by_name;
  for (auto& e : Events(j, "nvtx", "X"))
    by_name[e["name"]] = e;
  ASSERT_TRUE(by_name.count("registered step"));
  const auto& reg = by_name["registered step"];
  EXPECT_EQ(reg["args"]["domain"], "my.domain");
  EXPECT_EQ(reg["args"]["payload"], -7);
  EXPECT_EQ(reg["args"]["color"], "#ff00ff00");
  EXPECT_FALSE(by_name["default domain"]["args"].contains("domain"));
  ASSERT_TRUE(by_name.count("io phase"));
  EXPECT_EQ(by_name["io phase"]["args"]["start_end"], true);
  EXPECT_GE(by_name["io phase"]["tid"].get<int64_t>(), 1'100'000'000);
  EXPECT_EQ(j["teye"]["nvtx_unmatched_ends"], 1);

  auto trace = ReadTraceFile(path_);
  ASSERT_TRUE(trace.ok());
  size_t annotations = 0;
  for (size_t i = 0; i < trace.value().host_slices().size(); ++i)
    annotations += trace.value().host_slices().kind[i] == HostSliceKind::kUserAnnotation;
  EXPECT_EQ(annotations, 3u);
}

TEST_F(InjectionTest, ManyThreadsKeepTheirOwnStacks) {
  constexpr int kThreads = 8, kDepth = 5, kRounds = 200;
  auto push = fake_.Core<PushA>(nvtx::kRangePushA);
  auto pop = fake_.Core<Pop>(nvtx::kRangePop);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        for (int d = 0; d < kDepth; ++d) {
          char name[32];
          std::snprintf(name, sizeof name, "t%dd%d", t, d);
          push(name);
        }
        for (int d = 0; d < kDepth; ++d)
          pop();
      }
    });
  }
  for (int i = 0; i < 5; ++i)
    collector_->Flush();
  for (auto& th : threads)
    th.join();
  nlohmann::json j = Finish();
  auto ranges = Events(j, "nvtx", "X");
  EXPECT_EQ(ranges.size(), static_cast<size_t>(kThreads * kDepth * kRounds));
  // Every range sits on its thread's track, named after its thread.
  std::map<int64_t, std::string> thread_of_name;
  for (auto& e : ranges) {
    const std::string name = e["name"];
    const std::string prefix = name.substr(0, name.find('d'));
    auto [it, inserted] = thread_of_name.emplace(e["tid"].get<int64_t>(), prefix);
    EXPECT_EQ(it->second, prefix);
  }
  EXPECT_EQ(thread_of_name.size(), static_cast<size_t>(kThreads));
}

TEST_F(InjectionTest, NcclPayloadsGiveCommunicatorBytesAndRank) {
  auto domain = fake_.Core2<DomainCreate>(nvtx::kDomainCreateA)("NCCL");
  auto reg = fake_.Core2<RegisterString>(nvtx::kDomainRegisterStringA);
  auto push = fake_.Core2<DomainPushEx>(nvtx::kDomainRangePushEx);
  auto pop = fake_.Core2<DomainPop>(nvtx::kDomainRangePop);

  struct InitPayload {
    uint64_t comm;
    int nranks, rank, device;
  } init{0x1234abcdull, 8, 3, 3};
  nvtx::PayloadData init_data{(1ull << 24) + 0, sizeof init, &init};
  nvtx::EventAttributes a = Attributes();
  a.message_type = nvtx::kMessageRegistered;
  a.message.registered = reg(domain, "ncclCommInitRankConfig");
  a.payload_type = nvtx::kPayloadTypeExt;
  a.reserved0 = 1;
  a.payload.ull_value = reinterpret_cast<uint64_t>(&init_data);
  push(domain, &a);
  pop(domain);

  struct AllReducePayload {
    uint64_t comm;
    size_t bytes;
    int op;
  } all_reduce{0x1234abcdull, 4u << 20, 0};
  nvtx::PayloadData ar_data{(1ull << 24) + 5, sizeof all_reduce, &all_reduce};
  a.message.registered = reg(domain, "ncclAllReduce");
  a.payload.ull_value = reinterpret_cast<uint64_t>(&ar_data);
  push(domain, &a);
  pop(domain);

  struct SendPayload {
    uint64_t comm;
    size_t bytes;
    int peer;
  } send{0x1234abcdull, 1024, 5};
  nvtx::PayloadData send_data{(1ull << 24) + 9, sizeof send, &send};
  a.message.registered = reg(domain, "ncclSend");
  a.payload.ull_value = reinterpret_cast<uint64_t>(&send_data);
  push(domain, &a);
  pop(domain);

  // A payload too small for its schema is not read.
  uint64_t tiny = 1;
  nvtx::PayloadData tiny_data{(1ull << 24) + 5, 4, &tiny};
  a.message.registered = reg(domain, "ncclAllReduce");
  a.payload.ull_value = reinterpret_cast<uint64_t>(&tiny_data);
  push(domain, &a);
  pop(domain);

  nlohmann::json j = Finish();
  auto ranges = Events(j, "nvtx", "X");
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0]["name"], "ncclCommInitRankConfig");
  EXPECT_EQ(ranges[0]["args"]["rank"], 3);
  EXPECT_EQ(ranges[0]["args"]["nranks"], 8);
  EXPECT_EQ(ranges[0]["args"]["comm"], "0x000000001234abcd");
  EXPECT_EQ(ranges[1]["args"]["Collective name"], "allreduce");
  EXPECT_EQ(ranges[1]["args"]["bytes"], 4 << 20);
  EXPECT_EQ(ranges[1]["args"]["op"], "Sum");
  EXPECT_EQ(ranges[1]["args"]["rank"], 3);
  EXPECT_EQ(ranges[1]["args"]["Group size"], 8);
  EXPECT_EQ(ranges[1]["args"]["domain"], "NCCL");
  EXPECT_EQ(ranges[2]["args"]["peer"], 5);
  EXPECT_EQ(ranges[2]["args"]["Collective name"], "send");
  EXPECT_FALSE(ranges[3]["args"].contains("bytes"));
  EXPECT_EQ(j["distributedInfo"]["rank"], 3);
  EXPECT_EQ(j["distributedInfo"]["backend"], "nccl");
}

class NcclPluginTest : public InjectionTest {};

TEST_F(NcclPluginTest, V5CollectivesAndP2pWithWhatNcclChose) {
  const nccl::ProfilerV5& p = ncclProfiler_v5;
  EXPECT_STREQ(p.name, "teye");
  void* ctx = nullptr;
  int mask = 0;
  ASSERT_EQ(p.init(&ctx, 0xfeedull, &mask, "pg:default", 2, 16, 5, nullptr), nccl::kSuccess);
  ASSERT_NE(ctx, nullptr);
  EXPECT_TRUE(mask & nccl::kProfileColl);
  EXPECT_TRUE(mask & nccl::kProfileP2p);

  nccl::EventDescrV5 coll{};
  coll.type = nccl::kProfileColl;
  coll.rank = 5;
  coll.coll.seq_number = 42;
  coll.coll.func = "AllReduce";
  coll.coll.count = 1 << 20;
  coll.coll.root = 0;
  coll.coll.datatype = "ncclBfloat16";
  coll.coll.n_channels = 16;
  coll.coll.n_warps = 8;
  coll.coll.algo = "RING";
  coll.coll.proto = "LL128";
  void* h1 = nullptr;
  void* h2 = nullptr;
  ASSERT_EQ(p.start_event(ctx, &h1, &coll), nccl::kSuccess);
  ASSERT_NE(h1, nullptr);
  coll.coll.seq_number = 43;
  coll.coll.func = "AllGather";
  coll.coll.count = 1000;
  coll.coll.datatype = "ncclFloat32";
  ASSERT_EQ(p.start_event(ctx, &h2, &coll), nccl::kSuccess);  // overlaps the first
  EXPECT_EQ(p.record_event_state(h1, 22, nullptr), nccl::kSuccess);
  EXPECT_EQ(p.stop_event(h1), nccl::kSuccess);
  EXPECT_EQ(p.stop_event(h2), nccl::kSuccess);

  nccl::EventDescrV5 send{};
  send.type = nccl::kProfileP2p;
  send.p2p.func = "Send";
  send.p2p.datatype = "ncclInt8";
  send.p2p.count = 4096;
  send.p2p.peer = 6;
  send.p2p.n_channels = 2;
  void* h3 = nullptr;
  ASSERT_EQ(p.start_event(ctx, &h3, &send), nccl::kSuccess);
  EXPECT_EQ(p.stop_event(h3), nccl::kSuccess);

  // Other event kinds and bad input are ignored, never fatal.
  nccl::EventDescrV5 group{};
  group.type = nccl::kProfileGroup;
  void* h4 = reinterpret_cast<void*>(1);
  EXPECT_EQ(p.start_event(ctx, &h4, &group), nccl::kSuccess);
  EXPECT_EQ(h4, nullptr);
  EXPECT_EQ(p.start_event(ctx, &h4, nullptr), nccl::kSuccess);
  EXPECT_EQ(p.stop_event(nullptr), nccl::kSuccess);
  int junk = 0;
  EXPECT_EQ(p.stop_event(&junk), nccl::kSuccess);
  EXPECT_EQ(p.finalize(ctx), nccl::kSuccess);

  nlohmann::json j = Finish();
  auto events = Events(j, "user_annotation", "X");
  ASSERT_EQ(events.size(), 3u);
  std::map<std::string, nlohmann::json> by_name;
  for (auto& e : events)
    by_name[e["name"]] = e;
  const auto& ar = by_name["nccl:all_reduce"]["args"];
  EXPECT_EQ(ar["Collective name"], "allreduce");
  EXPECT_EQ(ar["dtype"], "BFloat16");
  EXPECT_EQ(ar["In msg nelems"], 1 << 20);
  EXPECT_EQ(ar["Out msg nelems"], 1 << 20);
  EXPECT_EQ(ar["Group size"], 16);
  EXPECT_EQ(ar["Process Group Name"], "pg:default");
  EXPECT_EQ(ar["algorithm"], "RING");
  EXPECT_EQ(ar["protocol"], "LL128");
  EXPECT_EQ(ar["channels"], 16);
  EXPECT_EQ(ar["seq"], 42);
  EXPECT_EQ(ar["rank"], 5);
  const auto& ag = by_name["nccl:all_gather"]["args"];
  EXPECT_EQ(ag["Out msg nelems"], 16000);
  EXPECT_NE(by_name["nccl:all_gather"]["tid"], by_name["nccl:all_reduce"]["tid"]);  // lanes
  const auto& s = by_name["nccl:send"]["args"];
  EXPECT_EQ(s["peer"], 6);
  EXPECT_EQ(s["dtype"], "Char");
  EXPECT_EQ(j["distributedInfo"]["rank"], 5);
  EXPECT_EQ(j["distributedInfo"]["world_size"], 16);

  // teye's reader turns them into collectives.
  auto trace = ReadTraceFile(path_);
  ASSERT_TRUE(trace.ok());
  const CollectiveTable& ct = trace.value().collectives();
  ASSERT_EQ(ct.size(), 3u);
  bool found = false;
  for (size_t i = 0; i < ct.size(); ++i) {
    if (trace.value().str(ct.op[i]) != "allreduce") continue;
    found = true;
    EXPECT_EQ(trace.value().str(ct.algorithm[i]), "RING");
    EXPECT_EQ(ct.in_bytes[i], (1 << 20) * 2);
  }
  EXPECT_TRUE(found);
}

TEST_F(NcclPluginTest, V4TablesWork) {
  const nccl::ProfilerV4& p = ncclProfiler_v4;
  void* ctx = nullptr;
  int mask = 0;
  ASSERT_EQ(p.init(&ctx, &mask, "", 0xbeefull, 1, 2, 1, nullptr), nccl::kSuccess);
  nccl::EventDescrV4 coll{};
  coll.type = static_cast<uint8_t>(nccl::kProfileColl);
  coll.coll.func = "ReduceScatter";
  coll.coll.count = 10;
  coll.coll.datatype = "ncclFloat16";
  coll.coll.algo = "RING";
  coll.coll.proto = "SIMPLE";
  void* h = nullptr;
  ASSERT_EQ(p.start_event(ctx, &h, &coll), nccl::kSuccess);
  ASSERT_EQ(p.stop_event(h), nccl::kSuccess);
  nlohmann::json j = Finish();
  auto events = Events(j, "user_annotation", "X");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["name"], "nccl:reduce_scatter");
  EXPECT_EQ(events[0]["args"]["In msg nelems"], 20);
  EXPECT_EQ(events[0]["args"]["dtype"], "Half");
  EXPECT_EQ(events[0]["args"]["Process Group Name"], "0x000000000000beef");
}

}  // namespace
}  // namespace teye::collector
