// The collector injected into real programs: interposed reads in a process and its forked
// workers, exit paths (exit, _exit, SIGTERM with and without the job's handler, SIGKILL), NVTX
// injection through the NVTX 3 headers, loading by several routes, hidden symbols, and bad
// configuration that must never hurt the job.
#include <set>
#include <signal.h>

#include "teye/import/read_trace.h"

#include "collector_test_util.h"

namespace teye::test {
namespace {

std::string Bytes(size_t n, char fill) {
  return std::string(n, fill);
}

// One trace per process, keyed by the pid in the teye footer.
std::map<int, nlohmann::json> TracesByPid(const std::string& dir) {
  std::map<int, nlohmann::json> out;
  for (const std::string& path : ListDir(dir, ".pt.trace.json")) {
    nlohmann::json j = LoadJson(path);
    EXPECT_TRUE(j.is_object()) << path << " is not whole JSON";
    if (j.is_object()) out[j["teye"]["pid"].get<int>()] = j;
  }
  return out;
}

int64_t SumBytes(const nlohmann::json& trace, const std::string& name) {
  int64_t total = 0;
  for (const auto& e : Events(trace, "io", "X"))
    if (e["name"] == name) total += e["args"].value("bytes", 0);
  return total;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "a.bin", Bytes(10000, 'a'));
    out_ = dir_ / "traces";
  }
  std::map<std::string, std::string> Env() const { return CollectorEnv(out_); }

  TempDir dir_;
  std::string out_;
};

TEST_F(ProcessTest, ReadsAreRecordedWithPathsBytesAndDescriptors) {
  ProcessResult r = RunProgram({TEYE_IO_PROGRAM, "read", dir_.path()}, Env(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "5000\n");
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  const nlohmann::json& t = traces.begin()->second;
  EXPECT_EQ(t["teye"]["complete"], true);
  EXPECT_EQ(t["teye"]["end_reason"], "exit");
  std::map<std::string, int64_t> bytes;
  std::set<std::string> with_path;
  const std::string file = dir_ / "a.bin";
  for (const auto& e : Events(t, "io", "X")) {
    if (e["args"].value("path", "") != file) continue;
    with_path.insert(e["name"]);
    bytes[e["name"]] += e["args"].value("bytes", 0);
    EXPECT_GE(e["args"]["fd"].get<int>(), 0);
    EXPECT_GE(e["dur"].get<double>(), 0);
  }
  EXPECT_EQ(with_path, (std::set<std::string>{"open", "read", "pread", "readv", "fread"}));
  EXPECT_EQ(bytes["read"], 1000);
  EXPECT_EQ(bytes["pread"], 1000);
  EXPECT_EQ(bytes["readv"], 2000);
  EXPECT_EQ(bytes["fread"], 1000);

  auto trace = ReadTraceFile(ListDir(out_, ".pt.trace.json")[0]);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  EXPECT_FALSE(trace.value().stats().truncated);
  int64_t io_bytes = 0;
  const HostSliceTable& s = trace.value().host_slices();
  for (size_t i = 0; i < s.size(); ++i)
    if (s.kind[i] == HostSliceKind::kIo && trace.value().str(s.detail[i]) == file)
      io_bytes += s.bytes[i];
  EXPECT_EQ(io_bytes, 5000);
}

TEST_F(ProcessTest, ForkedWorkersEachWriteTheirOwnTrace) {
  const int kWorkers = 3;
  for (int i = 0; i < kWorkers; ++i)
    WriteFile(dir_ / ("w" + std::to_string(i) + ".bin"), Bytes(1000 * (i + 1), 'w'));
  ProcessResult r = RunProgram({TEYE_IO_PROGRAM, "fork", dir_.path(), std::to_string(kWorkers)},
                               Env(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), static_cast<size_t>(kWorkers + 1)) << r.err;
  EXPECT_TRUE(ListDir(out_, ".partial").empty());
  int parent_pid = 0;
  for (auto& [pid, t] : traces)
    if (!t["teye"].contains("forked_from")) parent_pid = pid;
  ASSERT_NE(parent_pid, 0);
  std::multiset<int64_t> worker_bytes;
  std::multiset<std::string> reasons;
  for (auto& [pid, t] : traces) {
    EXPECT_EQ(t["teye"]["complete"], true);
    if (pid == parent_pid) {
      EXPECT_EQ(SumBytes(t, "read"), 10000);  // its own file only, none of the workers'
      continue;
    }
    EXPECT_EQ(t["teye"]["forked_from"], parent_pid);
    reasons.insert(t["teye"]["end_reason"].get<std::string>());
    int64_t n = 0;
    for (const auto& e : Events(t, "io", "X")) {
      EXPECT_EQ(e["pid"], pid);
      if (e["name"] == "read" && e["args"].value("path", "").find("/w") != std::string::npos)
        n += e["args"]["bytes"].get<int64_t>();
    }
    worker_bytes.insert(n);
  }
  EXPECT_EQ(worker_bytes, (std::multiset<int64_t>{1000, 2000, 3000}));
  EXPECT_EQ(reasons, (std::multiset<std::string>{"_exit", "_exit", "exit"}));
}

TEST_F(ProcessTest, SigtermStillLeavesAWholeTraceAndKillsTheProcess) {
  Process p({TEYE_IO_PROGRAM, "loop", dir_.path()}, Env(), CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(p.pid(), SIGTERM);
  ProcessResult r = p.Wait(30);
  EXPECT_EQ(r.signal, SIGTERM) << "the default action must still end the process";
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u) << r.err;
  const nlohmann::json& t = traces.begin()->second;
  EXPECT_EQ(t["teye"]["complete"], true);
  EXPECT_NE(t["teye"]["end_reason"].get<std::string>().find("SIGTERM"), std::string::npos);
  EXPECT_GT(SumBytes(t, "read"), 10000);
  EXPECT_TRUE(ListDir(out_, ".partial").empty());
  auto trace = ReadTraceFile(ListDir(out_, ".pt.trace.json")[0]);
  ASSERT_TRUE(trace.ok());
  EXPECT_FALSE(trace.value().stats().truncated);
  // Resource samples were taken while it ran.
  bool cpu = false;
  for (const auto& e : Events(t, "", "C"))
    cpu |= e["name"] == "CPU Utilization (%)";
  EXPECT_TRUE(cpu);
}

TEST_F(ProcessTest, TheJobsOwnSigtermHandlerStillDecides) {
  Process p({TEYE_IO_PROGRAM, "handler", dir_.path()}, Env(), CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(p.pid(), SIGTERM);
  ProcessResult r = p.Wait(30);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("handled"), std::string::npos);
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces.begin()->second["teye"]["end_reason"], "exit");
}

TEST_F(ProcessTest, ALateLoadedCollectorChainsToTheHandlerBeforeIt) {
  auto env = Env();
  env.erase("LD_PRELOAD");
  Process p({TEYE_IO_PROGRAM, "late", dir_.path(), TEYE_COLLECTOR_LIB}, env, CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(p.pid(), SIGTERM);
  ProcessResult r = p.Wait(30);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("handled"), std::string::npos);
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u) << r.err;
  EXPECT_EQ(traces.begin()->second["teye"]["complete"], true);
  EXPECT_FALSE(Events(traces.begin()->second, "", "C").empty());
}

TEST_F(ProcessTest, ReadsThroughCopiedDescriptorsKeepTheirPath) {
  ProcessResult r = RunProgram({TEYE_IO_PROGRAM, "dup", dir_.path()}, Env(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "500\n");
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  const std::string file = dir_ / "a.bin";
  std::set<int> fds;
  int64_t bytes = 0;
  for (const auto& e : Events(traces.begin()->second, "io", "X")) {
    if (e["name"] != "read" && e["name"] != "fread") continue;
    EXPECT_EQ(e["args"].value("path", ""), file) << e.dump();
    fds.insert(e["args"]["fd"].get<int>());
    bytes += e["args"].value("bytes", 0);
  }
  EXPECT_EQ(bytes, 500);
  EXPECT_EQ(fds.size(), 5u) << "dup, dup2, dup3, fcntl and fdopen(dup()) descriptors";
}

// A signal handler that opens and reads while the main thread is inside the interposed read (and
// sometimes inside the collector's own recording code): no deadlock, no lost or torn records.
TEST_F(ProcessTest, AHandlerThatReadsWhileTheMainThreadReads) {
  ProcessResult r =
      RunProgram({TEYE_IO_PROGRAM, "sigread", dir_.path()}, Env(), CollectorUnset(), 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "handler read\n");
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u) << r.err;
  const nlohmann::json& t = traces.begin()->second;
  EXPECT_EQ(t["teye"]["complete"], true);
  EXPECT_EQ(t["teye"]["dropped_records"], 0);
  int handler_reads = 0, main_reads = 0;
  for (const auto& e : Events(t, "io", "X")) {
    if (e["name"] != "read") continue;
    EXPECT_EQ(e["args"].value("path", ""), dir_ / "a.bin") << e.dump();
    (e["args"]["bytes"] == 256 ? handler_reads : main_reads) += 1;
  }
  EXPECT_GT(handler_reads, 0);
  EXPECT_GT(main_reads, 0);
  auto trace = ReadTraceFile(ListDir(out_, ".pt.trace.json")[0]);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  EXPECT_EQ(trace.value().stats().TotalLost(), 0);
}

TEST_F(ProcessTest, SigkillLeavesAFileMarkedPartialThatStillReads) {
  Process p({TEYE_IO_PROGRAM, "loop", dir_.path()}, Env(), CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // a few 100 ms flushes
  ::kill(p.pid(), SIGKILL);
  p.Wait(30);
  EXPECT_TRUE(ListDir(out_, ".pt.trace.json").empty());
  auto partial = ListDir(out_, ".partial");
  ASSERT_EQ(partial.size(), 1u);
  auto trace = ReadTraceFile(partial[0]);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  EXPECT_TRUE(trace.value().stats().truncated);
  EXPECT_GT(trace.value().host_slices().size(), 0u);
  // Without its footer it is still known as the collector's, not as a PyTorch profiler trace.
  EXPECT_EQ(trace.value().info().producer, "teye-collector");
}

TEST_F(ProcessTest, DisabledCollectorChangesNothing) {
  auto env = Env();
  env["TEYE_ENABLE"] = "0";
  ProcessResult r =
      RunProgram({TEYE_IO_PROGRAM, "read", dir_.path()}, env, {"CUDA_INJECTION64_PATH"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "5000\n");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(ListDir(out_, ".json").empty());
}

TEST_F(ProcessTest, BadConfigurationNeverHurtsTheJob) {
  auto env = Env();
  env["TEYE_OUTPUT_DIR"] = "/proc/teye-cannot-write-here";
  env["TEYE_BUFFER_MB"] = "lots";
  env["TEYE_FLUSH_MS"] = "-1";
  env["TEYE_CUPTI"] = "perhaps";
  env["TEYE_CLOCK"] = "sundial";
  ProcessResult r = RunProgram({TEYE_IO_PROGRAM, "read", dir_.path()}, env, CollectorUnset());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "5000\n");
  EXPECT_NE(r.err.find("TEYE_BUFFER_MB"), std::string::npos);
  EXPECT_NE(r.err.find("cannot write the trace"), std::string::npos);

  // A tiny buffer drops records and says so in the trace instead of growing.
  auto tiny = Env();
  tiny["TEYE_BUFFER_MB"] = "1";
  tiny["TEYE_CHUNK_KB"] = "4";
  tiny["TEYE_FLUSH_MS"] = "3600000";
  WriteFile(dir_ / "a.bin", Bytes(size_t{120} << 20, 'x'));  // 30 000 reads of 4 KiB
  ProcessResult big =
      RunProgram({TEYE_IO_PROGRAM, "fork", dir_.path(), "0"}, tiny, CollectorUnset());
  EXPECT_EQ(big.exit_code, 0);
  EXPECT_EQ(big.out, "parent read 125829120\n");
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  const nlohmann::json& t = traces.begin()->second;
  EXPECT_GT(t["teye"]["dropped_records"].get<int64_t>(), 0);
  EXPECT_LE(t["teye"]["buffer_bytes"].get<int64_t>(), 1 << 20);
  EXPECT_NE(big.err.find("dropped"), std::string::npos);
}

TEST_F(ProcessTest, OnlyTheEntryPointsAreExported) {
  ProcessResult r = RunProgram({"/usr/bin/nm", "-D", "--defined-only", TEYE_COLLECTOR_LIB});
  if (r.exit_code == 127) GTEST_SKIP() << "nm is not installed";
  ASSERT_EQ(r.exit_code, 0);
  const std::set<std::string> allowed = {"InitializeInjection",
                                         "InitializeInjectionNvtx2",
                                         "ncclProfiler_v5",
                                         "ncclProfiler_v4",
                                         "teye_record_range",
                                         "teye_collector_entry_points",
                                         "read",
                                         "__read_chk",
                                         "pread",
                                         "pread64",
                                         "__pread_chk",
                                         "__pread64_chk",
                                         "readv",
                                         "preadv",
                                         "preadv64",
                                         "recv",
                                         "__recv_chk",
                                         "recvfrom",
                                         "__recvfrom_chk",
                                         "fread",
                                         "__fread_chk",
                                         "open",
                                         "open64",
                                         "__open_2",
                                         "__open64_2",
                                         "openat",
                                         "openat64",
                                         "__openat_2",
                                         "__openat64_2",
                                         "fopen",
                                         "fopen64",
                                         "close",
                                         "fclose",
                                         "close_range",
                                         "dup",
                                         "dup2",
                                         "dup3",
                                         "fcntl",
                                         "fcntl64",
                                         "_exit",
                                         "_Exit",
                                         "signal",
                                         "bsd_signal",
                                         "sysv_signal",
                                         "__sysv_signal",
                                         "sigaction",
                                         "__sigaction",
                                         "siginterrupt",
                                         // shared with a CUPTI profiler in the job
                                         "cuptiSubscribe",
                                         "cuptiSubscribe_v2",
                                         "cuptiActivityRegisterCallbacks",
                                         "cuptiActivityEnable",
                                         "cuptiActivityDisable",
                                         "cuptiActivityRegisterTimestampCallback",
                                         "cuptiFinalize"};
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const std::string symbol = line.substr(line.rfind(' ') + 1);
    EXPECT_TRUE(allowed.count(symbol)) << "exported: " << symbol;
    ++count;
  }
  EXPECT_EQ(count, static_cast<int>(allowed.size()));
}

#ifdef TEYE_NVTX_PROGRAM
std::map<std::string, std::vector<nlohmann::json>> NvtxByName(const nlohmann::json& t) {
  std::map<std::string, std::vector<nlohmann::json>> out;
  for (const auto& e : Events(t, "nvtx"))
    out[e["name"]].push_back(e);
  return out;
}

void CheckNvtxProgramTrace(const nlohmann::json& t, int threads, int rounds) {
  auto by = NvtxByName(t);
  ASSERT_EQ(by["outer"].size(), 1u);
  ASSERT_EQ(by["inner"].size(), 1u);
  const auto& outer = by["outer"][0];
  const auto& inner = by["inner"][0];
  EXPECT_LE(outer["ts"].get<double>(), inner["ts"].get<double>() + 0.5);
  // JSON numbers parse to doubles: at 1.8e15 µs their resolution is 0.25 µs.
  EXPECT_GE(outer["ts"].get<double>() + outer["dur"].get<double>() + 0.5,
            inner["ts"].get<double>() + inner["dur"].get<double>())
      << std::fixed << outer["ts"].get<double>() << " " << outer["dur"].get<double>() << " "
      << inner["ts"].get<double>() << " " << inner["dur"].get<double>();
  ASSERT_EQ(by["marker"].size(), 1u);
  EXPECT_EQ(by["marker"][0]["ph"], "i");
  ASSERT_EQ(by["wide été"].size(), 1u);
  ASSERT_EQ(by["registered step"].size(), 1u);
  EXPECT_EQ(by["registered step"][0]["args"]["domain"], "teye.test");
  EXPECT_EQ(by["registered step"][0]["args"]["payload"], 12345);
  EXPECT_EQ(by["registered step"][0]["args"]["color"], "#ff336699");
  ASSERT_EQ(by["cross-thread range"].size(), 1u);
  EXPECT_EQ(by["cross-thread range"][0]["args"]["start_end"], true);
  ASSERT_EQ(by["never closed"].size(), 1u);
  EXPECT_EQ(by["never closed"][0]["args"]["unclosed"], true);
  EXPECT_EQ(t["teye"]["nvtx_unmatched_pops"], 1);
  EXPECT_EQ(by["compute"].size(), static_cast<size_t>(threads * rounds));
  EXPECT_EQ(by["kernel-ish"].size(), static_cast<size_t>(threads * rounds));
  for (int i = 0; i < threads; ++i)
    EXPECT_EQ(by["worker " + std::to_string(i)].size(), static_cast<size_t>(rounds));
  std::set<int64_t> worker_tids;
  for (const auto& e : by["compute"])
    worker_tids.insert(e["tid"].get<int64_t>());
  EXPECT_EQ(worker_tids.size(), static_cast<size_t>(threads));
  bool named = false;
  for (const auto& e : Events(t, "", "M"))
    named |= e["name"] == "thread_name" &&
             e["args"]["name"].get<std::string>().rfind("main-trainer", 0) == 0;
  EXPECT_TRUE(named);
}

TEST_F(ProcessTest, NvtxThroughThePreloadedLibraryAlone) {
  ProcessResult r = RunProgram({TEYE_NVTX_PROGRAM, "8", "200"}, Env(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "done\n");
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  CheckNvtxProgramTrace(traces.begin()->second, 8, 200);
  auto trace = ReadTraceFile(ListDir(out_, ".pt.trace.json")[0]);
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace.value().stats().TotalLost(), 0);
}

TEST_F(ProcessTest, NvtxThroughNvtxInjectionPathWithoutPreload) {
  auto env = Env();
  env.erase("LD_PRELOAD");
  env["NVTX_INJECTION64_PATH"] = TEYE_COLLECTOR_LIB;
  ProcessResult r = RunProgram({TEYE_NVTX_PROGRAM, "4", "50"}, env, CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  CheckNvtxProgramTrace(traces.begin()->second, 4, 50);
}

TEST_F(ProcessTest, LoadedByTwoRoutesUnderTwoPathsRecordsOnce) {
  // The same library under another name, as NVTX's injection: it must defer to the preloaded
  // copy (one trace, with the NVTX ranges) rather than start a second collector.
  const std::string copy = dir_ / "libteye_collector_copy.so";
  WriteFile(copy, ReadFile(TEYE_COLLECTOR_LIB));
  auto env = Env();
  env["NVTX_INJECTION64_PATH"] = copy;
  env["TEYE_NVTX_CHAIN"] = copy;  // what the preloaded copy would also try: must not loop
  ProcessResult r = RunProgram({TEYE_NVTX_PROGRAM, "2", "10"}, env, {"CUDA_INJECTION64_PATH"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto traces = TracesByPid(out_);
  ASSERT_EQ(traces.size(), 1u);
  CheckNvtxProgramTrace(traces.begin()->second, 2, 10);
}
#endif

}  // namespace
}  // namespace teye::test
