// A real PyTorch job (Debian's python3-torch, CPU only) under the collector behaves as it does
// without it: the same answers from getsignal, KeyboardInterrupt on Ctrl-C, the same death on
// SIGTERM, with every process's trace whole; spawned workers, a job that changes directory and a
// signal handler that reads while the main thread reads. Skips when torch is not installed
// (ctest label collector-torch; CI installs python3-torch).
#include <set>

#include "teye/import/read_trace.h"

#include "collector_test_util.h"

namespace teye::test {
namespace {

const std::string kJobs = std::string(TEYE_COLLECTOR_TEST_DIR) + "/python/";

class TorchJob : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(data_.c_str(), 0755);
    for (int i = 0; i < 16; ++i) {
      const std::string body(1000 + 100 * i, 'd');
      WriteFile(data_ + "/sample" + std::to_string(100 + i) + ".bin", body);
      total_bytes_ += static_cast<int64_t>(body.size());
    }
  }
  std::map<std::string, std::string> Plain() const { return {{"OMP_NUM_THREADS", "1"}}; }
  std::map<std::string, std::string> Recorded() const {
    auto env = CollectorEnv(out_);
    env["OMP_NUM_THREADS"] = "1";
    return env;
  }
  // Every trace in out_, once no .partial file is left (processes may still be ending).
  std::vector<nlohmann::json> WholeTraces(int expected_at_least) {
    for (int i = 0; i < 100; ++i) {
      if (ListDir(out_, ".partial").empty() &&
          static_cast<int>(ListDir(out_, ".pt.trace.json").size()) >= expected_at_least)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::vector<nlohmann::json> traces;
    for (const std::string& path : ListDir(out_, ".pt.trace.json")) {
      traces.push_back(LoadJson(path));
      EXPECT_TRUE(traces.back().is_object()) << path << " is not whole";
      if (traces.back().is_object()) {
        EXPECT_EQ(traces.back()["teye"]["complete"], true) << path;
      }
      auto read = ReadTraceFile(path);
      EXPECT_TRUE(read.ok() && !read.value().stats().truncated) << path;
    }
    EXPECT_TRUE(ListDir(out_, ".partial").empty());
    return traces;
  }
  static bool Skipped(const ProcessResult& r) { return r.exit_code == 77; }

  TempDir dir_;
  std::string data_ = dir_ / "data";
  std::string out_ = dir_ / "traces";
  int64_t total_bytes_ = 0;
};

TEST_F(TorchJob, GetsignalAnswersAsWithoutTheCollector) {
  const std::vector<std::string> argv = {TEYE_SYSTEM_PYTHON, kJobs + "signal_job.py", "getsignal",
                                         data_};
  ProcessResult plain = RunProgram(argv, Plain(), CollectorUnset());
  if (Skipped(plain)) GTEST_SKIP() << "torch is not installed";
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ProcessResult recorded = RunProgram(argv, Recorded(), CollectorUnset());
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_EQ(recorded.out, plain.out);
  EXPECT_NE(plain.out.find("start SIGINT <built-in function default_int_handler> a handler"),
            std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find("start SIGTERM <Handlers.SIG_DFL: 0> SIG_DFL"), std::string::npos);
  WholeTraces(3);
}

TEST_F(TorchJob, CtrlCRaisesKeyboardInterruptAsWithoutTheCollector) {
  const std::vector<std::string> argv = {TEYE_SYSTEM_PYTHON, kJobs + "signal_job.py", "interrupt",
                                         data_};
  std::vector<ProcessResult> runs;
  for (const auto& env : {Plain(), Recorded()}) {
    Process p(argv, env, CollectorUnset(), /*own_group=*/true);
    const bool ready = p.WaitForOutput("ready", 60);
    ProcessResult r;
    if (ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      p.SignalGroup(SIGINT);  // what the terminal does on Ctrl-C
      r = p.Wait(60);
    } else {
      r = p.Wait(5);
      if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
    }
    ASSERT_TRUE(ready) << r.out << r.err;
    runs.push_back(r);
  }
  for (const ProcessResult& r : runs) {
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.out, "ready\ninterrupted\n") << r.err;
  }
  auto traces = WholeTraces(3);
  EXPECT_EQ(traces.size(), 3u) << "the main process and its 2 workers";
}

TEST_F(TorchJob, SigtermToTheProcessGroupLeavesEveryTraceWhole) {
  const std::vector<std::string> argv = {TEYE_SYSTEM_PYTHON, kJobs + "signal_job.py", "terminate",
                                         data_};
  std::vector<ProcessResult> runs;
  for (const auto& env : {Plain(), Recorded()}) {
    Process p(argv, env, CollectorUnset(), /*own_group=*/true);
    const bool ready = p.WaitForOutput("ready", 60);
    ProcessResult r;
    if (ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      p.SignalGroup(SIGTERM);  // what timeout, Slurm and Kubernetes send
      r = p.Wait(60);
    } else {
      r = p.Wait(5);
      if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
    }
    ASSERT_TRUE(ready) << r.out << r.err;
    runs.push_back(r);
  }
  EXPECT_EQ(runs[0].signal, SIGTERM);
  EXPECT_EQ(runs[1].signal, runs[0].signal);
  EXPECT_EQ(runs[1].exit_code, runs[0].exit_code);
  auto traces = WholeTraces(3);
  ASSERT_EQ(traces.size(), 3u) << "the main process and its 2 workers";
  int main_traces = 0;
  for (const auto& t : traces) {
    if (t["teye"].contains("forked_from")) continue;
    ++main_traces;
    EXPECT_EQ(t["teye"]["end_reason"], "SIGTERM");
  }
  EXPECT_EQ(main_traces, 1);
}

TEST_F(TorchJob, SpawnedWorkersUnderTeyeRecord) {
  ProcessResult r =
      RunProgram({TEYE_BINARY, "record", "-o", out_, "--", TEYE_SYSTEM_PYTHON,
                  kJobs + "dataloader_job.py", data_, "--context", "spawn", "--epochs", "1"},
                 {{"TEYE_COLLECTOR_LIB", TEYE_COLLECTOR_LIB}, {"OMP_NUM_THREADS", "1"}},
                 CollectorUnset(), 120);
  if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "batches 4\n");
  // teye record waited for every process the job started: all traces whole, all listed.
  EXPECT_TRUE(ListDir(out_, ".partial").empty()) << r.err;
  auto traces = WholeTraces(3);
  const size_t listed = ListDir(out_, ".pt.trace.json").size();
  EXPECT_NE(r.err.find("teye: " + std::to_string(listed) + " traces in "), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("partial"), std::string::npos) << r.err;
  // The spawned workers (new processes, not forks) read every sample once per epoch.
  int64_t bytes = 0;
  int main_pid = 0;
  for (const auto& t : traces) {
    for (const auto& e : Events(t, "dataloader", "X"))
      main_pid = e["pid"].get<int>();
    for (const auto& e : Events(t, "io", "X"))
      if (e["name"] == "read" && e["args"].value("path", "").rfind(data_ + "/", 0) == 0)
        bytes += e["args"]["bytes"].get<int64_t>();
  }
  EXPECT_EQ(bytes, total_bytes_);
  int children = 0;
  for (const auto& t : traces)
    children += t["teye"]["ppid"] == main_pid;
  EXPECT_GE(children, 2) << "2 workers (and multiprocessing's resource tracker)";
}

TEST_F(TorchJob, AJobThatChangesDirectoryWritesWhereItWasAsked) {
  const std::string elsewhere = dir_ / "elsewhere";
  ::mkdir(elsewhere.c_str(), 0755);
  auto env = Recorded();
  env["TEYE_OUTPUT_DIR"] = "traces";  // relative to where the job starts
  Process p({TEYE_SYSTEM_PYTHON, kJobs + "dataloader_job.py", data_, "--chdir", elsewhere}, env,
            CollectorUnset(), /*own_group=*/false, /*cwd=*/dir_.path());
  ProcessResult r = p.Wait(120);
  if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "batches 8\n");
  auto traces = WholeTraces(5);
  EXPECT_EQ(traces.size(), 5u) << "the main process and 2 workers per epoch";
  EXPECT_TRUE(ListDir(elsewhere + "/traces", ".json").empty());
  EXPECT_TRUE(ListDir("/traces", ".json").empty());
}

TEST_F(TorchJob, AHandlerReadsWhileTheMainThreadIsInsideRead) {
  ProcessResult r = RunProgram(
      {TEYE_SYSTEM_PYTHON, kJobs + "handler_read_job.py", TEYE_READING_HANDLER_LIB, data_},
      Recorded(), CollectorUnset(), 60);
  if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "handler read\n");
  auto traces = WholeTraces(1);
  ASSERT_EQ(traces.size(), 1u);
  int handler_reads = 0;
  for (const auto& e : Events(traces[0], "io", "X"))
    handler_reads += e["name"] == "read" && e["args"]["bytes"] == 256;
  EXPECT_GT(handler_reads, 0);
  EXPECT_EQ(traces[0]["teye"]["dropped_records"], 0);
}

// teye analyze DIR of a recorded 2-worker job: the workers are folded into the one rank, each
// still recognisable by its pid.
TEST_F(TorchJob, AnalyzeOfATwoWorkerJobIsOneRank) {
  ProcessResult r =
      RunProgram({TEYE_BINARY, "record", "-o", out_, "--", TEYE_SYSTEM_PYTHON,
                  kJobs + "dataloader_job.py", data_},
                 {{"TEYE_COLLECTOR_LIB", TEYE_COLLECTOR_LIB}, {"OMP_NUM_THREADS", "1"}},
                 CollectorUnset(), 120);
  if (Skipped(r)) GTEST_SKIP() << "torch is not installed";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("teye: next: teye analyze " + out_ + "\n"), std::string::npos) << r.err;
  auto traces = WholeTraces(5);
  ASSERT_EQ(traces.size(), 5u) << "the main process and 2 workers per epoch";
  std::set<int64_t> worker_pids;
  for (const auto& t : traces)
    if (t["teye"].contains("forked_from")) worker_pids.insert(t["teye"]["pid"].get<int64_t>());

  ProcessResult a = RunProgram({TEYE_BINARY, "analyze", out_, "-f", "json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  nlohmann::json report = nlohmann::json::parse(a.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << a.out;
  ASSERT_EQ(report["ranks"].size(), 1u);
  EXPECT_FALSE(report.contains("cross_rank") && !report["cross_rank"].is_null());
  const nlohmann::json& rank = report["ranks"][0];
  // The shim's ProfilerStep#N, one per batch (the last may be left out of the statistics when
  // it is short: "count" is of those kept).
  EXPECT_EQ(rank["steps"]["detected"], 8);
  bool described = false;
  for (const auto& note : rank["notes"])
    described |= note.get<std::string>().find("5 processes in this rank") != std::string::npos;
  EXPECT_TRUE(described) << rank["notes"].dump();

  // The model keeps each worker's events under its own pid.
  std::vector<FoldedFile> folded;
  std::string main;
  for (const std::string& path : ListDir(out_, ".pt.trace.json")) {
    if (LoadJson(path)["teye"].contains("forked_from"))
      folded.push_back({path, ProcessRole::kForkedChild});
    else
      main = path;
  }
  auto trace = ReadRankFiles(main, folded);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  const Trace& t = trace.value();
  ASSERT_EQ(t.info().processes.size(), 5u);
  std::set<int64_t> io_pids;
  int64_t worker_bytes = 0;
  const HostSliceTable& s = t.host_slices();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.kind[i] != HostSliceKind::kIo || t.str(s.detail[i]).rfind(data_ + "/", 0) != 0) continue;
    const int64_t pid = t.threads().pid[s.thread[i]];
    io_pids.insert(pid);
    if (worker_pids.count(pid)) worker_bytes += s.bytes[i];
  }
  EXPECT_EQ(io_pids, worker_pids) << "the samples are read by the workers, under their pids";
  EXPECT_EQ(worker_bytes, 2 * total_bytes_);
}

}  // namespace
}  // namespace teye::test
