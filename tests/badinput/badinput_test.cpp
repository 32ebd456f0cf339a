// Bad input never crashes or hangs the reader: it is an error (exit 2 at the CLI) or a partial
// trace that says what was skipped. Run under AddressSanitizer by `make test-asan`.
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/reports/json_writer.h"
#include "teye/reports/text_writer.h"
#include "teye/synth/synth.h"

#include "run_command.h"

namespace teye {
namespace {

// Reads, and when the read succeeds analyses and renders, as the CLI would.
void ReadAnalyzeRender(std::string_view bytes, size_t chunk = 1 << 20) {
  ReadOptions o;
  o.chunk_bytes = chunk;
  auto trace = ReadTraceBytes("bad.json", bytes, o);
  if (!trace.ok()) {
    EXPECT_FALSE(trace.error().message.empty());
    return;
  }
  auto analysis = AnalyzeTrace(trace.value(), {});
  ASSERT_TRUE(analysis.ok());
  Report report;
  report.ranks.push_back(std::move(analysis.value()));
  EXPECT_FALSE(WriteJsonReport(report).empty());
  EXPECT_FALSE(WriteTextReport(report).empty());
}

std::string DemoTrace() {
  auto knobs = synth::ScenarioKnobs("demo", 1);
  knobs.value().steps = 3;
  std::ostringstream text;
  synth::Simulate(knobs.value(), text);
  return text.str();
}

TEST(BadInput, EmptyWhitespaceAndRandomBytes) {
  ReadAnalyzeRender("");
  ReadAnalyzeRender("\n\t  ");
  std::mt19937_64 rng(42);
  for (size_t size : {1u, 2u, 17u, 4096u, 1u << 20}) {
    std::string bytes(size, '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng());
    ReadAnalyzeRender(bytes);
    bytes[0] = '{';  // looks like JSON, is not
    ReadAnalyzeRender(bytes);
    bytes[0] = '[';
    ReadAnalyzeRender(bytes, 256);
    bytes[0] = '\x1f';  // looks like gzip, is not
    bytes[1 % size] = '\x8b';
    ReadAnalyzeRender(bytes);
  }
}

TEST(BadInput, JsonThatIsNotATrace) {
  for (const char* text : {"null", "true", "42", "\"trace\"", "{}", "[]", "{\"traceEvents\":{}}",
                           "{\"traceEvents\":[[[]]]}", "[{}, {}, {}]", "{\"a\":[1,2,{\"b\":3}]}",
                           "{\"traceEvents\": [{\"ph\": \"X\"}]}", "[\"X\"]"}) {
    ReadAnalyzeRender(text);
  }
}

TEST(BadInput, TraceCutAtFiftyRandomOffsets) {
  const std::string full = DemoTrace();
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> offset(0, full.size());
  for (int i = 0; i < 50; ++i) {
    const size_t cut = offset(rng);
    ReadOptions o;
    o.chunk_bytes = 4096;
    auto trace = ReadTraceBytes("cut.json", std::string_view(full).substr(0, cut), o);
    if (trace.ok()) {
      EXPECT_TRUE(trace->stats().truncated || cut == full.size()) << "cut at " << cut;
      ReadAnalyzeRender(std::string_view(full).substr(0, cut), 4096);
    }
  }
}

TEST(BadInput, DeepNestingAndHugeStrings) {
  std::string deep =
      R"({"traceEvents":[{"ph":"X","cat":"cpu_op","name":"a","ts":1,"dur":1,"args":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}]}";
  ReadAnalyzeRender(deep);
  ReadAnalyzeRender(std::string(1000000, '['));
  ReadAnalyzeRender(std::string(1000000, '{'));
  std::string huge = R"({"traceEvents":[{"ph":"X","cat":"kernel","name":")" +
                     std::string(16 << 20, 'n') + R"(","ts":1,"dur":1,"args":{"stream":7}}]})";
  ReadAnalyzeRender(huge);
  ReadAnalyzeRender(std::string(R"({"traceEvents":[{"ph":"X","name":")") +
                    std::string(1 << 20, 'x'));
}

TEST(BadInput, HostileValues) {
  ReadAnalyzeRender(R"({"traceEvents":[
    {"ph":"X","cat":"kernel","name":"\u0000\uffff\ud800","ts":1e308,"dur":1e308},
    {"ph":"X","cat":"kernel","name":"k","ts":-9223372036854775808,"dur":9223372036854775807},
    {"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,"args":{"grid":[99999,99999,99999],"block":"x"}},
    {"ph":"B","name":"unclosed","pid":1,"tid":1,"ts":5},
    {"ph":"E","pid":1,"tid":2,"ts":6},
    {"ph":"X","cat":"cpu_op","name":"\xff\xfe invalid utf8","pid":1,"tid":1,"ts":1,"dur":1},
    {"ph":"X","ph":"B","ts":1,"ts":2,"name":"dup keys","pid":1,"tid":1,"dur":1},
    {"ph":"C","name":"c","pid":1,"ts":1,"args":{"v":1e999}},
    {"ph":"X","cat":"cpu_op","name":"ok","pid":1,"tid":1,"ts":1,"dur":1}
  ]})");
}

TEST(BadInput, CliExitsTwoWithOneLine) {
  const std::string dir = ::testing::TempDir();
  struct Case {
    std::string name;
    std::string content;
  };
  const Case cases[] = {{"empty.json", ""},
                        {"random.bin", "\x13\x37\xca\xfe\x00\x01"},
                        {"notatrace.json", "{\"hello\": \"world\"}"}};
  for (const Case& c : cases) {
    const std::string path = dir + c.name;
    { std::ofstream(path, std::ios::binary) << c.content; }
    auto r = test::RunCommand(test::Teye() + " analyze '" + path + "'");
    EXPECT_EQ(r.exit_code, 2) << c.name;
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.name), std::string::npos) << r.err;
  }
  auto missing = test::RunCommand(test::Teye() + " analyze /nonexistent/trace.json");
  EXPECT_EQ(missing.exit_code, 2);
  auto usage = test::RunCommand(test::Teye() + " analyze --no-such-flag x");
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace teye
