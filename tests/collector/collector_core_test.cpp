// The collector's parts without injection: configuration, JSON text, buffers, string table,
// NCCL names, /proc parsers, and the writer read back by teye's own reader.
#include <atomic>
#include <cstring>
#include <pthread.h>
#include <random>
#include <thread>

#include "teye/import/read_trace.h"

#include "clock.h"
#include "collector.h"
#include "collector_test_util.h"
#include "config.h"
#include "json_out.h"
#include "nccl_names.h"
#include "record_store.h"
#include "resource_sampler.h"
#include "string_table.h"

namespace teye::collector {
namespace {

using teye::test::Events;
using teye::test::LoadJson;
using teye::test::TempDir;

GetEnvFn MapEnv(std::map<std::string, std::string> env) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(env));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(CollectorConfig, DefaultsAndOverrides) {
  Config d = LoadConfig(MapEnv({}));
  EXPECT_TRUE(d.enabled);
  EXPECT_TRUE(d.io);
  EXPECT_EQ(d.cupti, CuptiMode::kAuto);
  EXPECT_EQ(d.output_dir, "teye-traces");
  EXPECT_TRUE(d.warnings.empty());

  Config c = LoadConfig(MapEnv({{"TEYE_OUTPUT_DIR", "/x"},
                                {"TEYE_IO", "0"},
                                {"TEYE_CUPTI", "eager"},
                                {"TEYE_CUPTI_DRIVER", "all"},
                                {"TEYE_BUFFER_MB", "8"},
                                {"TEYE_DURATION_S", "2.5"},
                                {"TEYE_IO_MIN_US", "10"}}));
  EXPECT_EQ(c.output_dir, "/x");
  EXPECT_FALSE(c.io);
  EXPECT_EQ(c.cupti, CuptiMode::kEager);
  EXPECT_EQ(c.cupti_driver, DriverApiMode::kAll);
  EXPECT_EQ(c.buffer_mb, 8u);
  EXPECT_DOUBLE_EQ(c.duration_s, 2.5);
  EXPECT_EQ(c.io_min_ns, 10000);
}

TEST(CollectorConfig, BadValuesFallBackWithOneWarningEach) {
  Config c = LoadConfig(MapEnv({{"TEYE_IO", "maybe"},
                                {"TEYE_BUFFER_MB", "-3"},
                                {"TEYE_FLUSH_MS", "1"},
                                {"TEYE_DURATION_S", "soon"},
                                {"TEYE_CUPTI", "sometimes"}}));
  EXPECT_TRUE(c.io);
  EXPECT_EQ(c.buffer_mb, 64u);
  EXPECT_EQ(c.flush_ms, 1000u);
  EXPECT_EQ(c.duration_s, 0);
  EXPECT_EQ(c.cupti, CuptiMode::kAuto);
  EXPECT_EQ(c.warnings.size(), 5u);
}

TEST(CollectorConfig, RankFromLaunchers) {
  EXPECT_EQ(ReadRankInfo(MapEnv({})).rank, -1);
  RankInfo torchrun =
      ReadRankInfo(MapEnv({{"RANK", "3"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "8"}}));
  EXPECT_EQ(torchrun.rank, 3);
  EXPECT_EQ(torchrun.local_rank, 1);
  EXPECT_EQ(torchrun.world_size, 8);
  EXPECT_EQ(ReadRankInfo(MapEnv({{"OMPI_COMM_WORLD_RANK", "5"}})).rank, 5);
  EXPECT_EQ(ReadRankInfo(MapEnv({{"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "16"}})).world_size, 16);
  EXPECT_EQ(ReadRankInfo(MapEnv({{"LOCAL_RANK", "2"}})).rank, 2);
  EXPECT_EQ(ReadRankInfo(MapEnv({{"RANK", "x"}})).rank, -1);
}

TEST(CollectorClock, ConversionsNeverChangeAndStayOnRealtime) {
  for (const char* mode : {"tsc", "realtime"}) {
    TickClock::Init(mode);
    std::vector<uint64_t> ticks;
    std::vector<int64_t> first;
    for (int round = 0; round < 4; ++round) {
      ticks.push_back(NowTicks());
      first.push_back(TickClock::ToNs(ticks.back()));
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      TickClock::Calibrate();
      for (size_t i = 0; i < ticks.size(); ++i)
        EXPECT_EQ(TickClock::ToNs(ticks[i]), first[i]) << mode << " value " << i << " moved";
    }
    for (size_t i = 1; i < first.size(); ++i)
      EXPECT_GT(first[i], first[i - 1]);
    const int64_t error = TickClock::ToNs(NowTicks()) - RealtimeNs();
    EXPECT_LT(std::abs(error), 200'000) << mode << ": " << error << " ns off CLOCK_REALTIME";
  }
  TickClock::Init("auto");
}

TEST(CollectorJson, TimesHaveThreeDecimals) {
  JsonOut o;
  o.TimeUs(1700000000123456789);
  o.Char(' ');
  o.TimeUs(5);
  o.Char(' ');
  o.TimeUs(1000);
  EXPECT_EQ(o.view(), "1700000000123456.789 0.005 1.000");
}

TEST(CollectorJson, FastNumberFormattingMatchesTheStandardOne) {
  std::mt19937_64 random(42);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = random() >> (random() % 64);
    char buf[32];
    ASSERT_EQ(std::string(buf, FormatU64(buf, v)), std::to_string(v));
  }
  JsonOut o;
  int64_t ns = 1'795'000'000'999'999'000;  // crosses a second: the cached digits must change
  for (int i = 0; i < 3000; ++i, ns += 777) {
    o.clear();
    o.TimeUs(ns);
    char expected[48];
    std::snprintf(expected, sizeof expected, "%lld.%03lld", static_cast<long long>(ns / 1000),
                  static_cast<long long>(ns % 1000));
    ASSERT_EQ(o.view(), expected);
  }
}

TEST(CollectorJson, StringsAreEscapedAndValidUtf8) {
  JsonOut o;
  o.String("a\"b\\c\n\x01 é \xff\xfe z");
  EXPECT_EQ(o.view(), "\"a\\\"b\\\\c\\n\\u0001 é \\ufffd\\ufffd z\"");
  auto parsed = nlohmann::json::parse(std::string(o.view()), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  // Truncated multi-byte sequences and overlong forms are replaced too.
  JsonOut t;
  t.String("\xe2\x82");
  EXPECT_EQ(t.view(), "\"\\ufffd\\ufffd\"");
  JsonOut overlong;
  overlong.String("\xc0\xaf");
  EXPECT_EQ(overlong.view(), "\"\\ufffd\\ufffd\"");
}

TEST(CollectorStrings, InternsOnceAndStaysBounded) {
  StringTable t(64);
  const uint32_t a = t.Intern("alpha");
  EXPECT_NE(a, 0u);
  EXPECT_EQ(t.Intern("alpha"), a);
  EXPECT_EQ(t.Get(a), "alpha");
  EXPECT_EQ(t.Intern(""), 0u);
  EXPECT_EQ(t.Intern(std::string(100, 'x')), 0u);  // over the byte budget
  EXPECT_EQ(t.dropped(), 1u);
  EXPECT_EQ(t.Get(12345), "");
}

TEST(CollectorStore, DrainsWhatThreadsCommitAndRecyclesChunks) {
  RecordStore store;
  store.Configure(64 * 1024, 4 * 1024);
  constexpr int kThreads = 4, kPerThread = 5000;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadState* ts = store.AttachThread(100 + t);
      while (!go.load()) {
      }
      for (int i = 0; i < kPerThread; ++i) {
        auto* h = static_cast<RecordHeader*>(store.Reserve(ts, 16));
        if (!h) {
          std::this_thread::yield();
          --i;  // wait for the writer to recycle chunks
          continue;
        }
        h->type = RecordType::kCounter;
        h->size = 16;
        h->tid = static_cast<uint32_t>(100 + t);
        std::memcpy(h + 1, &i, sizeof i);
        store.Commit(ts, 16);
      }
      store.DetachThread(ts);
    });
  }
  // Records of one thread may come out of chunk order (a retired chunk can be drained after its
  // successor), which the trace format does not care about; none may be lost or repeated.
  std::vector<std::vector<int>> seen(kThreads, std::vector<int>(kPerThread, 0));
  size_t total = 0;
  auto visit = [&](const RecordHeader& h) {
    int value;
    std::memcpy(&value, &h + 1, sizeof value);
    ++seen[h.tid - 100][value];
    ++total;
  };
  go.store(true);
  while (total < static_cast<size_t>(kThreads * kPerThread)) {
    store.Drain(visit);
    std::this_thread::yield();
  }
  for (auto& th : threads)
    th.join();
  store.Drain(visit);
  int bad = 0;
  for (const auto& per_thread : seen)
    for (int count : per_thread)
      bad += count != 1;
  EXPECT_EQ(bad, 0) << "records were lost or duplicated";
  EXPECT_LE(store.allocated_bytes(), 64u * 1024);
}

TEST(CollectorStore, DropsAndCountsWhenTheBudgetIsSpent) {
  RecordStore store;
  store.Configure(8 * 1024, 4 * 1024);
  ThreadState* ts = store.AttachThread(1);
  int kept = 0;
  for (int i = 0; i < 10000; ++i) {
    if (store.Reserve(ts, 64)) {
      store.Commit(ts, 64);
      ++kept;
    }
  }
  EXPECT_EQ(kept, 8 * 1024 / 64);
  EXPECT_EQ(store.dropped(), static_cast<uint64_t>(10000 - kept));
  EXPECT_EQ(store.Reserve(ts, 8 * 1024), nullptr);  // larger than a chunk
}

TEST(CollectorNccl, KernelNamesAndDtypes) {
  NcclKernelInfo info;
  ASSERT_TRUE(ParseNcclKernelName(
      "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)", info));
  EXPECT_EQ(info.collective, "allreduce");
  EXPECT_EQ(info.dtype, "Float");
  EXPECT_EQ(info.algorithm, "RING");
  EXPECT_EQ(info.protocol, "LL");
  ASSERT_TRUE(ParseNcclKernelName(
      "ncclKernel_AllGather_RING_LL_Sum_int8_t(ncclDevComm*, unsigned long, ncclWork*)", info));
  EXPECT_EQ(info.collective, "allgather");
  EXPECT_EQ(info.dtype, "Char");
  ASSERT_TRUE(ParseNcclKernelName("ncclDevKernel_ReduceScatter_Sum_bf16_NVLS_TREE_SIMPLE", info));
  EXPECT_EQ(info.collective, "reduce_scatter");
  EXPECT_EQ(info.dtype, "BFloat16");
  EXPECT_EQ(info.algorithm, "NVLS_TREE");
  EXPECT_EQ(info.protocol, "SIMPLE");
  EXPECT_FALSE(ParseNcclKernelName("void at::native::vectorized_elementwise_kernel<4>", info));
  EXPECT_EQ(TorchDtypeName("ncclFloat16"), "Half");
  EXPECT_EQ(TorchDtypeName("ncclBfloat16"), "BFloat16");
  EXPECT_EQ(TorchCollectiveName("ncclAllReduce"), "allreduce");
  EXPECT_EQ(NcclAnnotationName("AllGather"), "nccl:all_gather");
  int64_t in = 0, out = 0;
  NcclMessageElements("AllGather", 10, 4, in, out);
  EXPECT_EQ(in, 10);
  EXPECT_EQ(out, 40);
  NcclMessageElements("ReduceScatter", 10, 4, in, out);
  EXPECT_EQ(in, 40);
  EXPECT_EQ(out, 10);
}

TEST(CollectorSampler, ParsesProcFiles) {
  uint64_t ticks = 0;
  ASSERT_TRUE(ParseProcStatCpuTicks(
      "1234 (python3 (my) job) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0", ticks));
  EXPECT_EQ(ticks, 300u);
  EXPECT_FALSE(ParseProcStatCpuTicks("garbage", ticks));
  uint64_t r = 0, w = 0;
  ASSERT_TRUE(ParseProcIo("rchar: 1000\nwchar: 20\nsyscr: 5\n", r, w));
  EXPECT_EQ(r, 1000u);
  EXPECT_EQ(w, 20u);
  uint64_t pages = 0;
  ASSERT_TRUE(ParseStatmResident("5000 1200 300 1 0 900 0\n", pages));
  EXPECT_EQ(pages, 1200u);
  uint64_t run_delay = 0;
  ASSERT_TRUE(ParseSchedstatRunDelay("517093217 534382280 122\n", run_delay));
  EXPECT_EQ(run_delay, 534382280u);
  EXPECT_FALSE(ParseSchedstatRunDelay("517093217\n", run_delay));
  EXPECT_EQ(ParseVisibleDevices("2,0"), (std::vector<std::string>{"2", "0"}));
  EXPECT_EQ(ParseVisibleDevices("GPU-8f6c,1, x,3"), (std::vector<std::string>{"GPU-8f6c", "1"}));
  EXPECT_TRUE(ParseVisibleDevices(nullptr).empty());
}

TEST(CollectorWriter, FileNames) {
  EXPECT_EQ(TraceFileName("node1", 42, -1), "node1.42.pt.trace.json");
  EXPECT_EQ(TraceFileName("node1", 42, 3), "rank3.node1.42.pt.trace.json");
  EXPECT_EQ(TraceFileName("a/b c", 1, -1), "a_b_c.1.pt.trace.json");
}

// A collector in this process, driven directly (no background thread).
class InProcessCollector : public ::testing::Test {
 protected:
  void SetUp() override {
    TickClock::Init("auto");
    Config config = LoadConfig(MapEnv({{"TEYE_OUTPUT_DIR", dir_.path()}, {"TEYE_QUIET", "1"}}));
    ProcessIdentity id = ProcessIdentity::Current();
    id.host = "testhost";
    collector_ = std::make_unique<Collector>(config, id);
    collector_->Start(/*background=*/false);
  }
  void TearDown() override { collector_.reset(); }

  std::string FinishAndPath() {
    collector_->Finish("test");
    return collector_->final_path();
  }

  TempDir dir_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(InProcessCollector, NothingRecordedMeansNoFile) {
  EXPECT_EQ(FinishAndPath(), "");
  EXPECT_TRUE(teye::test::ListDir(dir_.path(), ".json").empty());
  EXPECT_TRUE(teye::test::ListDir(dir_.path(), ".partial").empty());
}

void AddRange(Collector& c, RangeCategory cat, const char* name, int64_t start, int64_t end) {
  ThreadState* ts = c.Thread();
  ASSERT_NE(ts, nullptr);
  const size_t len = std::strlen(name);
  const size_t size = RecordSize(sizeof(RangeRecord) + len);
  auto* r = static_cast<RangeRecord*>(c.Begin(ts, RecordType::kRange, size, ts->tid, kFlagTimeNs));
  ASSERT_NE(r, nullptr);
  std::memset(reinterpret_cast<char*>(r) + sizeof(RecordHeader), 0,
              sizeof(RangeRecord) - sizeof(RecordHeader));
  r->start = static_cast<uint64_t>(start);
  r->end = static_cast<uint64_t>(end);
  r->category = cat;
  r->name_len = static_cast<uint16_t>(len);
  r->rank = -1;
  std::memcpy(reinterpret_cast<char*>(r + 1), name, len);
  c.Commit(ts, size);
}

TEST_F(InProcessCollector, WritesAWholeTraceThatTeyeReads) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  AddRange(*collector_, RangeCategory::kDataLoader,
           "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__", t0, t0 + 5'000'123);
  collector_->Flush();  // part of the file is written before the end
  const std::vector<std::string> partial = teye::test::ListDir(dir_.path(), ".partial");
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_NE(partial[0].find("testhost."), std::string::npos);
  AddRange(*collector_, RangeCategory::kUserAnnotation, "Optimizer.step#SGD.step", t0 + 6'000'000,
           t0 + 7'000'000);
  const std::string path = FinishAndPath();
  ASSERT_FALSE(path.empty());
  EXPECT_TRUE(teye::test::ListDir(dir_.path(), ".partial").empty());

  nlohmann::json j = LoadJson(path);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["displayTimeUnit"], "ms");
  EXPECT_EQ(j["teye"]["complete"], true);
  EXPECT_EQ(j["teye"]["host"], "testhost");
  EXPECT_EQ(j["teye"]["end_reason"], "test");
  auto dl = Events(j, "dataloader");
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0]["ph"], "X");
  EXPECT_EQ(dl[0]["dur"].get<double>(), 5000.123);
  // ts keeps nanosecond precision as three decimals of a microsecond.
  const std::string text = teye::test::ReadFile(path);
  EXPECT_NE(text.find("\"ts\":1700000000000000.000,\"dur\":5000.123"), std::string::npos);

  auto trace = ReadTraceFile(path);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  const Trace& t = trace.value();
  EXPECT_EQ(t.info().producer, "teye-collector");
  EXPECT_EQ(t.stats().TotalLost(), 0);
  ASSERT_EQ(t.host_slices().size(), 2u);
  int dataloader = 0, annotation = 0;
  for (size_t i = 0; i < t.host_slices().size(); ++i) {
    dataloader += t.host_slices().kind[i] == HostSliceKind::kDataLoader;
    annotation += t.host_slices().kind[i] == HostSliceKind::kUserAnnotation;
  }
  EXPECT_EQ(dataloader, 1);
  EXPECT_EQ(annotation, 1);
}

TEST_F(InProcessCollector, ConcurrentThreadsAllLand) {
  constexpr int kThreads = 8, kEach = 2000;
  std::vector<std::thread> threads;
  const int64_t t0 = 1'700'000'000'000'000'000;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int64_t s = t0 + (t * kEach + i) * 1000;
        AddRange(*collector_, RangeCategory::kUserAnnotation, "r", s, s + 500);
        if (i % 500 == 0) std::this_thread::yield();
      }
    });
  }
  for (int i = 0; i < 20; ++i)
    collector_->Flush();
  for (auto& th : threads)
    th.join();
  const std::string path = FinishAndPath();
  auto trace = ReadTraceFile(path);
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace.value().host_slices().size(), static_cast<size_t>(kThreads * kEach));
  nlohmann::json j = LoadJson(path);
  EXPECT_EQ(j["teye"]["dropped_records"], 0);
}

TEST_F(InProcessCollector, FinishIsIdempotentAndLaterRecordsAreIgnored) {
  AddRange(*collector_, RangeCategory::kUserAnnotation, "a", 1'700'000'000'000'000'000,
           1'700'000'000'000'001'000);
  const std::string path = FinishAndPath();
  ASSERT_FALSE(path.empty());
  const std::string before = teye::test::ReadFile(path);
  EXPECT_FALSE(collector_->recording());
  collector_->Finish("again");
  collector_->Flush();
  EXPECT_EQ(teye::test::ReadFile(path), before);
}

}  // namespace
}  // namespace teye::collector
