#include "teye/analyzers/cross_rank.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "teye/analyzers/step_windows.h"
#include "teye/analyzers/transfer_stats.h"

namespace teye {

std::string_view ToString(RankPhase phase) {
  switch (phase) {
    case RankPhase::kInput:
      return "input";
    case RankPhase::kCompute:
      return "compute";
    case RankPhase::kHost:
      return "host";
  }
  return "?";
}

RankSummary SummarizeRank(const Trace& trace, const TraceAnalysis& a,
                          const KernelClassifier* classifier) {
  RankSummary s;
  s.file = a.file;
  s.rank = a.rank;
  s.world_size = a.world_size;
  s.complete_steps = a.complete_steps;
  s.step_ms = a.mean_step_ms;
  s.gpu_utilization = a.gpu_utilization;
  s.exposed_comm_ms = a.exposed_comm_ms_per_step;
  for (const BreakdownShare& share : a.shares)
    s.phase_ms.emplace_back(std::string(ToString(share.category)), share.ms_per_step);

  KernelClassifier builtin;
  const std::vector<KernelClass> classes =
      (classifier ? *classifier : builtin).ClassifyTrace(trace);
  const StepWindows windows(a.steps);
  const GpuOpTable& g = trace.gpu_ops();
  const CollectiveTable& coll = trace.collectives();
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kKernel || classes[i] != KernelClass::kCommunication) continue;
    if (a.primary_device >= 0 && g.device[i] != a.primary_device) continue;
    CollectiveTiming r;
    if (RowIndex c = g.collective[i]; c != kNoRow) {
      r.group = std::string(trace.str(coll.group_name[c]));
      r.op = std::string(trace.str(coll.op[c]));
      r.bytes = coll.in_bytes[c];
    }
    if (r.op.empty()) r.op = CollectiveFromKernelName(trace.str(g.name[i]));
    r.start_ns = g.start_ns[i];
    r.end_ns = g.end_ns[i];
    r.in_step = windows.Contains(g.start_ns[i]);
    s.collectives.push_back(std::move(r));
  }
  return s;
}

namespace {

constexpr double kNsPerMsD = static_cast<double>(kNsPerMs);

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<long>(mid));
  return (lower + upper) / 2;
}

// The breakdown categories that make up each phase a straggler can be blamed on.
RankPhase PhaseOf(std::string_view category, bool* counted) {
  *counted = true;
  if (category == "input") return RankPhase::kInput;
  if (category == "compute" || category == "memory_bound") return RankPhase::kCompute;
  if (category == "sync" || category == "launch" || category == "other_cpu" ||
      category == "unknown")
    return RankPhase::kHost;
  *counted = false;  // communication, memcpy, memset: not a phase a rank is late in
  return RankPhase::kHost;
}

// Waits shorter than this are clock noise, not a rank arriving late.
bool IsRealWait(TimeNs max_wait, TimeNs transfer) {
  return max_wait > std::max<TimeNs>(kNsPerUs, transfer / 100);
}

struct Accumulator {
  TimeNs comm = 0, transfer = 0, wait = 0;
  double caused = 0;  // ns
  int64_t collectives = 0;
  int64_t arrived_last = 0;
  std::vector<double> end_offsets;  // ns, first rank's end minus this rank's
};

std::string Evidence(const RankRow& r, const CrossRankResult& out, RankPhase cause, bool known,
                     double others_median) {
  std::string e;
  if (out.matched > 0) {
    e = fmt::format(
        "rank {} arrived last at {} of {} matched collectives; the other ranks waited {:.3f} ms "
        "per step for it",
        r.rank, r.arrived_last, out.matched, r.caused_wait_ms);
  } else {
    e = fmt::format("rank {} steps take {:.3f} ms against a median of {:.3f} ms", r.rank, r.step_ms,
                    out.step_ms.median);
  }
  if (known) {
    const double mine = r.phase_ms[static_cast<size_t>(cause)];
    e += fmt::format(
        "; its {} time is {:.3f} ms per step against a median of {:.3f} ms on the "
        "other ranks (+{:.3f} ms)",
        ToString(cause), mine, others_median, mine - others_median);
  } else {
    e += "; no phase of its own steps (input, compute, host) is longer than on the other ranks";
  }
  return e;
}

}  // namespace

CrossRankResult AnalyzeCrossRank(const std::vector<RankSummary>& ranks,
                                 const CrossRankOptions& options) {
  CrossRankResult out;
  out.ranks = static_cast<int>(ranks.size());

  // Rows in rank order; a missing or repeated rank number falls back to the input position.
  std::vector<size_t> order(ranks.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<int> ids(ranks.size());
  bool ids_ok = true;
  for (size_t i = 0; i < ranks.size(); ++i) {
    ids[i] = ranks[i].rank;
    if (ids[i] < 0) ids_ok = false;
  }
  {
    std::vector<int> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) ids_ok = false;
  }
  if (!ids_ok) {
    out.notes.push_back(
        "rank numbers missing or repeated in distributedInfo: ranks are numbered by input order");
    std::iota(ids.begin(), ids.end(), 0);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });

  // Match: (group, op) → per rank the indices of its kernels in start order.
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::vector<std::vector<size_t>>> by_key;
  for (size_t p = 0; p < order.size(); ++p) {
    const RankSummary& s = ranks[order[p]];
    for (size_t c = 0; c < s.collectives.size(); ++c) {
      auto& lists = by_key[{s.collectives[c].group, s.collectives[c].op}];
      lists.resize(order.size());
      lists[p].push_back(c);
    }
  }
  std::vector<Accumulator> acc(order.size());
  bool counts_differ = false;
  for (auto& [key, lists] : by_key) {
    std::vector<size_t> members;
    for (size_t p = 0; p < lists.size(); ++p) {
      if (lists[p].empty()) continue;
      const RankSummary& s = ranks[order[p]];
      std::stable_sort(lists[p].begin(), lists[p].end(), [&](size_t a, size_t b) {
        return s.collectives[a].start_ns < s.collectives[b].start_ns;
      });
      members.push_back(p);
    }
    if (members.size() < 2) {
      for (size_t p : members)
        out.unmatched += static_cast<int64_t>(lists[p].size());
      continue;
    }
    // Profiling windows start and stop at slightly different collectives on each rank: shift
    // each rank's sequence so its ends line up with the first rank's.
    const size_t ref = members.front();
    auto end_of = [&](size_t p, size_t i) {
      return ranks[order[p]].collectives[lists[p][i]].end_ns;
    };
    std::vector<long> shift(lists.size(), 0);
    long lo = 0;
    long hi = static_cast<long>(lists[ref].size());
    for (size_t p : members) {
      const long n_ref = static_cast<long>(lists[ref].size());
      const long n_p = static_cast<long>(lists[p].size());
      if (p != ref) {
        // Shift 0 unless another shift lines the ends up clearly better: ranks' profiling
        // windows usually open at the same step, and clocks of different hosts may disagree.
        const long range = std::min<long>(64, std::max(n_ref, n_p) / 2);
        double best = -1, at_zero = -1;
        // Scored on at most ~256 evenly spaced collectives: thousands of ranks with thousands
        // of collectives each must still merge in seconds.
        const long stride = std::max<long>(1, std::min(n_ref, n_p) / 256);
        for (long sh = -range; sh <= range; ++sh) {
          std::vector<double> diffs;
          for (long k = std::max(0L, -sh); k < n_ref && k + sh < n_p; k += stride)
            diffs.push_back(std::abs(static_cast<double>(end_of(ref, k) - end_of(p, k + sh))));
          if (diffs.empty() || static_cast<long>(diffs.size()) * stride * 2 < std::min(n_ref, n_p))
            continue;
          const double m = Median(std::move(diffs));
          if (sh == 0) at_zero = m;
          if (best < 0 || m < best) {
            best = m;
            shift[p] = sh;
          }
        }
        if (at_zero >= 0 && at_zero <= best * 1.1) shift[p] = 0;
      }
      lo = std::max(lo, -shift[p]);
      hi = std::min(hi, n_p - shift[p]);
    }
    const size_t n = hi > lo ? static_cast<size_t>(hi - lo) : 0;
    for (size_t p : members) {
      if (lists[p].size() != n) counts_differ = true;
      out.unmatched += static_cast<int64_t>(lists[p].size() - n);
    }
    if (n == 0) continue;
    CollectiveGroupRow row;
    row.group = key.first;
    row.op = key.second;
    row.ranks = static_cast<int>(members.size());
    row.count = static_cast<int64_t>(n);
    for (size_t k0 = 0; k0 < n; ++k0) {
      const long k = lo + static_cast<long>(k0);
      auto rec = [&](size_t p) -> const CollectiveTiming& {
        return ranks[order[p]].collectives[lists[p][static_cast<size_t>(k + shift[p])]];
      };
      TimeNs transfer = INT64_MAX, max_wait = 0;
      size_t last = members.front();
      for (size_t p : members) {
        const TimeNs d = rec(p).end_ns - rec(p).start_ns;
        if (d < transfer) {
          transfer = d;
          last = p;
        }
      }
      TimeNs others_wait = 0;
      for (size_t p : members) {
        const CollectiveTiming& r = rec(p);
        const TimeNs wait = (r.end_ns - r.start_ns) - transfer;
        max_wait = std::max(max_wait, wait);
        if (p != last) others_wait += wait;
        Accumulator& a = acc[p];
        ++a.collectives;
        if (r.in_step) {
          a.comm += r.end_ns - r.start_ns;
          a.transfer += transfer;
          a.wait += wait;
        }
        a.end_offsets.push_back(static_cast<double>(rec(ref).end_ns - r.end_ns));
        row.wait_ms += static_cast<double>(wait) / kNsPerMsD;
        row.bytes += p == ref ? r.bytes : 0;
      }
      row.transfer_ms += static_cast<double>(transfer) / kNsPerMsD;
      if (IsRealWait(max_wait, transfer)) {
        ++acc[last].arrived_last;
        if (rec(last).in_step)
          acc[last].caused += static_cast<double>(others_wait) / (members.size() - 1);
      }
    }
    row.mean_wait_ms = row.wait_ms / static_cast<double>(n * members.size());
    out.matched += row.count;
    out.groups.push_back(std::move(row));
  }
  std::sort(out.groups.begin(), out.groups.end(),
            [](const CollectiveGroupRow& a, const CollectiveGroupRow& b) {
              return a.wait_ms != b.wait_ms ? a.wait_ms > b.wait_ms : a.op < b.op;
            });
  if (counts_differ)
    out.notes.push_back(
        "ranks recorded different numbers of some collectives (profiling windows start or stop "
        "at different ones): those outside the common range were left unmatched");

  std::vector<double> steps;
  for (size_t p = 0; p < order.size(); ++p) {
    const RankSummary& s = ranks[order[p]];
    const Accumulator& a = acc[p];
    RankRow r;
    r.rank = ids[order[p]];
    r.file = s.file;
    r.complete_steps = s.complete_steps;
    r.step_ms = s.step_ms;
    r.gpu_utilization = s.gpu_utilization;
    r.exposed_comm_ms = s.exposed_comm_ms;
    for (const auto& [category, ms] : s.phase_ms) {
      bool counted;
      RankPhase phase = PhaseOf(category, &counted);
      if (counted) r.phase_ms[static_cast<size_t>(phase)] += ms;
    }
    const double per_step = std::max(1, s.complete_steps) * kNsPerMsD;
    r.collectives = a.collectives;
    r.comm_ms = static_cast<double>(a.comm) / per_step;
    r.transfer_ms = static_cast<double>(a.transfer) / per_step;
    r.wait_ms = static_cast<double>(a.wait) / per_step;
    r.arrived_last = a.arrived_last;
    r.caused_wait_ms = a.caused / per_step;
    r.clock_offset_ms = Median(a.end_offsets) / kNsPerMsD;
    steps.push_back(r.step_ms);
    out.transfer_ms += r.transfer_ms / static_cast<double>(order.size());
    out.wait_ms += r.wait_ms / static_cast<double>(order.size());
    out.rows.push_back(std::move(r));
  }
  out.step_ms = Summarize(steps);

  // Stragglers: the ranks the others wait for; without collectives, the ranks with slow steps.
  double total_caused = 0;
  for (const RankRow& r : out.rows)
    total_caused += r.caused_wait_ms;
  std::vector<size_t> stragglers;
  for (size_t p = 0; p < out.rows.size(); ++p) {
    const RankRow& r = out.rows[p];
    const bool slow =
        out.matched > 0
            ? r.caused_wait_ms > 0 &&
                  r.caused_wait_ms >= options.min_caused_wait_share * out.step_ms.median &&
                  r.caused_wait_ms >= options.min_blame_share * total_caused
            : out.rows.size() >= 2 && r.step_ms >= options.slow_step_factor * out.step_ms.median &&
                  r.step_ms > 0;
    if (slow) stragglers.push_back(p);
  }
  for (size_t p : stragglers) {
    const RankRow& r = out.rows[p];
    Straggler s;
    s.rank = r.rank;
    s.caused_wait_ms = r.caused_wait_ms;
    s.late_share = out.matched ? static_cast<double>(r.arrived_last) / out.matched : 0.0;
    // Compare with the ranks that are not stragglers (all others when every rank is one).
    double best_excess = 0, best_median = 0;
    RankPhase best = RankPhase::kInput;
    bool known = false;
    for (size_t ph = 0; ph < kRankPhaseCount; ++ph) {
      std::vector<double> others;
      for (size_t q = 0; q < out.rows.size(); ++q)
        if (q != p && std::find(stragglers.begin(), stragglers.end(), q) == stragglers.end())
          others.push_back(out.rows[q].phase_ms[ph]);
      if (others.empty())
        for (size_t q = 0; q < out.rows.size(); ++q)
          if (q != p) others.push_back(out.rows[q].phase_ms[ph]);
      const double median = Median(others);
      const double excess = r.phase_ms[ph] - median;
      if (excess > best_excess) {
        best_excess = excess;
        best_median = median;
        best = static_cast<RankPhase>(ph);
        known = true;
      }
    }
    s.cause = known ? std::string(ToString(best)) : "unknown";
    s.excess_ms = known ? best_excess : 0.0;
    s.evidence = Evidence(r, out, best, known, best_median);
    out.stragglers.push_back(std::move(s));
  }
  std::sort(out.stragglers.begin(), out.stragglers.end(),
            [](const Straggler& a, const Straggler& b) {
              return a.caused_wait_ms != b.caused_wait_ms ? a.caused_wait_ms > b.caused_wait_ms
                                                          : a.rank < b.rank;
            });
  if (out.matched == 0)
    out.notes.push_back(
        "no communication kernel was matched across ranks: stragglers are judged by step time");
  return out;
}

}  // namespace teye
