// Every real trace in ../shared/traces reads and analyses without error, and the HTA-compatible
// temporal breakdown is within 1.0 percentage point of what HTA itself reports
// (hta_temporal_oracle.csv). Skipped, with a message, when the folder is absent.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/text_writer.h"

#include "run_command.h"

namespace teye {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = TEYE_SHARED_TRACES;

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(kRoot, ec)) return files;
  for (const auto& e : fs::recursive_directory_iterator(kRoot, ec)) {
    const std::string p = e.path().string();
    if (e.is_regular_file() && (p.ends_with(".json") || p.ends_with(".json.gz")))
      files.push_back(fs::relative(e.path(), kRoot).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct OracleRow {
  bool error = false;
  double idle = 0, compute = 0, non_compute = 0;
};

std::map<std::string, OracleRow> LoadOracle() {
  std::map<std::string, OracleRow> rows;
  std::ifstream in(kRoot / "hta_temporal_oracle.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, ','))
      cols.push_back(col);
    if (cols.size() < 2) continue;
    std::string key = cols[0].starts_with("./") ? cols[0].substr(2) : cols[0];
    OracleRow row;
    if (cols[1] == "ERROR" || cols.size() < 5) {
      row.error = true;
    } else {
      row.idle = std::stod(cols[2]);
      row.compute = std::stod(cols[3]);
      row.non_compute = std::stod(cols[4]);
    }
    rows[key] = row;
  }
  return rows;
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, AnalyzesAndMatchesHta) {
  if (GetParam().empty()) GTEST_SKIP() << kRoot << " is absent: no corpus to test";
  const std::string path = (kRoot / GetParam()).string();
  auto trace = ReadTraceFile(path);
  ASSERT_TRUE(trace.ok()) << trace.error().ToString();
  auto analysis = AnalyzeTrace(trace.value(), {});
  ASSERT_TRUE(analysis.ok()) << analysis.error().ToString();
  const TraceAnalysis& a = analysis.value();
  EXPECT_EQ(a.read.TotalLost(), 0) << "events lost reading a real trace";

  Report report;
  report.teye_version = "corpus";
  report.ranks.push_back(a);
  EXPECT_FALSE(WriteJsonReport(report).empty());
  const std::string text = WriteTextReport(report);
  if (!a.has_gpu_activity) {
    EXPECT_NE(text.find("no GPU activity"), std::string::npos) << text;
  }
  // A GPU trace with complete steps gets a bound class with its shares and the rules' verdict.
  if (a.has_gpu_activity && a.complete_steps > 0) {
    EXPECT_TRUE(a.bound.valid);
    double total = a.bound.run.shares.unassigned;
    for (double share : a.bound.run.shares.share)
      total += share;
    EXPECT_NEAR(total, 1.0, 0.01) << "bound shares must cover the step";
    EXPECT_NE(text.find("BOUND"), std::string::npos);
    EXPECT_NE(text.find("DO THIS FIRST"), std::string::npos);
    for (const Recommendation& r : a.recommendations) {
      EXPECT_GE(r.saving_ms, 0) << r.id;
      EXPECT_FALSE(r.evidence.empty()) << r.id;
    }
  }

  static const auto oracle = LoadOracle();
  auto it = oracle.find(GetParam());
  ASSERT_NE(it, oracle.end()) << "no oracle row for " << GetParam();
  if (it->second.error) return;  // HTA cannot read this one; teye must still report it
  ASSERT_TRUE(a.temporal.has_gpu_events);
  EXPECT_NEAR(a.temporal.idle_pct, it->second.idle, 1.0);
  EXPECT_NEAR(a.temporal.compute_pct, it->second.compute, 1.0);
  EXPECT_NEAR(a.temporal.non_compute_pct, it->second.non_compute, 1.0);
}

std::vector<std::string> Params() {
  auto files = CorpusFiles();
  if (files.empty()) files.push_back("");  // one test that reports the skip
  return files;
}

INSTANTIATE_TEST_SUITE_P(Traces, Corpus, ::testing::ValuesIn(Params()), [](const auto& p) {
  std::string n = p.param.empty() ? std::string("absent") : p.param;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

// The CLI exits 0 with a report on every corpus file.
TEST(CorpusCli, EveryFileGetsAReport) {
  auto files = CorpusFiles();
  if (files.empty()) GTEST_SKIP() << kRoot << " is absent: no corpus to test";
  for (const auto& f : files) {
    auto r =
        test::RunCommand(test::Teye() + " analyze --color never '" + (kRoot / f).string() + "'");
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.err;
    EXPECT_NE(r.out.find("STEPS"), std::string::npos) << f;
  }
}

}  // namespace
}  // namespace teye
