// What changed between two runs A (before) and B (after): step time and GPU utilization with
// their per-step spread, the breakdown per category, kernel time per class, and the top kernels
// that appeared, vanished or got slower. Pure: the diff writer renders it.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/run_summary.h"

namespace teye {

// A per-step quantity in both runs.
struct SeriesChange {
  DistributionStats a;
  DistributionStats b;
  double delta() const { return b.median - a.median; }
  double delta_pct() const { return a.median != 0 ? 100 * (b.median - a.median) / a.median : 0; }
};

// Mean milliseconds per step in both runs.
struct MsChange {
  std::string key;  // breakdown category or kernel class (JSON name)
  double a_ms = 0;
  double b_ms = 0;
  double delta_ms() const { return b_ms - a_ms; }
};

enum class KernelChangeKind : uint8_t { kAppeared, kVanished, kSlower, kFaster };
std::string_view ToString(KernelChangeKind k);

struct KernelChange {
  KernelChangeKind kind = KernelChangeKind::kSlower;
  std::string name;
  std::string cls;
  double a_ms_per_step = 0;  // 0 when absent from A's top kernels
  double b_ms_per_step = 0;
  double a_mean_us = 0;
  double b_mean_us = 0;
};

// Kernels in both top lists whose mean duration moved less than this are "unchanged".
inline constexpr double kKernelChangeThreshold = 0.10;

struct RunDiff {
  std::string a_source, b_source;
  int a_steps = 0, b_steps = 0;
  bool a_host = false, b_host = false;  // the run had no GPU activity (host timeline)
  SeriesChange step_ms;
  SeriesChange gpu_util;              // 0..1
  std::string a_bound, b_bound;       // bound class of each run; empty when not classified
  std::vector<MsChange> bound;        // bound class shares as ms per step (mean step × share)
  std::vector<MsChange> categories;   // every breakdown category, TimeCategory order
  std::vector<MsChange> classes;      // kernel classes in either run, largest change first
  std::vector<KernelChange> kernels;  // appeared, vanished, then slower/faster by change
};

RunDiff DiffRuns(const RunSummary& a, const RunSummary& b);

}  // namespace teye
