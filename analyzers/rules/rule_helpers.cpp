#include "rule_helpers.h"

#include <cctype>

namespace teye::rules {

bool AncestorNameContains(const Trace& trace, RowIndex slice, std::string_view word) {
  const HostSliceTable& h = trace.host_slices();
  for (RowIndex r = slice; r != kNoRow; r = h.parent[r]) {
    std::string_view name = trace.str(h.name[r]);
    if (name.size() < word.size()) continue;
    for (size_t i = 0; i + word.size() <= name.size(); ++i) {
      size_t j = 0;
      while (j < word.size() && std::tolower(static_cast<unsigned char>(name[i + j])) ==
                                    std::tolower(static_cast<unsigned char>(word[j])))
        ++j;
      if (j == word.size()) return true;
    }
  }
  return false;
}

std::string TopContributors(const RuleContext& c, TimeCategory reason, size_t n) {
  const auto& who = c.device.contributors[static_cast<size_t>(reason)];
  std::string out;
  const double steps = std::max<size_t>(1, c.device.steps.size());
  for (size_t i = 0; i < who.size() && i < n; ++i) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({}/step)", who[i].name,
                       Ms(static_cast<double>(who[i].ns) / kNsPerMs / steps));
  }
  return out;
}

}  // namespace teye::rules
