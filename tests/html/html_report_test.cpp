// The HTML and Markdown reports: structure, size and self-containment, and the HTML page rendered
// in headless Chromium (no console errors, recommendations table and timeline present), with a
// screenshot kept under build/test-artifacts/. Skipped when Chromium is not installed.
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "run_command.h"

namespace teye {
namespace {

const std::string kSample = std::string(TEYE_SOURCE_DIR) + "/samples/demo_train.pt.trace.json.gz";

std::string FindChromium() {
  for (const char* name :
       {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    auto r = test::RunCommand(std::string("command -v ") + name);
    if (r.exit_code == 0 && !r.out.empty()) return r.out.substr(0, r.out.find('\n'));
  }
  return {};
}

std::string Artifacts() {
  const std::string dir = TEYE_TEST_ARTIFACTS;
  EXPECT_EQ(test::RunCommand("mkdir -p " + dir).exit_code, 0);
  return dir + "/";
}

std::string RenderHtml(const std::string& trace, const std::string& out) {
  auto r = test::RunCommand(test::Teye() + " analyze -f html -o " + out + " " + trace);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return test::Slurp(out);
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1))
    ++n;
  return n;
}

TEST(HtmlReport, SelfContainedAndSmall) {
  const std::string html = RenderHtml(kSample, Artifacts() + "report_demo_static.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_LT(html.size(), 200u * 1024) << "the demo report should stay small";
  // Nothing fetched: no scripts, external styles, images, fonts or links.
  for (const char* ref : {"<script", "src=", "href=", "url(", "@import", "http://", "https://"})
    EXPECT_EQ(html.find(ref), std::string::npos) << ref;
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  for (const char* id :
       {"id=\"headline\"", "id=\"recommendations\"", "id=\"timeline\"", "id=\"breakdown\"",
        "id=\"top-kernels\"", "id=\"skipped\"", "id=\"idle-gaps\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("GPU 0 stream 7"), std::string::npos) << "a lane per CUDA stream";
  EXPECT_NE(html.find("MainThread"), std::string::npos) << "a lane per host thread";
  EXPECT_GT(Count(html, "<rect class=\"c"), 10u) << "kernels coloured by class";
  EXPECT_GT(Count(html, "<rect class=\"tinput"), 0u) << "the DataLoader wait is drawn";
  EXPECT_NE(html.find("<b>input-bound</b>"), std::string::npos) << "the demo job is input-bound";
  EXPECT_NE(html.find("rule <code>dataloader_workers</code>"), std::string::npos);
}

TEST(HtmlReport, RendersInHeadlessChromium) {
  const std::string chromium = FindChromium();
  if (chromium.empty())
    GTEST_SKIP() << "SKIPPED: chromium is not installed (apt-get install chromium)";
  const std::string dir = Artifacts();
  const std::string page = dir + "report_demo.html";
  RenderHtml(kSample, page);
  // Chromium logs every console message (errors, CSP violations, failed loads) as INFO:CONSOLE.
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "
      "--enable-logging=stderr --v=0 --window-size=1200,1800 ";
  auto dom = test::RunCommand("timeout 120 " + chromium + flags + "--dump-dom file://" + page);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_EQ(dom.err.find(":CONSOLE"), std::string::npos) << dom.err;
  EXPECT_EQ(dom.err.find("Uncaught"), std::string::npos) << dom.err;
  EXPECT_NE(dom.out.find("<table id=\"recommendations\">"), std::string::npos);
  EXPECT_NE(dom.out.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_NE(dom.out.find("What to change first"), std::string::npos);
  EXPECT_NE(dom.out.find("rule <code>dataloader_workers</code>"), std::string::npos)
      << "the recommendations table has the top recommendation";

  const std::string shot = dir + "report_demo.png";
  std::remove(shot.c_str());
  auto png = test::RunCommand("timeout 120 " + chromium + flags + "--screenshot=" + shot +
                              " file://" + page);
  ASSERT_EQ(png.exit_code, 0) << png.err;
  const std::string bytes = test::Slurp(shot);
  ASSERT_GT(bytes.size(), 10'000u) << "screenshot " << shot;
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  std::printf("screenshot: %s\n", shot.c_str());
}

// Every real trace renders, and the page stays small whatever the trace's size: the timeline is
// aggregated, never a dump of events.
TEST(HtmlReport, EveryCorpusTraceRendersSmall) {
  const std::string root = TEYE_SHARED_TRACES;
  auto list = test::RunCommand("find " + root + " -type f -name '*.json*' | sort");
  if (list.exit_code != 0 || list.out.empty()) GTEST_SKIP() << "SKIPPED: no traces in " << root;
  const std::string out =
      ::testing::TempDir() + "teye_corpus_" + std::to_string(::getpid()) + ".html";
  size_t largest = 0;
  for (size_t start = 0, end; (end = list.out.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string trace = list.out.substr(start, end - start);
    auto r = test::RunCommand(test::Teye() + " analyze -f html -o " + out + " '" + trace + "'");
    if (r.exit_code == 2) continue;  // not a trace teye reads (it says why); not this test's job
    ASSERT_EQ(r.exit_code, 0) << trace << ": " << r.err;
    const std::string html = test::Slurp(out);
    EXPECT_LT(html.size(), 512u * 1024) << trace;
    EXPECT_NE(html.find("</html>"), std::string::npos) << trace;
    largest = std::max(largest, html.size());
  }
  std::remove(out.c_str());
  std::printf("largest corpus report: %zu bytes\n", largest);
}

// A trace with recorded shapes (ResNet-50 on an H200, kept with the GPU validation data) gets the
// roofline chart: the roof and its ridge, and one dot per op of the table below it.
TEST(HtmlReport, RooflineChartDrawsTheOpsOfItsTable) {
  const std::string trace =
      std::string(TEYE_SOURCE_DIR) + "/tests/gpu/traces/amp_conv_before.pt.trace.json.gz";
  const std::string html = RenderHtml(trace, Artifacts() + "report_roofline.html");
  const size_t chart = html.find("<svg id=\"roofline\"");
  ASSERT_NE(chart, std::string::npos);
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_NE(svg.find("<polyline id=\"roof\""), std::string::npos);
  EXPECT_NE(svg.find("<line id=\"ridge\""), std::string::npos);
  EXPECT_NE(html.find("NVIDIA H200"), std::string::npos) << "the device whose roofs are drawn";
  const size_t table = html.find("<table id=\"roofline-ops\">");
  ASSERT_NE(table, std::string::npos);
  const std::string rows = html.substr(table, html.find("</table>", table) - table);
  const size_t dots = Count(svg, "<circle ");
  EXPECT_GT(dots, 5u);
  EXPECT_EQ(dots, Count(rows, "<tr>") - 1) << "one dot per op row";
}

TEST(MarkdownReport, ShortEnoughForAPullRequestComment) {
  auto r = test::RunCommand(test::Teye() + " analyze -f markdown " + kSample);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.out.size(), 4000u);
  EXPECT_LT(Count(r.out, "\n"), 45u);
  EXPECT_NE(r.out.find("GPU utilization"), std::string::npos);
  EXPECT_NE(r.out.find("| where a step goes |"), std::string::npos);
  EXPECT_NE(r.out.find("**input-bound**"), std::string::npos);
  EXPECT_NE(r.out.find("| 1 | **"), std::string::npos) << "the top recommendation";
}

}  // namespace
}  // namespace teye
