// The Nsight Systems SQLite reader on small exports written by the test (the tables and columns
// of an nsys 2024 export): what each table becomes, ranks of a many-process export, and bad
// input (not an export, truncated, locked) as one-line errors. The expected values are the rows
// the test wrote. Runs without ../shared/traces; `make test-asan` runs it under ASan.
#include <filesystem>
#include <fstream>
#include <set>
#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"

#include "nsys_export_maker.h"
#include "run_command.h"

namespace teye {
namespace {

namespace fs = std::filesystem;
using test::NsysExportMaker;

constexpr int64_t kSessionStart = 1'700'000'000'000'000'000;
constexpr int kPushPop = 59, kStartEnd = 60, kMark = 34, kDomainCreate = 75;

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() /
          ("teye_nsys_" + std::to_string(::getpid()) + "_" + name + ".sqlite"))
      .string();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One process (pid 100): a kernel and a copy with their launches, a driver call, NVTX ranges of
// every kind, OS runtime calls, names and a GPU.
void WriteOneProcess(const std::string& path) {
  NsysExportMaker m(path);
  m.SessionStart(kSessionStart);
  m.Process(100, "python");
  m.ThreadName(100, 100, "MainThread");
  m.Gpu(0, "NVIDIA H100 80GB HBM3", 132);
  m.Api(100, 100, 1000, 1500, 1, "cudaLaunchKernel_v7000");
  m.Kernel(100, 0, 7, 2000, 3000, 1, "void gemm_kernel<float>(float*)");
  m.Api(100, 100, 4000, 4100, 2, "cudaMemcpyAsync_v3020");
  m.Memcpy(100, 0, 4200, 4400, 2, 1024, /*HtoD*/ 1, /*Pageable*/ 0, /*Device*/ 2);
  m.Api(100, 100, 4500, 4600, 3, "cuLaunchKernel", /*driver*/ 1);
  m.Nvtx(100, 100, -5, -1, kDomainCreate, "MyDomain", 1);
  m.Nvtx(100, 100, 900, 5000, kPushPop, "forward");
  m.Nvtx(100, 100, 5000, 6000, kPushPop, "backward", 0, /*text_by_id=*/true);
  m.Nvtx(100, 100, 800, 7000, kStartEnd, "epoch", 1);
  m.Nvtx(100, 100, 6500, 6500, kMark, "checkpoint");
  m.Nvtx(100, 100, 6600, -1, kPushPop, "tail");
  m.Osrt(100, 100, 6700, 6800, "read", 4096);
  m.Osrt(100, 100, 6800, 6900, "poll", 1);
}

const HostSliceTable& Slices(const Trace& t) {
  return t.host_slices();
}
RowIndex SliceNamed(const Trace& t, std::string_view name) {
  for (size_t i = 0; i < t.host_slices().size(); ++i)
    if (t.str(t.host_slices().name[i]) == name) return static_cast<RowIndex>(i);
  return kNoRow;
}

TEST(NsysReader, OneProcessBecomesOneTrace) {
  const std::string path = TempPath("one");
  WriteOneProcess(path);
  auto read = ReadTraceFileRanks(path);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_EQ(read->size(), 1u);
  const Trace& t = read->front();
  EXPECT_EQ(t.info().producer, "nsight-systems");
  EXPECT_EQ(t.info().format, "nsys-sqlite");
  EXPECT_EQ(t.rank(), -1) << "one process: no rank is claimed";
  EXPECT_EQ(t.stats().TotalLost(), 0);

  const GpuOpTable& g = t.gpu_ops();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.kind[0], GpuOpKind::kKernel);
  EXPECT_EQ(t.str(g.name[0]), "void gemm_kernel<float>(float*)");
  EXPECT_EQ(g.start_ns[0], kSessionStart + 2000) << "times are on the session's UTC clock";
  EXPECT_EQ(g.duration(0), 1000);
  EXPECT_EQ(g.device[0], 0);
  EXPECT_EQ(g.stream[0], 7);
  EXPECT_EQ(g.grid_blocks[0], 80);
  EXPECT_EQ(g.block_threads[0], 256);
  EXPECT_EQ(g.shared_memory[0], 1024);
  ASSERT_NE(g.launch[0], kNoRow);
  EXPECT_EQ(t.str(Slices(t).name[g.launch[0]]), "cudaLaunchKernel") << "version suffix dropped";
  EXPECT_EQ(Slices(t).kind[g.launch[0]], HostSliceKind::kRuntime);

  EXPECT_EQ(g.kind[1], GpuOpKind::kMemcpy);
  EXPECT_EQ(t.str(g.name[1]), "Memcpy HtoD (Pageable -> Device)");
  EXPECT_EQ(g.copy_kind[1], CopyKind::kHtoD);
  EXPECT_EQ(g.src_memory[1], MemoryKind::kPageable);
  EXPECT_EQ(g.dst_memory[1], MemoryKind::kDevice);
  EXPECT_EQ(g.bytes[1], 1024);
  ASSERT_NE(g.launch[1], kNoRow);
  EXPECT_EQ(t.str(Slices(t).name[g.launch[1]]), "cudaMemcpyAsync");

  const RowIndex driver = SliceNamed(t, "cuLaunchKernel");
  ASSERT_NE(driver, kNoRow);
  EXPECT_EQ(Slices(t).kind[driver], HostSliceKind::kDriver);
  EXPECT_EQ(t.str(Slices(t).category[driver]), "cuda_driver");

  int nvtx = 0;
  for (size_t i = 0; i < Slices(t).size(); ++i)
    nvtx += t.str(Slices(t).category[i]) == "nvtx";
  EXPECT_EQ(nvtx, 4) << "forward, backward, epoch, tail";
  const RowIndex backward = SliceNamed(t, "backward");
  ASSERT_NE(backward, kNoRow) << "named through textId";
  EXPECT_EQ(Slices(t).kind[backward], HostSliceKind::kUserAnnotation);
  const RowIndex epoch = SliceNamed(t, "epoch");
  ASSERT_NE(epoch, kNoRow);
  EXPECT_EQ(t.str(Slices(t).detail[epoch]), "MyDomain");
  EXPECT_EQ(Slices(t).duration(epoch), 6200);
  const ThreadIndex track = Slices(t).thread[epoch];
  EXPECT_EQ(t.threads().pid[track], 100);
  EXPECT_EQ(t.threads().tid[track], 1'100'000'000) << "start/end ranges: the collector's track";
  EXPECT_EQ(t.str(t.threads().thread_name[track]), "NVTX start/end ranges");
  const RowIndex tail = SliceNamed(t, "tail");
  ASSERT_NE(tail, kNoRow);
  EXPECT_EQ(Slices(t).end_ns[tail], t.end_ns()) << "an unclosed range ends with the trace";
  EXPECT_EQ(t.stats().Skipped(SkipReason::kUnclosedBegin), 1);
  ASSERT_EQ(t.instants().size(), 1u);
  EXPECT_EQ(t.str(t.instants().name[0]), "checkpoint");

  const RowIndex read_call = SliceNamed(t, "read");
  ASSERT_NE(read_call, kNoRow);
  EXPECT_EQ(Slices(t).kind[read_call], HostSliceKind::kIo);
  EXPECT_EQ(Slices(t).bytes[read_call], 4096);
  const RowIndex poll = SliceNamed(t, "poll");
  ASSERT_NE(poll, kNoRow);
  EXPECT_EQ(Slices(t).kind[poll], HostSliceKind::kOther);
  EXPECT_EQ(t.str(Slices(t).category[poll]), "osrt");

  ASSERT_EQ(t.devices().size(), 1u);
  EXPECT_EQ(t.devices()[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(t.devices()[0].num_sms, 132);
  EXPECT_EQ(t.devices()[0].max_threads_per_sm, 2048);
  EXPECT_EQ(t.info().vendor, GpuVendor::kNvidia);
  ASSERT_GE(t.threads().size(), 1u);
  EXPECT_EQ(t.str(t.threads().thread_name[Slices(t).thread[read_call]]), "MainThread");
  EXPECT_EQ(t.str(t.threads().process_name[Slices(t).thread[read_call]]), "python");
  fs::remove(path);
}

TEST(NsysReader, BytesInMemoryAndGzipReadAsTheFile) {
  const std::string path = TempPath("bytes");
  WriteOneProcess(path);
  const std::string bytes = Slurp(path);
  auto from_file = ReadTraceFile(path);
  auto from_bytes = ReadTraceBytes("report.sqlite", bytes);
  ASSERT_TRUE(from_file.ok());
  ASSERT_TRUE(from_bytes.ok()) << from_bytes.error().ToString();
  EXPECT_EQ(from_bytes->gpu_ops().start_ns, from_file->gpu_ops().start_ns);
  EXPECT_EQ(from_bytes->host_slices().size(), from_file->host_slices().size());
  ASSERT_EQ(std::system(("gzip -kf " + path).c_str()), 0);
  auto from_gzip = ReadTraceFile(path + ".gz");
  ASSERT_TRUE(from_gzip.ok()) << from_gzip.error().ToString();
  EXPECT_EQ(from_gzip->gpu_ops().start_ns, from_file->gpu_ops().start_ns);
  fs::remove(path);
  fs::remove(path + ".gz");
}

TEST(NsysReader, StepsFromNvtxProfilerStepRanges) {
  const std::string path = TempPath("steps");
  {
    NsysExportMaker m(path);
    for (int s = 0; s < 4; ++s) {
      const int64_t t0 = 1'000'000 + s * 1'000'000;
      m.Nvtx(7, 7, t0, t0 + 900'000, kPushPop, "ProfilerStep#" + std::to_string(s + 10));
      for (int k = 0; k < 5; ++k) {
        const int64_t corr = s * 10 + k + 1;
        m.Api(7, 7, t0 + k * 100'000, t0 + k * 100'000 + 5'000, corr, "cudaLaunchKernel_v7000");
        m.Kernel(7, 0, 7, t0 + k * 100'000 + 10'000, t0 + k * 100'000 + 90'000, corr, "k");
      }
    }
  }
  auto trace = ReadTraceFile(path);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  auto a = AnalyzeTrace(trace.value(), {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->steps.source, StepSource::kProfilerStep);
  ASSERT_EQ(a->steps.steps.size(), 4u);
  EXPECT_EQ(a->steps.steps[0].number, 10);
  EXPECT_TRUE(a->has_gpu_activity);
  fs::remove(path);
}

TEST(NsysReader, StepsFromNvtxRangesByStepRegex) {
  const std::string path = TempPath("regex_steps");
  {
    NsysExportMaker m(path);
    for (int s = 0; s < 3; ++s) {
      const int64_t t0 = 1'000'000 + s * 1'000'000;
      m.Nvtx(7, 7, t0, t0 + 900'000, kPushPop, "train_step " + std::to_string(s));
      m.Nvtx(7, 7, t0 + 10, t0 + 400'000, kPushPop, "forward");
      m.Api(7, 7, t0 + 100, t0 + 5'000, s + 1, "cudaLaunchKernel_v7000");
      m.Kernel(7, 0, 7, t0 + 10'000, t0 + 800'000, s + 1, "k");
    }
  }
  auto trace = ReadTraceFile(path);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  AnalysisOptions options;
  options.steps.step_regex = "^train_step";
  auto a = AnalyzeTrace(trace.value(), options);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->steps.source, StepSource::kRegex);
  EXPECT_EQ(a->steps.steps.size(), 3u);
  auto whole = AnalyzeTrace(trace.value(), {});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->steps.source, StepSource::kWholeTrace) << "no ProfilerStep#N, no regex";
  fs::remove(path);
}

// Tables read in rowid chunks on several connections give what one pass gives.
TEST(NsysReader, ChunkedParallelReadEqualsSequentialRead) {
  const std::string path = TempPath("chunks");
  {
    NsysExportMaker m(path);
    m.String("kernel_a");
    m.String("cudaLaunchKernel_v7000");
    m.String("read");
    // 6000 launches and kernels on two threads of one process, 3000 reads on a third thread.
    m.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 5999) "
        "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME SELECT i * 1000, i * 1000 + 300, 0, " +
        std::to_string(NsysExportMaker::GlobalTid(9, 9)) + " + i % 2, i + 1, 1, 0, 0 FROM n");
    m.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 5999) "
        "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL SELECT i * 1000 + 400, i * 1000 + 900 + i % 7, "
        "0, 1, 7, i + 1, " +
        std::to_string(NsysExportMaker::GlobalPid(9)) +
        ", 0, 0, 1, 1, 1, 128, 1, 1, 16, 0, 0 FROM n");
    m.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999) "
        "INSERT INTO OSRT_API SELECT i * 2000, i * 2000 + 50, 27, " +
        std::to_string(NsysExportMaker::GlobalTid(9, 12)) + ", 2, 4096, 0, 0 FROM n");
  }
  ReadOptions one;
  one.threads = 1;
  ReadOptions many;
  many.threads = 3;
  many.chunk_bytes = 32 * 1024;  // 1024-row chunks: several per table
  auto a = ReadTraceFile(path, one);
  auto b = ReadTraceFile(path, many);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->gpu_ops().size(), 6000u);
  EXPECT_EQ(a->host_slices().size(), 9000u);
  EXPECT_EQ(a->gpu_ops().start_ns, b->gpu_ops().start_ns);
  EXPECT_EQ(a->gpu_ops().end_ns, b->gpu_ops().end_ns);
  EXPECT_EQ(a->gpu_ops().launch, b->gpu_ops().launch);
  EXPECT_EQ(a->host_slices().start_ns, b->host_slices().start_ns);
  EXPECT_EQ(a->host_slices().bytes, b->host_slices().bytes);
  EXPECT_EQ(a->stats().events_seen, b->stats().events_seen);
  for (size_t i = 0; i < a->gpu_ops().size(); ++i)
    ASSERT_NE(b->gpu_ops().launch[i], kNoRow) << "kernel " << i << " lost its launch";
  fs::remove(path);
}

// Two ranks (pids 200, 300) on GPUs 0 and 1, a DataLoader worker 201 forked by 200 (OSRT says
// so), and a helper 301 nobody forked (folded by pid order).
void WriteJob(const std::string& path, bool nccl) {
  NsysExportMaker m(path);
  for (int64_t pid : {200, 300}) {
    const int device = pid == 200 ? 0 : 1;
    m.Api(pid, pid, 1000, 1100, 1, "cudaLaunchKernel_v7000");
    m.Kernel(pid, device, 7, 2000, 3000 + pid, 1, "ncclDevKernel_AllReduce_Sum_f32_RING_LL");
    if (nccl) {
      m.Nvtx(pid, pid, -10, -1, kDomainCreate, "NCCL", 5);
      m.Nvtx(pid, pid, 100, 200, kPushPop, "ncclCommInitRank", 5, false,
             pid == 200 ? R"({"NCCL communicator ID": 77, "No. of ranks": 2, "Rank": 1})"
                        : R"({"NCCL communicator ID": 77, "No. of ranks": 2, "Rank": 0})");
    }
  }
  m.Osrt(200, 200, 500, 600, "fork", 201);
  m.Osrt(201, 201, 700, 800, "read", 64);
  m.Api(201, 201, 1000, 1050, 1, "cudaGetDeviceProperties_v2_v12000");  // same correlation id
  m.Osrt(301, 301, 700, 800, "read", 32);
}

std::set<int64_t> Pids(const Trace& t) {
  std::set<int64_t> pids;
  for (size_t i = 0; i < t.host_slices().size(); ++i)
    pids.insert(t.threads().pid[t.host_slices().thread[i]]);
  return pids;
}

TEST(NsysReader, OneRankPerGpuProcessWithNcclRanks) {
  const std::string path = TempPath("job_nccl");
  WriteJob(path, /*nccl=*/true);
  auto read = ReadTraceFileRanks(path);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_EQ(read->size(), 2u);
  const Trace& r0 = read.value()[0];
  const Trace& r1 = read.value()[1];
  EXPECT_EQ(r0.rank(), 0);
  EXPECT_EQ(r1.rank(), 1);
  EXPECT_EQ(r0.distributed().world_size, 2);
  EXPECT_EQ(r0.distributed().backend, "nccl");
  EXPECT_EQ(Pids(r0), (std::set<int64_t>{300, 301})) << "NCCL rank 0 is pid 300";
  EXPECT_EQ(Pids(r1), (std::set<int64_t>{200, 201})) << "the forked worker folds into its parent";
  EXPECT_EQ(r1.gpu_ops().device[0], 0);
  EXPECT_EQ(r0.gpu_ops().device[0], 1);
  // The worker's call with the same correlation id must not claim the parent's kernel.
  ASSERT_NE(r1.gpu_ops().launch[0], kNoRow);
  EXPECT_EQ(r1.str(r1.host_slices().name[r1.gpu_ops().launch[0]]), "cudaLaunchKernel");
  EXPECT_NE(r0.info().path.find("(pid 300)"), std::string::npos) << r0.info().path;
  fs::remove(path);
}

TEST(NsysReader, RanksFollowPidOrderWithoutNccl) {
  const std::string path = TempPath("job");
  WriteJob(path, /*nccl=*/false);
  auto read = ReadTraceFileRanks(path);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ(Pids(read.value()[0]), (std::set<int64_t>{200, 201}));
  EXPECT_EQ(Pids(read.value()[1]), (std::set<int64_t>{300, 301}));
  EXPECT_EQ(read.value()[1].rank(), 1);
  bool said = false;
  for (const std::string& w : read.value()[0].stats().warnings)
    said = said || w.find("process id order") != std::string::npos;
  EXPECT_TRUE(said);
  // ReadTraceFile gives the first rank and says it is one of several.
  auto first = ReadTraceFile(path);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rank(), 0);
  fs::remove(path);
}

// The CLI paths that take ranks: analyze (cross-rank section), --summary-only and merge, gate
// (judges the first rank and says there are more), diff, and standard input.
TEST(NsysReader, ManyRankExportThroughTheCli) {
  const std::string path = TempPath("job_cli");
  WriteJob(path, /*nccl=*/true);
  const std::string teye = test::Teye();
  const auto json = test::RunCommand(teye + " analyze -f json " + path);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"cross_rank\""), std::string::npos);
  EXPECT_NE(json.out.find("(pid 200)"), std::string::npos);
  EXPECT_NE(json.out.find("(pid 300)"), std::string::npos);
  const std::string summary = path + ".summary.json";
  const auto summarised =
      test::RunCommand(teye + " analyze --summary-only -o " + summary + " " + path);
  ASSERT_EQ(summarised.exit_code, 0) << summarised.err;
  const auto merged = test::RunCommand(teye + " merge " + summary);
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  const auto gate = test::RunCommand(teye + " gate --min-steps 1 " + path);
  EXPECT_TRUE(gate.exit_code == 0 || gate.exit_code == 1) << gate.out << gate.err;
  EXPECT_NE((gate.out + gate.err).find("holds 2"), std::string::npos) << gate.out << gate.err;
  const auto diff = test::RunCommand(teye + " diff " + path + " " + path);
  EXPECT_EQ(diff.exit_code, 0) << diff.err;
  const auto stdin_read = test::RunCommand(teye + " analyze -f json - < " + path);
  EXPECT_EQ(stdin_read.exit_code, 0) << stdin_read.err;
  EXPECT_NE(stdin_read.out.find("\"cross_rank\""), std::string::npos);
  fs::remove(path);
  fs::remove(summary);
}

TEST(NsysReader, NoGpuActivityIsATraceThatSaysSo) {
  const std::string path = TempPath("nvtx_only");
  {
    NsysExportMaker m(path);
    m.Nvtx(5, 5, 100, 900, kPushPop, "inference");
    m.Nvtx(6, 6, 100, 900, kPushPop, "other process");
  }
  auto read = ReadTraceFileRanks(path);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_EQ(read->size(), 1u) << "every process in one trace";
  const Trace& t = read->front();
  EXPECT_EQ(t.host_slices().size(), 2u);
  bool said = false;
  for (const std::string& w : t.stats().warnings)
    said = said || w.find("no CUDA activity recorded") != std::string::npos;
  EXPECT_TRUE(said);
  auto a = AnalyzeTrace(t, {});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_gpu_activity);
  const auto r = test::RunCommand(test::Teye() + " analyze " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no CUDA activity recorded"), std::string::npos) << r.out;
  fs::remove(path);
}

// Bad input: one line naming the file, from the CLI (exit 2) and from the library. The CLI goes
// first: a process that closes any descriptor of a file drops its own POSIX locks on it, and the
// locked-file test holds its lock in this process.
void ExpectRefused(const std::string& path, std::string_view expect) {
  const auto r = test::RunCommand(test::Teye() + " analyze " + path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(r.crashed);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  auto read = ReadTraceFileRanks(path);
  ASSERT_FALSE(read.ok()) << path;
  const std::string line = read.error().ToString();
  EXPECT_NE(line.find(expect), std::string::npos) << line;
  EXPECT_NE(line.find(path), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST(NsysReader, AnSqliteDatabaseThatIsNoExportIsRefused) {
  const std::string path = TempPath("not_nsys");
  {
    NsysExportMaker m(path, /*tables=*/false);
    m.Exec("DROP TABLE StringIds");
    m.Exec("CREATE TABLE customers (id INTEGER, name TEXT)");
  }
  ExpectRefused(path, "not an Nsight Systems export");
  {
    NsysExportMaker m(path, /*tables=*/false);
    m.String("x");
  }
  ExpectRefused(path, "without CUDA, NVTX or OS runtime tables");
  {
    NsysExportMaker m(path, /*tables=*/false);
    m.Exec("CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (begin INTEGER, finish INTEGER)");
  }
  ExpectRefused(path, "has no column 'start'");
  fs::remove(path);
}

TEST(NsysReader, TruncatedFileIsRefused) {
  const std::string path = TempPath("cut");
  {
    NsysExportMaker m(path);
    for (int i = 0; i < 2000; ++i)
      m.Kernel(1, 0, 7, i * 10, i * 10 + 5, i, "kernel_with_a_long_name_" + std::to_string(i));
  }
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 8192u);
  fs::resize_file(path, size / 2);
  ExpectRefused(path, "cut short");
  fs::resize_file(path, size / 2 - 100);  // inside a page
  ExpectRefused(path, "cut short");
  fs::resize_file(path, 40);
  ExpectRefused(path, "too short");
  fs::remove(path);
}

// Garbage over pages in the middle (a damaged copy): an error of one line or what could be
// read, never a crash (run under ASan by `make test-asan`).
TEST(NsysReader, DamagedPagesAreAnErrorNeverACrash) {
  const std::string path = TempPath("damaged");
  {
    NsysExportMaker m(path);
    for (int i = 0; i < 2000; ++i) {
      m.Kernel(1, 0, 7, i * 10, i * 10 + 5, i, "kernel_" + std::to_string(i % 50));
      m.Nvtx(1, 1, i * 10, i * 10 + 8, kPushPop, "range_" + std::to_string(i % 30));
    }
  }
  const std::string good = Slurp(path);
  for (size_t at : {good.size() / 3, good.size() / 2, good.size() - 5000}) {
    std::string bad = good;
    for (size_t i = at; i < at + 3000 && i < bad.size(); ++i)
      bad[i] = static_cast<char>((i * 131) ^ 0x5a);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    auto read = ReadTraceFileRanks(path);
    if (!read.ok()) {
      EXPECT_EQ(read.error().ToString().find('\n'), std::string::npos);
      continue;
    }
    for (const Trace& t : read.value())
      EXPECT_TRUE(AnalyzeTrace(t, {}).ok());
  }
  fs::remove(path);
}

TEST(NsysReader, LockedFileIsRefusedWithoutWaiting) {
  const std::string path = TempPath("locked");
  WriteOneProcess(path);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  ExpectRefused(path, "locked");
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  EXPECT_TRUE(ReadTraceFileRanks(path).ok()) << "readable once the writer is done";
  fs::remove(path);
}

}  // namespace
}  // namespace teye
