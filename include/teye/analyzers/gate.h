// The CI gate: judges a run's medians over steps against thresholds and, optionally, against a
// baseline run. Pure: the CLI loads the runs, the gate writer renders the verdict.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "teye/analyzers/run_summary.h"
#include "teye/model/result.h"

namespace teye {

struct ShareLimit {
  std::string key;  // a bound class (input, compute, memory, communication, host) or a
                    // breakdown category (memcpy, sync, launch, ...), see docs/metrics.md
  double max = 0;   // 0..1
};

struct GateOptions {
  int min_steps = 3;
  std::optional<double> min_gpu_util;  // 0..1, on the median over steps
  std::optional<double> max_step_ms;   // on the median step time
  std::vector<ShareLimit> max_shares;
  std::optional<double> max_step_regression;  // fraction of the baseline's median, 0.05 = 5%
  std::optional<double> max_util_drop_pts;    // percentage points below the baseline's median
};

// With a baseline and neither regression limit given, these apply.
inline constexpr double kDefaultMaxStepRegression = 0.05;
inline constexpr double kDefaultMaxUtilDropPts = 3.0;
// A check that passes with less than this fraction of its limit to spare is a warning.
inline constexpr double kNearMissFraction = 0.05;

enum class GateVerdict : uint8_t { kPass, kFail, kRefused };
std::string_view ToString(GateVerdict v);

struct GateCheck {
  std::string id;       // "min_gpu_util", "max_step_ms", "max_share.input", ...
  std::string message;  // one line with the measured value and the limit
  double measured = 0;
  double limit = 0;
  bool passed = true;
  bool near_miss = false;  // passed, but within kNearMissFraction of the limit
};

struct GateResult {
  GateVerdict verdict = GateVerdict::kPass;
  std::string refusal;  // why the gate refused to judge (kRefused)
  int steps = 0;
  double median_step_ms = 0;
  double median_gpu_util = 0;
  bool has_baseline = false;
  int baseline_steps = 0;
  double baseline_step_ms = 0;
  double baseline_gpu_util = 0;
  std::vector<GateCheck> checks;
  std::vector<std::string> warnings;  // near misses and things the user should know
  int Failures() const;
};

// Errors are usage errors (an unknown share key); too few steps is a kRefused verdict.
Result<GateResult> EvaluateGate(const RunSummary& run, const RunSummary* baseline,
                                const GateOptions& options);

}  // namespace teye
