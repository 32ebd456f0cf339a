// Small helpers shared by the recommendation rules.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

// Whether `slice` or a host range enclosing it has a name containing one of `words` (ASCII,
// any case). Remembers its answers: rules ask it about every kernel's launch.
class AncestorNameMatcher {
 public:
  AncestorNameMatcher(const Trace& trace, std::vector<std::string_view> words);
  bool operator()(RowIndex slice);

 private:
  bool NameMatches(StringId name);
  const Trace& trace_;
  std::vector<std::string> words_;    // lower case
  std::vector<int8_t> slice_answer_;  // per host slice: -1 not known yet, 0, 1
  std::unordered_map<StringId, bool> name_answer_;
};

// The host range names that took the most idle time of `reason`, as "name (x ms/step)".
std::string TopContributors(const RuleContext& c, TimeCategory reason, size_t n = 2);

}  // namespace teye::rules
