// Small helpers shared by the recommendation rules.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "teye/analyzers/recommendations.h"

namespace teye::rules {

inline std::string Ms(double ms) {
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 10) return fmt::format("{:.1f} ms", ms);
  if (ms >= 1) return fmt::format("{:.2f} ms", ms);
  return fmt::format("{:.0f} µs", ms * 1000);
}
inline std::string Pct(double share) {
  return fmt::format("{:.1f}%", 100 * share);
}

// Whether any enclosing host range of `slice` has a name containing `word` (ASCII, any case).
bool AncestorNameContains(const Trace& trace, RowIndex slice, std::string_view word);

// The host range names that took the most idle time of `reason`, as "name (x ms/step)".
std::string TopContributors(const RuleContext& c, TimeCategory reason, size_t n = 2);

}  // namespace teye::rules
