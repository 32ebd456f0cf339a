// Every Nsight Systems export in ../shared/traces/nsys (four schema generations, 2021 to 2025)
// against numbers the test computes itself with SQL on the export's own tables: kernel count and
// total kernel time per device, memcpy count and bytes per copy kind, memset count, NVTX range
// count, and GPU utilization as the union of kernel intervals over the kernels' span (the union
// is taken here, from the rows SQL returns, not by teye's interval code). Then `teye analyze`,
// `gate` and `diff` run on each. Skipped, with a message, when the folder is absent.
#include <algorithm>
#include <filesystem>
#include <map>
#include <sqlite3.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "teye/analyzers/analysis.h"
#include "teye/analyzers/gpu_timeline.h"
#include "teye/import/read_trace.h"

#include "run_command.h"

namespace teye {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(TEYE_SHARED_TRACES) / "nsys";

std::vector<std::string> Exports() {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(kRoot, ec)) return {""};  // one test that reports the skip
  for (const auto& e : fs::directory_iterator(kRoot, ec))
    if (e.path().extension() == ".sqlite") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

// The export opened with SQLite directly: the test's own route to the numbers.
class Sql {
 public:
  explicit Sql(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  }
  ~Sql() { sqlite3_close(db_); }
  bool HasTable(const std::string& table) {
    return !Rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'")
                .empty();
  }
  // Every row as integers.
  std::vector<std::vector<int64_t>> Rows(const std::string& sql) {
    std::vector<std::vector<int64_t>> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<int64_t> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c)
        row.push_back(sqlite3_column_int64(stmt, c));
      out.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class NsysCorpus : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam().empty())
      GTEST_SKIP() << kRoot << " is absent: no Nsight Systems exports to test";
    path_ = (kRoot / GetParam()).string();
  }
  std::string path_;
};

TEST_P(NsysCorpus, MatchesSqlOnTheExportsOwnTables) {
  auto read = ReadTraceFileRanks(path_);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  const TraceSet& ranks = read.value();
  Sql sql(path_);

  // Kernels per device: count and total time, to the nanosecond.
  std::map<int64_t, std::pair<int64_t, int64_t>> kernels_sql, kernels_teye;
  if (sql.HasTable("CUPTI_ACTIVITY_KIND_KERNEL"))
    for (const auto& r : sql.Rows("SELECT deviceId, COUNT(*), SUM(\"end\" - start) FROM "
                                  "CUPTI_ACTIVITY_KIND_KERNEL GROUP BY deviceId"))
      kernels_sql[r[0]] = {r[1], r[2]};
  // Copies per kind: CUPTI's memcpy kinds as the schema reference lists them.
  const std::map<int64_t, std::string> kCopyKinds = {
      {1, "HtoD"}, {2, "DtoH"}, {8, "DtoD"}, {9, "HtoH"}, {10, "PtoP"}};
  std::map<std::string, std::pair<int64_t, int64_t>> copies_sql, copies_teye;
  if (sql.HasTable("CUPTI_ACTIVITY_KIND_MEMCPY"))
    for (const auto& r : sql.Rows("SELECT copyKind, COUNT(*), SUM(bytes) FROM "
                                  "CUPTI_ACTIVITY_KIND_MEMCPY GROUP BY copyKind"))
      copies_sql[kCopyKinds.count(r[0]) ? kCopyKinds.at(r[0]) : "unknown"] = {r[1], r[2]};
  int64_t memsets_sql = 0, memsets_teye = 0;
  if (sql.HasTable("CUPTI_ACTIVITY_KIND_MEMSET"))
    memsets_sql = sql.Rows("SELECT COUNT(*) FROM CUPTI_ACTIVITY_KIND_MEMSET")[0][0];
  // NVTX ranges: push/pop (59) and start/end (60), by ENUM_NSYS_EVENT_TYPE.
  int64_t ranges_sql = 0, ranges_teye = 0;
  if (sql.HasTable("NVTX_EVENTS"))
    ranges_sql = sql.Rows("SELECT COUNT(*) FROM NVTX_EVENTS WHERE eventType IN (59, 60)")[0][0];

  for (const Trace& t : ranks) {
    EXPECT_EQ(t.stats().TotalLost(), 0) << "rows lost reading a real export";
    const GpuOpTable& g = t.gpu_ops();
    for (size_t i = 0; i < g.size(); ++i) {
      if (g.kind[i] == GpuOpKind::kKernel) {
        kernels_teye[g.device[i]].first++;
        kernels_teye[g.device[i]].second += g.duration(i);
      } else if (g.kind[i] == GpuOpKind::kMemcpy) {
        auto& c = copies_teye[std::string(ToString(g.copy_kind[i]))];
        c.first++;
        c.second += g.bytes[i];
      } else if (g.kind[i] == GpuOpKind::kMemset) {
        ++memsets_teye;
      }
    }
    for (size_t i = 0; i < t.host_slices().size(); ++i)
      ranges_teye += t.str(t.host_slices().category[i]) == "nvtx";
  }
  EXPECT_EQ(kernels_teye, kernels_sql);
  EXPECT_EQ(copies_teye, copies_sql);
  EXPECT_EQ(memsets_teye, memsets_sql);
  EXPECT_EQ(ranges_teye, ranges_sql);

  // GPU utilization over the kernels' span, per device: the union taken here from sorted rows.
  for (const auto& [device, counts] : kernels_sql) {
    const auto rows =
        sql.Rows("SELECT start, \"end\" FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE deviceId = " +
                 std::to_string(device) + " ORDER BY start");
    int64_t covered = 0, reach = rows.front()[0], span_end = 0;
    for (const auto& r : rows) {
      covered += std::max<int64_t>(0, r[1] - std::max(r[0], reach));
      reach = std::max(reach, r[1]);
      span_end = std::max(span_end, r[1]);
    }
    const double expected =
        100.0 * static_cast<double>(covered) / static_cast<double>(span_end - rows.front()[0]);
    bool found = false;
    for (const Trace& t : ranks) {
      KernelClassifier classifier;
      for (const DeviceTimeline& tl : BuildDeviceTimelines(t, classifier.ClassifyTrace(t))) {
        if (tl.device != device || tl.kernels.empty()) continue;
        const auto& k = tl.kernels.intervals();
        const double teye_util = 100.0 * static_cast<double>(tl.kernels.Length()) /
                                 static_cast<double>(k.back().end - k.front().start);
        EXPECT_NEAR(teye_util, expected, 0.01) << "device " << device;
        found = true;
      }
    }
    EXPECT_TRUE(found) << "device " << device << " has kernels in SQL but not in teye";
  }

  // Every rank analyses; an export without kernels says so.
  for (const Trace& t : ranks) {
    auto a = AnalyzeTrace(t, {});
    ASSERT_TRUE(a.ok()) << a.error().ToString();
    EXPECT_EQ(a->has_gpu_activity, !kernels_sql.empty() || !copies_sql.empty());
  }
}

TEST_P(NsysCorpus, AnalyzeGateAndDiffRun) {
  const auto text = test::RunCommand(test::Teye() + " analyze " + path_);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Nsight Systems export"), std::string::npos) << text.out;

  const auto json = test::RunCommand(test::Teye() + " analyze -f json " + path_);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["schema"], "teye.report/1");
  ASSERT_GE(report["ranks"].size(), 1u);
  EXPECT_EQ(report["ranks"][0]["producer"], "nsight-systems");

  // One whole-trace step: gate judges it when told one step is enough. An export without GPU
  // activity is judged on its step time, and a GPU-utilization threshold on it is refused (exit 2,
  // one line), as for any run without a GPU.
  const bool has_gpu = report["ranks"][0]["has_gpu_activity"].get<bool>();
  const auto gate =
      test::RunCommand(test::Teye() + " gate --min-steps 1 --max-step-ms 1000000 " + path_);
  EXPECT_TRUE(gate.exit_code == 0 || gate.exit_code == 1) << gate.out << gate.err;
  EXPECT_EQ(std::count(gate.out.begin(), gate.out.end(), '\n'), 1) << gate.out;
  if (!has_gpu) {
    const auto util = test::RunCommand(test::Teye() + " gate --min-steps 1 --min-gpu-util 0.5 " +
                                       path_);
    EXPECT_EQ(util.exit_code, 2) << util.out << util.err;
    EXPECT_NE(util.out.find("no GPU activity"), std::string::npos) << util.out;
    EXPECT_EQ(std::count(util.out.begin(), util.out.end(), '\n'), 1) << util.out;
  }
  const auto refused = test::RunCommand(test::Teye() + " gate " + path_);
  EXPECT_EQ(refused.exit_code, 2) << "one step is fewer than the default --min-steps 3";

  const auto diff = test::RunCommand(test::Teye() + " diff " + path_ + " " + path_);
  EXPECT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_FALSE(diff.out.empty());
}

INSTANTIATE_TEST_SUITE_P(Exports, NsysCorpus, ::testing::ValuesIn(Exports()), [](const auto& p) {
  std::string n = p.param.empty() ? "absent" : p.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

}  // namespace
}  // namespace teye
