// Where and how the collector creates its files: never through a link someone left at the
// predictable name, never over an earlier trace, in the folder the job was started with even
// after it changes directory, and with the real reason when the folder cannot be made.
#include "trace_file.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <climits>

#include "clock.h"
#include "collector.h"
#include "collector_test_util.h"

namespace teye::collector {
namespace {

using teye::test::ListDir;
using teye::test::LoadJson;
using teye::test::ReadFile;
using teye::test::TempDir;
using teye::test::WriteFile;

// A collector writing into `dir`, one range recorded, finished; returns the final path.
std::string RecordOnce(const std::string& dir) {
  TickClock::Init("auto");
  Config config;
  config.output_dir = dir;
  config.quiet = true;
  ProcessIdentity id = ProcessIdentity::Current();
  id.host = "testhost";
  Collector c(config, id);
  c.Start(/*background=*/false);
  ThreadState* ts = c.Thread();
  const size_t size = RecordSize(sizeof(RangeRecord) + 1);
  auto* r = static_cast<RangeRecord*>(c.Begin(ts, RecordType::kRange, size, ts->tid, kFlagTimeNs));
  if (!r) return {};
  std::memset(reinterpret_cast<char*>(r) + sizeof(RecordHeader), 0,
              sizeof(RangeRecord) - sizeof(RecordHeader));
  r->start = 1'700'000'000'000'000'000;
  r->end = r->start + 1000;
  r->category = RangeCategory::kUserAnnotation;
  r->name_len = 1;
  r->rank = -1;
  *reinterpret_cast<char*>(r + 1) = 'x';
  c.Commit(ts, size);
  c.Finish("test");
  return c.final_path();
}

std::string OwnName() {
  return "testhost." + std::to_string(::getpid()) + ".pt.trace.json";
}

TEST(CollectorFiles, ALinkAtThePredictableNameIsNeverFollowed) {
  TempDir dir;
  const std::string victim = dir / "victim";
  WriteFile(victim, "keep");
  ASSERT_EQ(::symlink(victim.c_str(), (dir / (OwnName() + ".partial")).c_str()), 0);
  const std::string path = RecordOnce(dir.path());
  EXPECT_EQ(ReadFile(victim), "keep");
  EXPECT_EQ(path, dir / OwnName());
  EXPECT_EQ(LoadJson(path)["teye"]["complete"], true);
}

TEST(CollectorFiles, AnEarlierTraceWithTheSameNameIsKept) {
  TempDir dir;
  WriteFile(dir / OwnName(), "an earlier run");
  const std::string path = RecordOnce(dir.path());
  EXPECT_EQ(ReadFile(dir / OwnName()), "an earlier run");
  EXPECT_EQ(path, dir / ("testhost." + std::to_string(::getpid()) + ".2.pt.trace.json"));
  EXPECT_EQ(LoadJson(path)["teye"]["complete"], true);
  EXPECT_TRUE(ListDir(dir.path(), ".partial").empty());
}

TEST(CollectorFiles, ARelativeFolderIsTheOneTheJobStartedIn) {
  TempDir dir;
  const std::string elsewhere = dir / "elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  TickClock::Init("auto");
  Config config;
  config.output_dir = "traces";
  config.quiet = true;
  auto c = std::make_unique<Collector>(config, ProcessIdentity::Current());
  ASSERT_EQ(::chdir(elsewhere.c_str()), 0);  // the job moves after the collector started
  EXPECT_EQ(c->config().output_dir, dir / "traces");
  c.reset();
  ASSERT_EQ(::chdir(cwd), 0);
}

TEST(CollectorFiles, AFolderThatCannotBeMadeSaysWhy) {
  TempDir dir;
  WriteFile(dir / "a-file", "");
  TraceFile file;
  EXPECT_FALSE(file.Create(dir / "a-file/traces", OwnName()));
  EXPECT_EQ(file.error(), ENOTDIR) << std::strerror(file.error());
}

TEST(CollectorFiles, NumberedNames) {
  EXPECT_EQ(NumberedTraceName("h.12.pt.trace.json", 1), "h.12.pt.trace.json");
  EXPECT_EQ(NumberedTraceName("h.12.pt.trace.json", 3), "h.12.3.pt.trace.json");
  EXPECT_EQ(NumberedTraceName("rank1.h.12.pt.trace.json", 2), "rank1.h.12.2.pt.trace.json");
}

}  // namespace
}  // namespace teye::collector
