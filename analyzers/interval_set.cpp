#include "teye/analyzers/interval_set.h"

#include <algorithm>

namespace teye {

IntervalSet IntervalSet::Union(std::vector<Interval> v) {
  std::erase_if(v, [](const Interval& i) { return i.end <= i.start; });
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) {
    return a.start < b.start || (a.start == b.start && a.end < b.end);
  });
  std::vector<Interval> out;
  out.reserve(v.size());
  for (const Interval& i : v) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return IntervalSet(std::move(out));
}

TimeNs IntervalSet::Length() const {
  TimeNs total = 0;
  for (const Interval& i : intervals_)
    total += i.length();
  return total;
}

TimeNs IntervalSet::LengthWithin(Interval w) const {
  TimeNs total = 0;
  auto it = std::lower_bound(intervals_.begin(), intervals_.end(), w.start,
                             [](const Interval& i, TimeNs t) { return i.end <= t; });
  for (; it != intervals_.end() && it->start < w.end; ++it)
    total += std::min(it->end, w.end) - std::max(it->start, w.start);
  return total;
}

IntervalSet IntervalSet::Clip(Interval w) const {
  std::vector<Interval> out;
  auto it = std::lower_bound(intervals_.begin(), intervals_.end(), w.start,
                             [](const Interval& i, TimeNs t) { return i.end <= t; });
  for (; it != intervals_.end() && it->start < w.end; ++it)
    out.push_back({std::max(it->start, w.start), std::min(it->end, w.end)});
  return IntervalSet(std::move(out));
}

IntervalSet IntervalSet::Unite(const IntervalSet& other) const {
  std::vector<Interval> all = intervals_;
  all.insert(all.end(), other.intervals_.begin(), other.intervals_.end());
  return Union(std::move(all));
}

IntervalSet IntervalSet::Subtract(const IntervalSet& other) const {
  std::vector<Interval> out;
  size_t j = 0;
  const auto& b = other.intervals_;
  for (Interval cur : intervals_) {
    while (j < b.size() && b[j].end <= cur.start)
      ++j;
    size_t k = j;
    while (k < b.size() && b[k].start < cur.end) {
      if (b[k].start > cur.start) out.push_back({cur.start, b[k].start});
      cur.start = std::max(cur.start, b[k].end);
      if (cur.start >= cur.end) break;
      ++k;
    }
    if (cur.start < cur.end) out.push_back(cur);
  }
  return IntervalSet(std::move(out));
}

IntervalSet IntervalSet::Intersect(const IntervalSet& other) const {
  std::vector<Interval> out;
  const auto& a = intervals_;
  const auto& b = other.intervals_;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    TimeNs s = std::max(a[i].start, b[j].start);
    TimeNs e = std::min(a[i].end, b[j].end);
    if (s < e) out.push_back({s, e});
    if (a[i].end < b[j].end)
      ++i;
    else
      ++j;
  }
  return IntervalSet(std::move(out));
}

IntervalSet IntervalSet::ComplementWithin(Interval w) const {
  if (w.end <= w.start) return IntervalSet();
  return IntervalSet(std::vector<Interval>{w}).Subtract(*this);
}

bool IntervalSet::Contains(TimeNs t) const {
  auto it = std::upper_bound(intervals_.begin(), intervals_.end(), t,
                             [](TimeNs x, const Interval& i) { return x < i.start; });
  if (it == intervals_.begin()) return false;
  --it;
  return t >= it->start && t < it->end;
}

}  // namespace teye
