// GateResult → the one-line verdict, JUnit XML and GitHub Actions annotations.
#pragma once

#include <string>
#include <string_view>

#include "teye/analyzers/gate.h"

namespace teye {

// "teye gate: PASS (4 checks, 8 steps; median step 12.3 ms, GPU utilization 85.1%)"
std::string GateVerdictLine(const GateResult& result);

// JUnit XML (testsuites/testsuite/testcase/failure), one testcase per check; a refusal is a
// testcase with an <error>. `subject` names the judged file.
std::string WriteJunitXml(const GateResult& result, std::string_view subject);

// `::error title=…::…` per failed check or refusal, `::warning …` per warning, one per line.
std::string GithubAnnotations(const GateResult& result, std::string_view subject);

}  // namespace teye
