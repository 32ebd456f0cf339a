#include "teye/model/read_stats.h"

namespace teye {

bool IsLoss(SkipReason reason) {
  return reason != SkipReason::kUnknownPhase && reason != SkipReason::kUnclosedBegin;
}

int64_t ReadStats::TotalLost() const {
  int64_t total = 0;
  for (size_t i = 0; i < kSkipReasonCount; ++i)
    if (IsLoss(static_cast<SkipReason>(i))) total += skipped[i];
  return total;
}

void ReadStats::Merge(const ReadStats& other) {
  events_seen += other.events_seen;
  events_kept += other.events_kept;
  for (size_t i = 0; i < kSkipReasonCount; ++i)
    skipped[i] += other.skipped[i];
  if (other.truncated) {
    truncated = true;
    truncated_at = other.truncated_at;
  }
  warnings.insert(warnings.end(), other.warnings.begin(), other.warnings.end());
}

}  // namespace teye
