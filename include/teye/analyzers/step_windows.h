// Which events belong to the analysed steps: an event counts when it starts inside a complete
// step's window [start, end). Used by every per-step summary so they agree on scope.
#pragma once

#include <vector>

#include "teye/analyzers/interval_set.h"
#include "teye/analyzers/steps.h"

namespace teye {

class StepWindows {
 public:
  explicit StepWindows(const StepsResult& steps);
  bool Contains(TimeNs t) const { return set_.Contains(t); }
  int count() const { return count_; }
  TimeNs total_duration() const { return total_; }

 private:
  IntervalSet set_;
  int count_ = 0;
  TimeNs total_ = 0;
};

}  // namespace teye
