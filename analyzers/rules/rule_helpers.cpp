#include "rule_helpers.h"

#include <cctype>

namespace teye::rules {

AncestorNameMatcher::AncestorNameMatcher(const Trace& trace, std::vector<std::string_view> words)
    : trace_(trace), slice_answer_(trace.host_slices().size(), -1) {
  for (std::string_view w : words) {
    std::string lower(w);
    for (char& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    words_.push_back(std::move(lower));
  }
}

bool AncestorNameMatcher::NameMatches(StringId name) {
  auto [it, inserted] = name_answer_.emplace(name, false);
  if (inserted) {
    std::string lower(trace_.str(name));
    for (char& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const std::string& w : words_)
      it->second = it->second || lower.find(w) != std::string::npos;
  }
  return it->second;
}

bool AncestorNameMatcher::operator()(RowIndex slice) {
  const HostSliceTable& h = trace_.host_slices();
  // Walk up to the first range whose answer is known, then fill the answers in on the way down.
  std::vector<RowIndex> path;
  bool answer = false;
  for (RowIndex r = slice; r != kNoRow; r = h.parent[r]) {
    if (slice_answer_[r] >= 0) {
      answer = slice_answer_[r] != 0;
      break;
    }
    path.push_back(r);
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    answer = answer || NameMatches(h.name[*it]);
    slice_answer_[*it] = answer ? 1 : 0;
  }
  return answer;
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
