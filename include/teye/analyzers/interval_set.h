// Sets of time intervals: sorted, disjoint, half-open [start, end). The arithmetic behind GPU
// utilization (union), exposed communication (difference) and the exclusive breakdown.
#pragma once

#include <vector>

#include "teye/model/types.h"

namespace teye {

struct Interval {
  TimeNs start = 0;
  TimeNs end = 0;
  TimeNs length() const { return end - start; }
  bool operator==(const Interval&) const = default;
};

class IntervalSet {
 public:
  IntervalSet() = default;
  // Builds the union of arbitrary (unsorted, overlapping, empty) intervals.
  static IntervalSet Union(std::vector<Interval> intervals);

  const std::vector<Interval>& intervals() const { return intervals_; }
  bool empty() const { return intervals_.empty(); }
  TimeNs Length() const;
  // Length of the part inside [window.start, window.end).
  TimeNs LengthWithin(Interval window) const;

  IntervalSet Clip(Interval window) const;
  IntervalSet Unite(const IntervalSet& other) const;
  IntervalSet Subtract(const IntervalSet& other) const;
  IntervalSet Intersect(const IntervalSet& other) const;
  // window minus this set.
  IntervalSet ComplementWithin(Interval window) const;
  bool Contains(TimeNs t) const;

 private:
  explicit IntervalSet(std::vector<Interval> sorted_disjoint)
      : intervals_(std::move(sorted_disjoint)) {}
  std::vector<Interval> intervals_;
};

}  // namespace teye
