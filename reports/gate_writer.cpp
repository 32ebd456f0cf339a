#include "teye/reports/gate_writer.h"

#include <fmt/format.h>

namespace teye {
namespace {

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

// GitHub workflow commands need %, CR and LF escaped in the message; ',' and ':' in properties.
std::string GithubEscape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else if (property && c == ':')
      out += "%3A";
    else if (property && c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string GateVerdictLine(const GateResult& r) {
  if (r.verdict == GateVerdict::kRefused) return "teye gate: REFUSED: " + r.refusal;
  std::string medians = fmt::format("median step {:.2f} ms, GPU utilization {:.1f}%",
                                    r.median_step_ms, 100 * r.median_gpu_util);
  if (r.has_baseline)
    medians += fmt::format(" (baseline {:.2f} ms, {:.1f}%)", r.baseline_step_ms,
                           100 * r.baseline_gpu_util);
  if (r.verdict == GateVerdict::kPass)
    return fmt::format("teye gate: PASS ({} check{}, {} steps; {})", r.checks.size(),
                       r.checks.size() == 1 ? "" : "s", r.steps, medians);
  std::string failed;
  for (const GateCheck& c : r.checks) {
    if (c.passed) continue;
    if (!failed.empty()) failed += "; ";
    failed += c.message;
  }
  return fmt::format("teye gate: FAIL ({} of {} checks, {} steps): {}", r.Failures(),
                     r.checks.size(), r.steps, failed);
}

std::string WriteJunitXml(const GateResult& r, std::string_view subject) {
  const bool refused = r.verdict == GateVerdict::kRefused;
  const size_t tests = refused ? 1 : r.checks.size();
  const int failures = refused ? 0 : r.Failures();
  const int errors = refused ? 1 : 0;
  const std::string suite = XmlEscape("teye gate: " + std::string(subject));
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format(
      "<testsuites name=\"teye gate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"0\">\n",
      tests, failures, errors);
  x += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" "
      "time=\"0\">\n",
      suite, tests, failures, errors);
  if (refused) {
    x += "    <testcase classname=\"teye.gate\" name=\"min_steps\" time=\"0\">\n";
    x += fmt::format("      <error type=\"refused\" message=\"{}\"/>\n", XmlEscape(r.refusal));
    x += "    </testcase>\n";
  }
  for (const GateCheck& c : refused ? std::vector<GateCheck>{} : r.checks) {
    x += fmt::format("    <testcase classname=\"teye.gate\" name=\"{}\" time=\"0\"",
                     XmlEscape(c.id));
    if (c.passed) {
      x += fmt::format(">\n      <system-out>{}</system-out>\n    </testcase>\n",
                       XmlEscape(c.message));
    } else {
      x += fmt::format(
          ">\n      <failure type=\"threshold\" message=\"{}\">measured {} limit {}</failure>\n"
          "    </testcase>\n",
          XmlEscape(c.message), c.measured, c.limit);
    }
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

std::string GithubAnnotations(const GateResult& r, std::string_view subject) {
  std::string out;
  const std::string title = GithubEscape("teye gate: " + std::string(subject), true);
  if (r.verdict == GateVerdict::kRefused)
    out += "::error title=" + title + "::" + GithubEscape(r.refusal, false) + "\n";
  for (const GateCheck& c : r.checks)
    if (!c.passed) out += "::error title=" + title + "::" + GithubEscape(c.message, false) + "\n";
  for (const std::string& w : r.warnings)
    out += "::warning title=" + title + "::" + GithubEscape(w, false) + "\n";
  return out;
}

}  // namespace teye
