// Which files of a recorded job are ranks (import/job_layout.h), from footers written by hand the
// way the collector writes them, and one rank read from its files (ReadRankFiles). The expected
// layouts are stated per case from the rules in docs/collector.md, not computed.
#include "teye/import/job_layout.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "teye/import/read_trace.h"

namespace teye {
namespace {

class JobLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/teye-job-layout-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  struct Process {
    int pid = 0;
    int ppid = 1;
    int forked_from = 0;
    int rank = -1;
    std::string command = "python train.py";
    int dataloader_ranges = 0;  // training work
    std::string host = "node1";
  };
  // A collector trace of `p`, with one event on its own pid; returns its path.
  std::string Write(const std::string& name, const Process& p) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path);
    out << R"({"teye_collector":"0.1","schemaVersion":1,"traceEvents":[)"
        << R"({"ph":"X","cat":"io","name":"read","pid":)" << p.pid << R"(,"tid":)" << p.pid
        << R"(,"ts":1700000000000000.000,"dur":5.000,"args":{"fd":3,"bytes":100}}],)"
        << R"("teye":{"version":"0.1","producer":"libteye_collector","rank":)" << p.rank
        << R"(,"pid":)" << p.pid << R"(,"ppid":)" << p.ppid;
    if (p.forked_from) out << R"(,"forked_from":)" << p.forked_from;
    out << R"(,"host":")" << p.host << R"(","command":")" << p.command
        << R"(","complete":true,"end_reason":"exit","events":3,"nvtx_ranges":0,)"
        << R"("annotation_ranges":0,"dataloader_ranges":)" << p.dataloader_ranges
        << R"(,"gpu_events":0,"nccl_events":0}})"
        << "\n";
    return path;
  }
  // "main: folded..." per rank, by file name.
  std::vector<std::string> Describe(const JobLayout& layout) const {
    std::vector<std::string> out;
    for (const RankFiles& r : layout.ranks) {
      // Appended piece by piece: GCC 12 warns (-Wrestrict) on string + "literal" chains.
      std::string line = r.main.substr(dir_.size() + 1);
      line += ':';
      for (const FoldedFile& f : r.folded) {
        line += ' ';
        line += f.path.substr(dir_.size() + 1);
        line += f.role == ProcessRole::kForkedChild ? "(fork)" : "(mp)";
      }
      out.push_back(line);
    }
    return out;
  }

  std::string dir_;
};

TEST_F(JobLayoutTest, ForkedDataLoaderWorkersFoldIntoTheirRank) {
  const auto a = Write("a", {.pid = 10, .dataloader_ranges = 8});
  const auto b = Write("b", {.pid = 11, .ppid = 10, .forked_from = 10});
  const auto c = Write("c", {.pid = 12, .ppid = 10, .forked_from = 10});
  const JobLayout layout = PlanJob({a, b, c});
  EXPECT_EQ(Describe(layout), std::vector<std::string>{"a: b(fork) c(fork)"});
  EXPECT_TRUE(layout.notes.empty());
}

TEST_F(JobLayoutTest, SpawnedWorkersAndTheResourceTrackerFoldToo) {
  const auto a = Write("a", {.pid = 10, .dataloader_ranges = 4});
  const auto b = Write(
      "b",
      {.pid = 11,
       .ppid = 10,
       .command =
           "/usr/bin/python3 -B -c from multiprocessing.resource_tracker import main;main(7)"});
  const auto c = Write("c", {.pid = 12,
                             .ppid = 10,
                             .command = "/usr/bin/python3 -c from multiprocessing.spawn import "
                                        "spawn_main; spawn_main(tracker_fd=8, pipe_handle=12) "
                                        "--multiprocessing-fork"});
  EXPECT_EQ(Describe(PlanJob({a, b, c})), std::vector<std::string>{"a: b(mp) c(mp)"});
}

TEST_F(JobLayoutTest, TorchrunAgentIsALauncherAndEachRankKeepsItsWorkers) {
  const auto agent =
      Write("agent", {.pid = 100, .command = "python -m torch.distributed.run train.py"});
  const auto r0 = Write("r0", {.pid = 101, .ppid = 100, .rank = 0, .dataloader_ranges = 3});
  const auto r1 = Write("r1", {.pid = 102, .ppid = 100, .rank = 1, .dataloader_ranges = 3});
  const auto w0 = Write("w0", {.pid = 103, .ppid = 101, .forked_from = 101, .rank = 0});
  const auto w1 = Write("w1", {.pid = 104, .ppid = 102, .forked_from = 102, .rank = 1});
  const JobLayout layout = PlanJob({agent, r0, r1, w0, w1});
  EXPECT_EQ(Describe(layout), (std::vector<std::string>{"r0: w0(fork)", "r1: w1(fork)"}));
  ASSERT_EQ(layout.notes.size(), 1u);
  EXPECT_NE(layout.notes[0].find("process 100"), std::string::npos) << layout.notes[0];
  EXPECT_NE(layout.notes[0].find("launcher"), std::string::npos) << layout.notes[0];
}

TEST_F(JobLayoutTest, ProcessesWithARankOfTheirOwnAreRanksEvenWhenSpawned) {
  // torch.multiprocessing.spawn: the children are multiprocessing children that know a rank.
  const auto parent = Write("p", {.pid = 10});
  const std::string spawn = "python -c from multiprocessing.spawn import spawn_main";
  const auto c0 =
      Write("c0", {.pid = 11, .ppid = 10, .rank = 0, .command = spawn, .dataloader_ranges = 2});
  const auto c1 =
      Write("c1", {.pid = 12, .ppid = 10, .rank = 1, .command = spawn, .dataloader_ranges = 2});
  const JobLayout layout = PlanJob({parent, c0, c1});
  EXPECT_EQ(Describe(layout), (std::vector<std::string>{"c0:", "c1:"}));
  EXPECT_EQ(layout.notes.size(), 1u);
}

TEST_F(JobLayoutTest, AShellScriptIsALauncherAndAHelperIsNoRank) {
  const auto sh = Write("sh", {.pid = 10, .command = "bash run.sh"});
  const auto py = Write("py", {.pid = 11, .ppid = 10, .dataloader_ranges = 5});
  const auto git = Write("git", {.pid = 12, .ppid = 11, .command = "git rev-parse HEAD"});
  const JobLayout layout = PlanJob({sh, py, git});
  EXPECT_EQ(Describe(layout), std::vector<std::string>{"py:"});
  ASSERT_EQ(layout.notes.size(), 2u);
  EXPECT_NE(layout.notes[0].find("launcher"), std::string::npos) << layout.notes[0];
  EXPECT_NE(layout.notes[1].find("did no training work"), std::string::npos) << layout.notes[1];
}

TEST_F(JobLayoutTest, WithoutTrainingWorkAnywhereTheLeavesAreTheRanks) {
  // A C program and its forked children; and an unrelated program in the same folder.
  const auto a = Write("a", {.pid = 10, .command = "./io_program fork"});
  const auto b = Write("b", {.pid = 11, .ppid = 10, .forked_from = 10});
  const auto c = Write("c", {.pid = 20, .command = "./other"});
  EXPECT_EQ(Describe(PlanJob({a, b, c})), (std::vector<std::string>{"a: b(fork)", "c:"}));
}

TEST_F(JobLayoutTest, SamePidOnAnotherHostIsAnotherProcess) {
  const auto a = Write("a", {.pid = 10, .dataloader_ranges = 1, .host = "node1"});
  const auto b = Write("b", {.pid = 11, .ppid = 10, .forked_from = 10, .host = "node2"});
  EXPECT_EQ(Describe(PlanJob({a, b})), std::vector<std::string>{"a:"})
      << "b's parent is not among the inputs: it did no work, and is no rank";
}

TEST_F(JobLayoutTest, FilesNotWrittenByTheCollectorAreRanksAsBefore) {
  const std::string path = dir_ + "/kineto.json";
  std::ofstream(path) << R"({"schemaVersion":1,"traceEvents":[{"ph":"X","cat":"cpu_op",)"
                      << R"("name":"aten::mm","pid":1,"tid":1,"ts":1,"dur":2}]})";
  const auto a = Write("a", {.pid = 10, .dataloader_ranges = 1});
  EXPECT_EQ(Describe(PlanJob({path, a})), (std::vector<std::string>{"kineto.json:", "a:"}));
  EXPECT_FALSE(ReadCollectorFooter(path).found);
}

TEST_F(JobLayoutTest, ARankReadFromItsFilesKeepsEachProcessApart) {
  const auto a = Write("a", {.pid = 10, .dataloader_ranges = 1});
  const auto b = Write("b", {.pid = 11, .ppid = 10, .forked_from = 10});
  auto trace = ReadRankFiles(a, {{b, ProcessRole::kForkedChild}});
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  const Trace& t = trace.value();
  ASSERT_EQ(t.info().processes.size(), 2u);
  EXPECT_EQ(t.info().processes[0].pid, 10);
  EXPECT_EQ(t.info().processes[0].role, ProcessRole::kMain);
  EXPECT_EQ(t.info().processes[1].pid, 11);
  EXPECT_EQ(t.info().processes[1].parent_pid, 10);
  EXPECT_TRUE(t.info().processes[1].forked);
  EXPECT_EQ(t.info().processes[1].role, ProcessRole::kForkedChild);
  EXPECT_EQ(t.info().processes[1].file, b);
  EXPECT_EQ(t.info().path, a);
  std::map<int64_t, int> slices_by_pid;
  for (size_t i = 0; i < t.host_slices().size(); ++i)
    ++slices_by_pid[t.threads().pid[t.host_slices().thread[i]]];
  EXPECT_EQ(slices_by_pid, (std::map<int64_t, int>{{10, 1}, {11, 1}}));
  // A file that cannot be read is left out with a warning; the main file's error is the error.
  auto missing = ReadRankFiles(a, {{dir_ + "/gone", ProcessRole::kForkedChild}});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.value().info().processes.size(), 1u);
  EXPECT_FALSE(missing.value().stats().warnings.empty());
  EXPECT_FALSE(ReadRankFiles(dir_ + "/gone", {{b, ProcessRole::kForkedChild}}).ok());
}

}  // namespace
}  // namespace teye
