// What the reports do with what they print: notes wrapped, never cut; a trace's strings unable to
// drive the terminal or open HTML tags in Markdown; analytic savings marked as such.
#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/reports/format.h"
#include "teye/reports/markdown_writer.h"
#include "teye/reports/text_writer.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

Report ReportOf(const Trace& trace) {
  auto a = AnalyzeTrace(trace, {});
  if (!a.ok()) throw std::runtime_error(a.error().ToString());
  Report r;
  r.teye_version = "test";
  r.ranks.push_back(std::move(a.value()));
  return r;
}

// Every ESC in `text` starts an SGR colour sequence.
bool OnlyColourEscapes(const std::string& text) {
  for (size_t i = text.find('\x1b'); i != std::string::npos; i = text.find('\x1b', i + 1)) {
    if (i + 1 >= text.size() || text[i + 1] != '[') return false;
    const size_t m = text.find_first_not_of("0123456789;", i + 2);
    if (m == std::string::npos || text[m] != 'm') return false;
  }
  return true;
}

TEST(TextReport, TraceStringsCannotDriveTheTerminal) {
  TraceMaker m;
  m.Host("user_annotation", "ProfilerStep#1", 0, 1000)
      .Host("user_annotation", "ProfilerStep#2", 1000, 1000)
      // A kernel name that would set the window title and clear the screen, and an op name with
      // a bell and a C1 CSI.
      .Kernel("evil\\u001b]0;pwned\\u0007\\u001b[2Jkernel", 100, 800, 50)
      .Kernel("evil\\u001b]0;pwned\\u0007\\u001b[2Jkernel", 1100, 800, 1050)
      .Host("cpu_op", "op\\u0007\\u009b31m", 1900, 50);
  const Report report = ReportOf(m.Build());
  for (bool color : {false, true}) {
    TextOptions o;
    o.color = color;
    const std::string text = WriteTextReport(report, o);
    EXPECT_NE(text.find("evil"), std::string::npos);
    EXPECT_EQ(text.find('\a'), std::string::npos);
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
    EXPECT_EQ(text.find("pwned"), std::string::npos);  // the OSC went whole
    if (color)
      EXPECT_TRUE(OnlyColourEscapes(text));
    else
      EXPECT_EQ(text.find('\x1b'), std::string::npos);
  }
}

TEST(TextReport, NotesWrapAtTheWidthAndAreNeverCut) {
  // No GPU: the report's note explains what the verdict is based on, in one long sentence.
  TraceMaker m;
  for (int s = 0; s < 3; ++s)
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(s), s * 100.0, 100)
        .Host("cpu_op", "aten::mm", s * 100.0 + 10, 80);
  const Report report = ReportOf(m.Build());
  const std::string& note = report.ranks[0].notes.at(0);
  ASSERT_GT(note.size(), 200u);
  for (int width : {80, 100, 220}) {
    TextOptions o;
    o.width = width;
    const std::string text = WriteTextReport(report, o);
    const size_t at = text.find("NOTES");
    ASSERT_NE(at, std::string::npos);
    // The note's words, in order, with line breaks and indents between them.
    std::string joined, word;
    for (size_t i = at + 5; i < text.size(); ++i) {
      if (text[i] == ' ' || text[i] == '\n') {
        if (!word.empty()) joined += (joined.empty() ? "" : " ") + word;
        word.clear();
      } else {
        word += text[i];
      }
    }
    EXPECT_NE(joined.find(note), std::string::npos) << "width " << width << ":\n" << text;
    for (size_t line = text.find('\n', at), next; line != std::string::npos; line = next) {
      next = text.find('\n', line + 1);
      const std::string l = text.substr(line + 1, next == std::string::npos ? 0 : next - line - 1);
      EXPECT_LE(l.size(), static_cast<size_t>(width)) << l;
    }
  }
}

TEST(TerminalSafe, KeepsColoursOnlyWhenAsked) {
  EXPECT_EQ(TerminalSafe("\x1b[1mbold\x1b[0m\ttab\nline", true), "\x1b[1mbold\x1b[0m tab\nline");
  EXPECT_EQ(TerminalSafe("\x1b[1mbold\x1b[0m", false), "bold");
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb\x1b]8;;http://x\x1b\\c\x7f\x01", true), "abc");
  EXPECT_EQ(TerminalSafe("µs — ok", false), "µs — ok");  // UTF-8 text is untouched
}

TEST(MarkdownReport, CellsEscapeTagsAndPipes) {
  EXPECT_EQ(MarkdownCell("<script>|x`"), "&lt;script&gt;\\|x'");
  EXPECT_EQ(MarkdownCodeCell("kernel<float>|x"), "kernel<float>\\|x");  // in a code span
}

}  // namespace
}  // namespace teye
