// TraceBuilder, part 3 of 3: Build(), which turns what the readers added into the read-only
// Trace: pairs B/E halves, converts ticks to nanoseconds, sorts and nests, links launches to the
// GPU work they launched, applies metadata names and tells the GPU vendor.
#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <vector>

#include "teye/model/trace_builder.h"

#include "column_ops.h"

namespace teye {
namespace {

using columns::Identity;
using columns::Permute;
using columns::SortByTs;

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && std::tolower(static_cast<unsigned char>(hay[i + j])) ==
                                    std::tolower(static_cast<unsigned char>(needle[j])))
      ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

}  // namespace

void TraceBuilder::PairHalves(int64_t trace_end_ticks) {
  std::unordered_map<ThreadIndex, std::vector<size_t>> open_by_thread;
  struct AsyncKey {
    StringId category;
    int64_t id;
    bool operator==(const AsyncKey&) const = default;
  };
  struct AsyncKeyHash {
    size_t operator()(const AsyncKey& k) const {
      return std::hash<int64_t>()(k.id) ^ (static_cast<size_t>(k.category) << 1);
    }
  };
  std::unordered_map<AsyncKey, std::vector<size_t>, AsyncKeyHash> open_async;

  for (size_t i = 0; i < halves_.size(); ++i) {
    const Half& h = halves_[i];
    auto& stack = h.async ? open_async[{h.category, h.async_id}] : open_by_thread[h.thread];
    if (h.begin) {
      stack.push_back(i);
      continue;
    }
    if (stack.empty()) {
      stats().Count(SkipReason::kUnmatchedEnd);
      continue;
    }
    const Half& b = halves_[stack.back()];
    stack.pop_back();
    AppendHostSlice(b, b.ticks, std::max(h.ticks, b.ticks));
    ++stats().events_kept;
  }
  int64_t unclosed = 0;
  auto close_all = [&](auto& stacks) {
    for (auto& [key, stack] : stacks) {
      for (size_t i : stack) {
        const Half& b = halves_[i];
        AppendHostSlice(b, b.ticks, std::max(trace_end_ticks, b.ticks));
        ++stats().events_kept;
        ++unclosed;
      }
    }
  };
  close_all(open_by_thread);
  close_all(open_async);
  if (unclosed > 0) {
    stats().Count(SkipReason::kUnclosedBegin, unclosed);
  }
  halves_.clear();
}

void TraceBuilder::SortAndNestHostSlices() {
  auto& t = trace_.host_slices_;
  auto perm = Identity(t.size());
  std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
    if (t.thread[a] != t.thread[b]) return t.thread[a] < t.thread[b];
    if (t.start_ns[a] != t.start_ns[b]) return t.start_ns[a] < t.start_ns[b];
    return t.end_ns[a] > t.end_ns[b];
  });
  Permute(t, perm);

  auto& threads = trace_.threads_;
  std::fill(threads.slice_begin.begin(), threads.slice_begin.end(), 0);
  std::fill(threads.slice_end.begin(), threads.slice_end.end(), 0);
  std::vector<RowIndex> stack;
  for (size_t row = 0; row < t.size();) {
    ThreadIndex thread = t.thread[row];
    size_t end = row;
    while (end < t.size() && t.thread[end] == thread)
      ++end;
    if (thread != kNoThread && thread < threads.size()) {
      threads.slice_begin[thread] = static_cast<RowIndex>(row);
      threads.slice_end[thread] = static_cast<RowIndex>(end);
    }
    stack.clear();
    for (size_t i = row; i < end; ++i) {
      // A slice is inside the nearest open slice that has not ended by its start. Partial
      // overlaps (which well-formed traces do not have) nest under the earlier slice.
      while (!stack.empty() && t.end_ns[stack.back()] <= t.start_ns[i])
        stack.pop_back();
      t.parent[i] = stack.empty() ? kNoRow : stack.back();
      t.depth[i] = static_cast<uint16_t>(std::min<size_t>(stack.size(), UINT16_MAX));
      stack.push_back(static_cast<RowIndex>(i));
    }
    row = end;
  }
}

void TraceBuilder::SortGpuOps() {
  auto& t = trace_.gpu_ops_;
  if (!std::is_sorted(t.start_ns.begin(), t.start_ns.end())) {
    auto perm = Identity(t.size());
    std::stable_sort(perm.begin(), perm.end(),
                     [&](uint32_t a, uint32_t b) { return t.start_ns[a] < t.start_ns[b]; });
    Permute(t, perm);
  }
  auto& a = trace_.gpu_annotations_;
  auto perm = Identity(a.size());
  std::stable_sort(perm.begin(), perm.end(),
                   [&](uint32_t x, uint32_t y) { return a.start_ns[x] < a.start_ns[y]; });
  Permute(a, perm);
}

void TraceBuilder::SortByTime() {
  SortByTs(trace_.counters_);
  SortByTs(trace_.memory_events_);
  SortByTs(trace_.instants_);
}

void TraceBuilder::LinkLaunches() {
  const auto& h = trace_.host_slices_;
  std::unordered_map<int64_t, RowIndex> by_correlation;
  by_correlation.reserve(h.size() / 2);
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.correlation[i] == 0) continue;
    if (h.kind[i] != HostSliceKind::kRuntime && h.kind[i] != HostSliceKind::kDriver) continue;
    auto [it, inserted] = by_correlation.emplace(h.correlation[i], static_cast<RowIndex>(i));
    // Prefer the runtime call when a driver call carries the same id.
    if (!inserted && h.kind[it->second] == HostSliceKind::kDriver &&
        h.kind[i] == HostSliceKind::kRuntime)
      it->second = static_cast<RowIndex>(i);
  }
  auto& g = trace_.gpu_ops_;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.correlation[i] == 0) continue;
    auto it = by_correlation.find(g.correlation[i]);
    if (it != by_correlation.end()) g.launch[i] = it->second;
  }
}

void TraceBuilder::ConvertTimes() {
  TraceInfo& info = trace_.info_;
  TimeNs unit = kNsPerUs;
  switch (time_unit_choice_) {
    case TimeUnitChoice::kMicroseconds:
      unit = kNsPerUs;
      break;
    case TimeUnitChoice::kNanoseconds:
      unit = 1;
      break;
    case TimeUnitChoice::kAuto:
      // The Chrome format's unit is µs; displayTimeUnit is a display hint. Some writers put true
      // nanoseconds in and say "ns": we believe them only when no time has a fraction, since
      // PyTorch writes µs with ns fractions under displayTimeUnit "ns".
      unit = (info.display_time_unit == "ns" && !saw_fraction_) ? 1 : kNsPerUs;
      break;
  }
  info.file_time_unit_ns = unit;

  int64_t origin = 0;  // ns of tick 0
  if (__builtin_mul_overflow(base_, unit, &origin) ||
      __builtin_add_overflow(origin, info.file_time_zero_ns, &origin)) {
    stats().warnings.push_back(
        "timestamps are too large for nanoseconds since the epoch; times are shown relative to "
        "the first event");
    origin = 0;
    info.file_time_zero_ns = -base_ * unit;  // best effort; only used for HTA-style rounding
  }
  auto to_ns = [&](int64_t ticks) -> TimeNs {
    return origin + (unit == kNsPerUs ? ticks : ticks / (kNsPerUs / unit));
  };
  auto convert = [&](std::vector<TimeNs>& column) {
    for (auto& v : column)
      v = to_ns(v);
  };
  convert(trace_.gpu_ops_.start_ns);
  convert(trace_.gpu_ops_.end_ns);
  convert(trace_.host_slices_.start_ns);
  convert(trace_.host_slices_.end_ns);
  convert(trace_.gpu_annotations_.start_ns);
  convert(trace_.gpu_annotations_.end_ns);
  convert(trace_.counters_.ts_ns);
  convert(trace_.memory_events_.ts_ns);
  convert(trace_.instants_.ts_ns);
  convert(trace_.flows_.ts_ns);
  convert(trace_.kernel_counters_.start_ns);
}

void TraceBuilder::ApplyNames() {
  auto& t = trace_.threads_;
  for (const auto& n : process_names_) {
    for (size_t i = 0; i < t.size(); ++i)
      if (t.pid[i] == n.key.pid && t.pid_label[i] == n.key.pid_label) t.process_name[i] = n.name;
  }
  for (const auto& n : thread_names_) {
    auto it = thread_index_.find(n.key);
    if (it != thread_index_.end()) t.thread_name[it->second] = n.name;
  }
}

void TraceBuilder::DetectVendor() {
  TraceInfo& info = trace_.info_;
  for (auto& d : trace_.devices_) {
    if (d.vendor == GpuVendor::kUnknown) {
      if (ContainsNoCase(d.name, "AMD") || ContainsNoCase(d.name, "Radeon") ||
          ContainsNoCase(d.name, "Instinct"))
        d.vendor = GpuVendor::kAmd;
      else if (!d.name.empty())
        d.vendor = GpuVendor::kNvidia;
    }
    if (info.vendor == GpuVendor::kUnknown) info.vendor = d.vendor;
  }
  if (info.vendor != GpuVendor::kUnknown) return;
  // No device properties: the runtime API tells (hipLaunchKernel vs cudaLaunchKernel).
  const auto& h = trace_.host_slices_;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] != HostSliceKind::kRuntime) continue;
    std::string_view name = trace_.strings_.Get(h.name[i]);
    if (name.starts_with("hip")) {
      info.vendor = GpuVendor::kAmd;
      return;
    }
    if (name.starts_with("cuda") || name.starts_with("cu")) {
      info.vendor = GpuVendor::kNvidia;
      return;
    }
  }
  if (trace_.gpu_ops_.size() > 0) info.vendor = GpuVendor::kNvidia;
}

Trace TraceBuilder::Build(Executor* executor) && {
  // Unpaired begins close at the last time anything in the trace happened.
  int64_t end_ticks = 0;
  auto extend = [&](const std::vector<int64_t>& column) {
    for (int64_t v : column)
      end_ticks = std::max(end_ticks, v);
  };
  extend(trace_.gpu_ops_.end_ns);
  extend(trace_.host_slices_.end_ns);
  for (const auto& h : halves_)
    end_ticks = std::max(end_ticks, h.ticks);
  PairHalves(end_ticks);

  ConvertTimes();
  {
    // The host slices' sort and nesting touch only the host and thread tables: the other tables
    // sort meanwhile (this tail of a read runs after the parsers are done).
    TaskGroup sorts(trace_.host_slices_.size() + trace_.gpu_ops_.size() > (size_t{1} << 16)
                        ? executor
                        : nullptr);
    sorts.Spawn([this] {
      SortGpuOps();
      SortByTime();
    });
    SortAndNestHostSlices();
    sorts.Wait();
  }
  LinkLaunches();
  ApplyNames();
  DetectVendor();

  bool any = false;
  TimeNs lo = 0, hi = 0;
  auto span = [&](const std::vector<TimeNs>& starts, const std::vector<TimeNs>& ends) {
    for (size_t i = 0; i < starts.size(); ++i) {
      if (!any) {
        lo = starts[i];
        hi = ends[i];
        any = true;
      }
      lo = std::min(lo, starts[i]);
      hi = std::max(hi, ends[i]);
    }
  };
  span(trace_.gpu_ops_.start_ns, trace_.gpu_ops_.end_ns);
  span(trace_.host_slices_.start_ns, trace_.host_slices_.end_ns);
  span(trace_.counters_.ts_ns, trace_.counters_.ts_ns);
  span(trace_.memory_events_.ts_ns, trace_.memory_events_.ts_ns);
  span(trace_.instants_.ts_ns, trace_.instants_.ts_ns);
  trace_.start_ns_ = lo;
  trace_.end_ns_ = hi;

  Trace out = std::move(trace_);
  *this = TraceBuilder();
  return out;
}

}  // namespace teye
