#include "teye/analyzers/step_windows.h"

namespace teye {

StepWindows::StepWindows(const StepsResult& steps) {
  std::vector<Interval> windows;
  for (const Step& s : steps.steps) {
    if (!s.complete) continue;
    windows.push_back({s.start(), s.end()});
    total_ += s.duration();
    ++count_;
  }
  set_ = IntervalSet::Union(std::move(windows));
}

}  // namespace teye
