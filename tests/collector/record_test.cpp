// `teye record -- <program>` end to end, then `teye analyze` on what it wrote.
#include "collector_test_util.h"

namespace teye::test {
namespace {

std::map<std::string, std::string> RecordEnv() {
  return {{"TEYE_COLLECTOR_LIB", TEYE_COLLECTOR_LIB}, {"TEYE_SAMPLE_MS", "20"}};
}

TEST(TeyeRecord, RecordsEveryProcessAndPassesTheExitCodeThrough) {
  TempDir dir;
  WriteFile(dir / "a.bin", std::string(50000, 'a'));
  WriteFile(dir / "w0.bin", std::string(3000, 'w'));
  WriteFile(dir / "w1.bin", std::string(4000, 'w'));
  const std::string out = dir / "run";
  ProcessResult r =
      RunProgram({TEYE_BINARY, "record", "-o", out, "--", TEYE_IO_PROGRAM, "fork", dir.path(), "2"},
                 RecordEnv(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "parent read 50000\n");  // the job's own output, untouched
  EXPECT_NE(r.err.find("3 traces in " + out), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("teye: next: teye analyze"), std::string::npos);
  const auto traces = ListDir(out, ".pt.trace.json");
  ASSERT_EQ(traces.size(), 3u);

  // The environment it set up: NVTX/CUDA injection and the NCCL plugin point at the collector.
  for (const std::string& path : traces) {
    nlohmann::json t = LoadJson(path);
    EXPECT_EQ(t["teye"]["complete"], true);
  }

  // teye analyze reads each of them.
  for (const std::string& path : traces) {
    ProcessResult a = RunProgram({TEYE_BINARY, "analyze", "--format", "json", path});
    EXPECT_EQ(a.exit_code, 0) << a.err;
    nlohmann::json report = nlohmann::json::parse(a.out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << a.out.substr(0, 200);
    EXPECT_EQ(report["schema"], "teye.report/1");
  }
  ProcessResult text = RunProgram({TEYE_BINARY, "analyze", traces[0]});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("teye collector trace"), std::string::npos) << text.out;
}

TEST(TeyeRecord, FailingAndMissingCommands) {
  TempDir dir;
  ProcessResult bad = RunProgram(
      {TEYE_BINARY, "record", "-o", dir / "a", "--", TEYE_IO_PROGRAM, "no-such-mode", dir.path()},
      RecordEnv(), CollectorUnset());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown mode no-such-mode"), std::string::npos);
  ProcessResult missing =
      RunProgram({TEYE_BINARY, "record", "-o", dir / "b", "--", "/nonexistent/program"},
                 RecordEnv(), CollectorUnset());
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run /nonexistent/program"), std::string::npos);
  ProcessResult none = RunProgram({TEYE_BINARY, "record"}, RecordEnv(), CollectorUnset());
  EXPECT_EQ(none.exit_code, 2);
}

TEST(TeyeRecord, BadOptionsAndFoldersSayWhyInOneLine) {
  TempDir dir;
  ProcessResult negative = RunProgram({TEYE_BINARY, "record", "-o", dir / "a", "--duration", "-1",
                                       "--", TEYE_IO_PROGRAM, "read", dir.path()},
                                      RecordEnv(), CollectorUnset());
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.err.find("--duration: expected a number of seconds >= 0, got '-1'"),
            std::string::npos)
      << negative.err;
  WriteFile(dir / "a-file", "");
  ProcessResult folder = RunProgram({TEYE_BINARY, "record", "-o", dir / "a-file/traces", "--",
                                     TEYE_IO_PROGRAM, "read", dir.path()},
                                    RecordEnv(), CollectorUnset());
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_NE(folder.err.find("cannot create the output directory " + dir / "a-file/traces" +
                            ": Not a directory"),
            std::string::npos)
      << folder.err;
}

TEST(TeyeRecord, SmallTracesShowTheirSizeInKilobytes) {
  TempDir dir;
  WriteFile(dir / "a.bin", std::string(1000, 'a'));
  const std::string out = dir / "run";
  ProcessResult r = RunProgram({TEYE_BINARY, "record", "-o", out, "--sample-ms", "0", "--",
                                TEYE_IO_PROGRAM, "read", dir.path()},
                               RecordEnv(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto traces = ListDir(out, ".pt.trace.json");
  ASSERT_EQ(traces.size(), 1u);
  const size_t bytes = ReadFile(traces[0]).size();
  ASSERT_LT(bytes, 100'000u);
  EXPECT_EQ(r.err.find("(0.0 MB)"), std::string::npos) << r.err;
  // kB rounded to the nearest (either way at exactly half).
  auto shown = [](size_t kb) {
    std::string text = "(";  // built in steps: GCC 12 warns (-Wrestrict) on "(" + string + "..."
    text += std::to_string(kb);
    text += " kB)";
    return text;
  };
  if (bytes >= 1000) {
    const bool near = r.err.find(shown((bytes + 500) / 1000)) != std::string::npos ||
                      (bytes % 1000 == 500 && r.err.find(shown(bytes / 1000)) != std::string::npos);
    EXPECT_TRUE(near) << r.err << " for " << bytes << " bytes";
  } else {
    std::string text = "(";
    text += std::to_string(bytes);
    text += " bytes)";
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  }
}

TEST(TeyeRecord, KilledCommandReportsTheSignal) {
  TempDir dir;
  WriteFile(dir / "a.bin", std::string(1000, 'a'));
  Process p({TEYE_BINARY, "record", "-o", dir / "run", "--", TEYE_IO_PROGRAM, "loop", dir.path()},
            RecordEnv(), CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(p.pid(), SIGTERM);  // to teye: passed on to the job
  ProcessResult r = p.Wait(30);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("killed by signal 15"), std::string::npos);
  EXPECT_EQ(ListDir(dir / "run", ".pt.trace.json").size(), 1u);
}

TEST(TeyeRecord, NoIoAndDuration) {
  TempDir dir;
  WriteFile(dir / "a.bin", std::string(1000, 'a'));
  ProcessResult r = RunProgram({TEYE_BINARY, "record", "-o", dir / "run", "--no-io", "--",
                                TEYE_IO_PROGRAM, "read", dir.path()},
                               RecordEnv(), CollectorUnset());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ListDir(dir / "run", ".json").empty()) << "nothing else to record: no file";

  Process p({TEYE_BINARY, "record", "-o", dir / "window", "--duration", "0.3", "--",
             TEYE_IO_PROGRAM, "loop", dir.path()},
            RecordEnv(), CollectorUnset());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  // The trace is whole once the window closes, while the job still runs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ListDir(dir / "window", ".pt.trace.json").empty() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto traces = ListDir(dir / "window", ".pt.trace.json");
  ASSERT_EQ(traces.size(), 1u);
  nlohmann::json t = LoadJson(traces[0]);
  EXPECT_EQ(t["teye"]["end_reason"], "duration");
  ::kill(p.pid(), SIGTERM);  // teye passes it on; the job ends
  EXPECT_EQ(p.Wait(30).exit_code, 128 + SIGTERM);
}

}  // namespace
}  // namespace teye::test
