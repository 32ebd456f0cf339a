// Reader quirks, each with a tiny inline trace (DESIGN.md §3).
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include "teye/import/read_trace.h"

#include "test_traces.h"

namespace teye {
namespace {

using test::Read;
using test::Wrap;

std::string Gzip(std::string_view text) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

constexpr const char* kKernel =
    R"J({"ph": "X", "cat": "kernel", "name": "volta_sgemm_128x64_nn", "pid": 0, "tid": 7,
        "ts": 1000.5, "dur": 20.25, "args": {"device": 0, "stream": 7, "correlation": 11,
        "External id": 3, "grid": [80, 2, 1], "block": [256, 1, 1],
        "registers per thread": 126, "shared memory": 12288}})J";
constexpr const char* kLaunch =
    R"J({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 100, "tid": 100,
        "ts": 990, "dur": 6, "args": {"correlation": 11, "External id": 3}})J";

TEST(Reader, ObjectFormKinetoKernelAndLaunch) {
  auto r = Read(Wrap(std::string(kKernel) + "," + kLaunch));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Trace& t = r.value();
  EXPECT_EQ(t.info().format, "chrome-json-object");
  ASSERT_EQ(t.gpu_ops().size(), 1u);
  const GpuOpTable& g = t.gpu_ops();
  EXPECT_EQ(g.kind[0], GpuOpKind::kKernel);
  EXPECT_EQ(g.start_ns[0], 1000500);
  EXPECT_EQ(g.end_ns[0], 1020750);
  EXPECT_EQ(g.device[0], 0);
  EXPECT_EQ(g.stream[0], 7);
  EXPECT_EQ(g.grid_blocks[0], 160);
  EXPECT_EQ(g.block_threads[0], 256);
  EXPECT_EQ(g.registers[0], 126);
  EXPECT_EQ(g.shared_memory[0], 12288);
  ASSERT_NE(g.launch[0], kNoRow);
  EXPECT_EQ(t.str(t.host_slices().name[g.launch[0]]), "cudaLaunchKernel");
}

TEST(Reader, ArrayFormAndMissingClosingBracket) {
  auto closed = Read("[" + std::string(kKernel) + "]");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->info().format, "chrome-json-array");
  EXPECT_FALSE(closed->stats().truncated);
  // The Chrome format allows the array's closing bracket to be missing.
  auto open = Read("[" + std::string(kKernel) + ",\n");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->gpu_ops().size(), 1u);
  EXPECT_TRUE(open->stats().truncated);
}

TEST(Reader, GzipIsDetectedByContent) {
  auto r = ReadTraceBytes("trace.json", Gzip(Wrap(kKernel)));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->info().gzip);
  EXPECT_EQ(r->gpu_ops().size(), 1u);
}

TEST(Reader, TruncatedGzipYieldsItsCompletePrefix) {
  std::string events;
  for (int i = 0; i < 2000; ++i) {
    if (i) events += ",";
    events += R"J({"ph":"X","cat":"cpu_op","name":"aten::add","pid":1,"tid":1,"ts":)J" +
              std::to_string(i * 10) + R"J(,"dur":5})J";
  }
  std::string gz = Gzip(Wrap(events));
  auto r = ReadTraceBytes("cut.json.gz", gz.substr(0, gz.size() * 2 / 3));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->stats().truncated);
  EXPECT_GT(r->host_slices().size(), 100u);
  EXPECT_LT(r->host_slices().size(), 2000u);
}

TEST(Reader, OldKinetoCategories) {
  auto r = Read(Wrap(R"J(
    {"ph":"X","cat":"Operator","name":"aten::mm","pid":1,"tid":1,"ts":10,"dur":50},
    {"ph":"X","cat":"Runtime","name":"cudaLaunchKernel","pid":1,"tid":1,"ts":20,"dur":5,
     "args":{"correlation":5,"external id":0}},
    {"ph":"X","cat":"Kernel","name":"sgemm","pid":0,"tid":7,"ts":30,"dur":5,
     "args":{"correlation":5,"device":0,"stream":7}},
    {"ph":"X","cat":"Memcpy","name":"Memcpy HtoD (Pageable -> Device)","pid":0,"tid":7,
     "ts":40,"dur":5,"args":{"bytes":4096,"device":0,"stream":7}},
    {"ph":"X","cat":"Memset","name":"Memset (Device)","pid":0,"tid":7,"ts":50,"dur":1,
     "args":{"bytes":64,"device":0,"stream":7}})J"));
  ASSERT_TRUE(r.ok());
  const Trace& t = r.value();
  ASSERT_EQ(t.gpu_ops().size(), 3u);
  EXPECT_EQ(t.gpu_ops().kind[0], GpuOpKind::kKernel);
  EXPECT_EQ(t.gpu_ops().kind[1], GpuOpKind::kMemcpy);
  EXPECT_EQ(t.gpu_ops().copy_kind[1], CopyKind::kHtoD);
  EXPECT_EQ(t.gpu_ops().src_memory[1], MemoryKind::kPageable);
  EXPECT_EQ(t.gpu_ops().dst_memory[1], MemoryKind::kDevice);
  EXPECT_EQ(t.gpu_ops().bytes[1], 4096);
  EXPECT_EQ(t.gpu_ops().kind[2], GpuOpKind::kMemset);
  ASSERT_EQ(t.host_slices().size(), 2u);
  EXPECT_EQ(t.host_slices().kind[0], HostSliceKind::kCpuOp);
  EXPECT_EQ(t.host_slices().kind[1], HostSliceKind::kRuntime);
  EXPECT_EQ(t.gpu_ops().launch[0], 1);
}

TEST(Reader, NanosecondTimestampsWhenFileSaysSo) {
  auto r = Read(Wrap(R"J({"ph":"X","cat":"cpu_op","name":"op","pid":1,"tid":1,
                         "ts":1700000000123456789,"dur":2500})J",
                     R"J("displayTimeUnit": "ns")J"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info().file_time_unit_ns, 1);
  EXPECT_EQ(r->host_slices().start_ns[0], 1700000000123456789);
  EXPECT_EQ(r->host_slices().duration(0), 2500);
}

TEST(Reader, TimeUnitOverride) {
  ReadOptions o;
  o.time_unit = TimeUnitChoice::kNanoseconds;
  auto r = ReadTraceBytes("t", Wrap(R"J({"ph":"X","cat":"cpu_op","name":"op","pid":1,"tid":1,
                                          "ts":1000,"dur":10})J"),
                          o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host_slices().start_ns[0], 1000);
}

TEST(Reader, StringPidTidAndHugeIntegers) {
  auto r = Read(Wrap(R"J(
    {"ph":"X","cat":"Trace","name":"PyTorch Profiler (0)","pid":"Spans","tid":"PyTorch Profiler",
     "ts":1,"dur":100},
    {"ph":"X","cat":"cpu_op","name":"op","pid":18446744073709551615,"tid":-1,"ts":2,"dur":1,
     "args":{"correlation":18446744073709551615,"External id":9223372036854775807}})J"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Trace& t = r.value();
  ASSERT_EQ(t.host_slices().size(), 2u);
  ASSERT_EQ(t.threads().size(), 2u);
  bool saw_spans = false, saw_huge = false;
  for (size_t i = 0; i < t.threads().size(); ++i) {
    saw_spans |= t.str(t.threads().pid_label[i]) == "Spans";
    saw_huge |= t.str(t.threads().pid_label[i]) == "18446744073709551615";
  }
  EXPECT_TRUE(saw_spans);
  EXPECT_TRUE(saw_huge);
}

TEST(Reader, DevicePropertiesAndDistributedInfo) {
  auto r = Read(Wrap(kKernel, R"J(
    "schemaVersion": 1,
    "deviceProperties": [{"id": 0, "name": "NVIDIA A100-SXM4-80GB", "totalGlobalMem": 85899345920,
                          "computeMajor": 8, "computeMinor": 0, "numSms": 108}],
    "distributedInfo": {"backend": "nccl", "rank": 3, "world_size": 8, "nccl_version": "2.17.1"},
    "baseTimeNanoseconds": 1700000000000000000)J"));
  ASSERT_TRUE(r.ok());
  const Trace& t = r.value();
  ASSERT_EQ(t.devices().size(), 1u);
  EXPECT_EQ(t.devices()[0].name, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(t.devices()[0].total_global_mem, 85899345920);
  EXPECT_EQ(t.devices()[0].compute_major, 8);
  EXPECT_EQ(t.devices()[0].num_sms, 108);
  EXPECT_EQ(t.info().vendor, GpuVendor::kNvidia);
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.distributed().world_size, 8);
  EXPECT_EQ(t.distributed().backend, "nccl");
  EXPECT_EQ(t.info().producer, "pytorch-profiler");
  EXPECT_EQ(t.gpu_ops().start_ns[0], 1700000000000000000 + 1000500);
}

// The limits occupancy needs, and the clock and bandwidth teye's collector adds for estimating
// the peaks of devices the table does not name.
TEST(Reader, DevicePropertiesForOccupancyAndPeaks) {
  auto r = Read(Wrap(kKernel, R"J(
    "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "computeMajor": 9,
      "computeMinor": 0, "numSms": 132, "maxThreadsPerBlock": 1024,
      "maxThreadsPerMultiprocessor": 2048, "regsPerBlock": 65536, "regsPerMultiprocessor": 65536,
      "warpSize": 32, "sharedMemPerBlock": 49152, "sharedMemPerMultiprocessor": 233472,
      "sharedMemPerBlockOptin": 232448, "maxBlocksPerMultiprocessor": 32, "clockRate": 1980000,
      "memoryBandwidthKBps": 3352000000}])J"));
  ASSERT_TRUE(r.ok());
  const DeviceInfo& d = r->devices()[0];
  EXPECT_EQ(d.max_threads_per_block, 1024);
  EXPECT_EQ(d.regs_per_block, 65536);
  EXPECT_EQ(d.regs_per_sm, 65536);
  EXPECT_EQ(d.shared_mem_per_block, 49152);
  EXPECT_EQ(d.shared_mem_per_sm, 233472);
  EXPECT_EQ(d.shared_mem_per_block_optin, 232448);
  EXPECT_EQ(d.max_blocks_per_sm, 32);
  EXPECT_EQ(d.clock_khz, 1980000);
  EXPECT_DOUBLE_EQ(d.memory_gbps, 3352);
}

TEST(Reader, AmdTraceIsRecognised) {
  auto r = Read(Wrap(R"J(
    {"ph":"X","cat":"cuda_runtime","name":"hipMemcpyWithStream","pid":1,"tid":1,"ts":1,"dur":60,
     "args":{"stream":"0x0","correlation":117,"size":"2560","kind":"1"}},
    {"ph":"X","cat":"gpu_memcpy","name":"Memcpy HtoD (Host -> Device)","pid":2,"tid":0,"ts":5,
     "dur":22,"args":{"device":2,"stream":0,"correlation":117,"kind":"HtoD"}})J",
                     R"J("deviceProperties": [{"id": 2, "name": "AMD Radeon Graphics"}])J"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info().vendor, GpuVendor::kAmd);
  EXPECT_EQ(r->gpu_ops().copy_kind[0], CopyKind::kHtoD);
  EXPECT_EQ(r->gpu_ops().device[0], 2);
  EXPECT_EQ(r->host_slices().bytes[0], 2560);
}

TEST(Reader, NcclCollectiveArguments) {
  auto r = Read(Wrap(R"J(
    {"ph":"X","cat":"kernel","name":"ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
     "pid":0,"tid":7,"ts":1,"dur":22,"args":{"device":0,"stream":7,"correlation":1,
     "Collective name":"_allgather_base","In msg nelems":25136,"Out msg nelems":201088,
     "Group size":8,"dtype":"BFloat16","Process Group Name":"3"}})J"));
  ASSERT_TRUE(r.ok());
  const Trace& t = r.value();
  ASSERT_EQ(t.collectives().size(), 1u);
  RowIndex c = t.gpu_ops().collective[0];
  ASSERT_NE(c, kNoRow);
  EXPECT_EQ(t.str(t.collectives().op[c]), "_allgather_base");
  EXPECT_EQ(t.collectives().in_elems[c], 25136);
  EXPECT_EQ(t.collectives().in_bytes[c], 25136 * 2);
  EXPECT_EQ(t.collectives().group_size[c], 8);
  EXPECT_EQ(t.str(t.collectives().dtype[c]), "BFloat16");
}

TEST(Reader, BeginEndCountersInstantsMemoryFlowsMetadata) {
  auto r = Read(Wrap(R"J(
    {"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"python3"}},
    {"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"main"}},
    {"ph":"B","cat":"nvtx","name":"forward","pid":1,"tid":1,"ts":10},
    {"ph":"E","pid":1,"tid":1,"ts":30},
    {"ph":"C","name":"gpu","pid":1,"ts":12,"args":{"util":93.5,"mem_mb":1024}},
    {"ph":"i","cat":"cpu_instant_event","name":"[memory]","pid":1,"tid":1,"ts":15,"s":"t",
     "args":{"Device Type":1,"Device Id":0,"Bytes":4096,"Total Allocated":8192,"Total Reserved":65536}},
    {"ph":"i","name":"marker","pid":1,"tid":1,"ts":16,"s":"t"},
    {"ph":"s","id":5,"cat":"ac2g","name":"ac2g","pid":1,"tid":1,"ts":20},
    {"ph":"f","id":5,"cat":"ac2g","name":"ac2g","pid":0,"tid":7,"ts":25,"bp":"e"})J"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const Trace& t = r.value();
  ASSERT_EQ(t.host_slices().size(), 1u);
  EXPECT_EQ(t.host_slices().kind[0], HostSliceKind::kUserAnnotation);
  EXPECT_EQ(t.host_slices().duration(0), 20000);
  ASSERT_EQ(t.counters().size(), 2u);
  EXPECT_EQ(t.str(t.counters().name[0]), "gpu.util");
  EXPECT_DOUBLE_EQ(t.counters().value[0], 93.5);
  ASSERT_EQ(t.memory_events().size(), 1u);
  EXPECT_EQ(t.memory_events().total_allocated[0], 8192);
  EXPECT_EQ(t.memory_events().device[0], 0);
  EXPECT_EQ(t.instants().size(), 1u);
  EXPECT_EQ(t.flows().size(), 2u);
  ThreadIndex main = t.host_slices().thread[0];
  EXPECT_EQ(t.str(t.threads().thread_name[main]), "main");
  EXPECT_EQ(t.str(t.threads().process_name[main]), "python3");
}

TEST(Reader, MalformedEventsAreSkippedAndCounted) {
  auto r = Read(Wrap(R"J(
    {"ph":"X","cat":"cpu_op","name":"good","pid":1,"tid":1,"ts":1,"dur":1},
    {"cat":"cpu_op","name":"no phase","pid":1,"tid":1,"ts":1,"dur":1},
    {"ph":"X","cat":"cpu_op","name":"no ts","pid":1,"tid":1,"dur":1},
    {"ph":"X","cat":"cpu_op","name":"bad ts","pid":1,"tid":1,"ts":"soon","dur":1},
    {"ph":"X","cat":"cpu_op","name":"negative","pid":1,"tid":1,"ts":1,"dur":-5},
    42, "text", null,
    {"ph":"O","name":"object event","pid":1,"tid":1,"ts":1,"id":1},
    {"ph":"X","cat":"cpu_op","name":"good too","pid":1,"tid":1,"ts":2,"dur":1})J"));
  ASSERT_TRUE(r.ok());
  const ReadStats& s = r->stats();
  EXPECT_EQ(r->host_slices().size(), 2u);
  EXPECT_EQ(s.Skipped(SkipReason::kMissingPhase), 1);
  EXPECT_EQ(s.Skipped(SkipReason::kMissingTimestamp), 2);
  EXPECT_EQ(s.Skipped(SkipReason::kNegativeDuration), 1);
  EXPECT_EQ(s.Skipped(SkipReason::kNotAnObject), 3);
  EXPECT_EQ(s.Skipped(SkipReason::kUnknownPhase), 1);
  EXPECT_EQ(s.events_seen, 10);
}

TEST(Reader, BrokenEventInTheMiddleIsSkippedByTheTolerantPath) {
  std::string events;
  for (int i = 0; i < 200; ++i) {
    if (i) events += ",";
    if (i == 100) {
      events += R"J({"ph":"X","cat":"cpu_op","name":"broken","ts":1 2,"dur":1})J";
      continue;
    }
    events += R"J({"ph":"X","cat":"cpu_op","name":"op","pid":1,"tid":1,"ts":)J" +
              std::to_string(i) + R"J(,"dur":1})J";
  }
  auto r = Read(Wrap(events), /*chunk_bytes=*/256);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host_slices().size(), 199u);
  EXPECT_EQ(r->stats().Skipped(SkipReason::kMalformedJson), 1);
}

TEST(Reader, TruncatedFileKeepsCompleteEventsWithWarning) {
  std::string full = Wrap(std::string(kLaunch) + "," + kKernel + "," + kLaunch);
  std::string cut = full.substr(0, full.size() - 40);
  auto r = Read(cut);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stats().truncated);
  EXPECT_EQ(r->gpu_ops().size(), 1u);
  EXPECT_EQ(r->host_slices().size(), 1u);
  ASSERT_FALSE(r->stats().warnings.empty());
  EXPECT_NE(r->stats().warnings.back().find("ends inside the event array"), std::string::npos);
}

TEST(Reader, NotATraceIsAnErrorWithOffset) {
  struct Case {
    std::string input;
    std::string expect;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   \n", "only whitespace"},
      {"\x89PNG\r\n", "expected '{' or '['"},
      {R"J({"foo": 1})J", "no \"traceEvents\""},
      {R"J({"traceEvents": 5})J", "must be an array"},
      {"[1, 2, 3]", "usable trace event"},
      {R"J({"traceEvents": []})J", "no events"},
      {"SQLite format 3\0", "SQLite"},
  };
  for (const Case& c : cases) {
    auto r = ReadTraceBytes("bad.json", c.input);
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_NE(r.error().ToString().find(c.expect), std::string::npos) << r.error().ToString();
    EXPECT_NE(r.error().ToString().find("bad.json"), std::string::npos);
  }
}

TEST(Reader, Utf8BomAndHugeStrings) {
  std::string huge(1 << 20, 'k');
  auto r =
      Read("\xEF\xBB\xBF" + Wrap(R"J({"ph":"X","cat":"kernel","name":")J" + huge +
                                 R"J(","pid":0,"tid":7,"ts":1,"dur":1,"args":{"stream":7}})J"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str(r->gpu_ops().name[0]).size(), huge.size());
}

// The parallel chunked reader must build exactly what one sequential pass builds, including
// when "},{" appears inside strings and nested args.
TEST(Reader, ChunkedParallelReadEqualsSequentialRead) {
  std::string events;
  for (int i = 0; i < 3000; ++i) {
    if (i) events += ",\n  ";
    std::string name = i % 7 == 0 ? R"J(tricky },{ name)J" : "op" + std::to_string(i % 13);
    events += R"J({"ph":"X","cat":"cpu_op","name":")J" + name + R"J(","pid":1,"tid":)J" +
              std::to_string(i % 3) + R"J(,"ts":)J" + std::to_string(i) +
              R"J(.5,"dur":0.25,"args":{"nested":[{"a":1},{"b":2}],"External id":)J" +
              std::to_string(i) + "}}";
  }
  std::string text = Wrap(events, R"J("displayTimeUnit": "ms")J");
  auto sequential = Read(text, /*chunk_bytes=*/1 << 30, /*threads=*/1);
  ASSERT_TRUE(sequential.ok());
  for (size_t chunk : {64u, 500u, 4096u}) {
    auto parallel = Read(text, chunk, 2);
    ASSERT_TRUE(parallel.ok());
    const auto& a = sequential->host_slices();
    const auto& b = parallel->host_slices();
    ASSERT_EQ(a.size(), 3000u);
    ASSERT_EQ(b.size(), a.size()) << "chunk " << chunk;
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a.start_ns[i], b.start_ns[i]) << i;
      ASSERT_EQ(sequential->str(a.name[i]), parallel->str(b.name[i])) << i;
      ASSERT_EQ(a.external_id[i], b.external_id[i]) << i;
    }
    EXPECT_EQ(parallel->stats().TotalLost(), 0);
  }
}

// record_shapes arguments, est. achieved occupancy and cuda_profiler_range counters survive the
// chunked parallel read: each slice keeps its own arguments and each range its own metrics.
TEST(Reader, ShapesOccupancyAndCounterRangesInParallelChunks) {
  std::string events;
  for (int i = 0; i < 400; ++i) {
    if (i) events += ",\n";
    events += R"J({"ph":"X","cat":"cpu_op","name":"aten::mm","pid":1,"tid":1,"ts":)J" +
              std::to_string(i * 10) + R"J(,"dur":5,"args":{"External id":)J" + std::to_string(i) +
              R"J(,"Input Dims": [[)J" + std::to_string(i + 1) +
              R"J(, 8], [8, 4]],"Input type": ["float", "float"],"Concrete Inputs": ["", ""]}},)J";
    events += R"J({"ph":"X","cat":"kernel","name":"k","pid":0,"tid":7,"ts":)J" +
              std::to_string(i * 10 + 1) +
              R"J(,"dur":2,"args":{"device":0,"stream":7,"correlation":)J" + std::to_string(i + 1) +
              R"J(,"est. achieved occupancy %":)J" + std::to_string(i % 101) + "}},";
    events += R"J({"ph":"X","cat":"cuda_profiler_range","name":"k","pid":0,"tid":0,"ts":)J" +
              std::to_string(i * 10 + 1) + R"J(,"dur":2,"args":{"m.a":)J" + std::to_string(i) +
              R"J(,"m.b":)J" + std::to_string(2 * i) + "}}";
  }
  const std::string text = Wrap(events);
  for (size_t chunk : {size_t{1} << 30, size_t{300}, size_t{4096}}) {
    auto r = Read(text, chunk, 2);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    const Trace& t = r.value();
    const HostSliceTable& h = t.host_slices();
    ASSERT_EQ(h.size(), 400u) << chunk;
    ASSERT_EQ(t.op_shapes().size(), 400u);
    for (size_t i = 0; i < h.size(); ++i) {
      ASSERT_NE(h.shapes[i], kNoRow);
      const auto row = static_cast<size_t>(h.shapes[i]);
      EXPECT_EQ(t.str(t.op_shapes().input_dims[row]),
                "[[" + std::to_string(h.external_id[i] + 1) + ",8],[8,4]]")
          << "chunk " << chunk;
      EXPECT_EQ(t.str(t.op_shapes().input_types[row]), R"(["float","float"])");
      EXPECT_EQ(t.str(t.op_shapes().concrete_inputs[row]), R"(["",""])");
      EXPECT_EQ(t.str(t.op_shapes().input_strides[row]), "");
    }
    const GpuOpTable& g = t.gpu_ops();
    ASSERT_EQ(g.size(), 400u);
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_EQ(g.est_occupancy_pct[i], (g.correlation[i] - 1) % 101);
    const KernelCounterTable& k = t.kernel_counters();
    const KernelCounterValueTable& v = t.kernel_counter_values();
    ASSERT_EQ(k.size(), 400u);
    for (size_t i = 0; i < k.size(); ++i) {
      ASSERT_EQ(k.value_count[i], 2);
      const auto b = static_cast<size_t>(k.value_begin[i]);
      EXPECT_EQ(t.str(v.metric[b]), "m.a");
      EXPECT_EQ(v.value[b], static_cast<double>(i));  // file order is launch order
      EXPECT_EQ(t.str(v.metric[b + 1]), "m.b");
      EXPECT_EQ(v.value[b + 1], 2.0 * i);
    }
    // Counter ranges are neither host slices nor GPU ops.
    EXPECT_EQ(t.stats().TotalLost(), 0);
  }
}

}  // namespace
}  // namespace teye
