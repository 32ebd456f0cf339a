#include "teye/analyzers/periodic_stalls.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>

namespace teye {
namespace {

bool ContainsAny(std::string_view name, std::initializer_list<std::string_view> words) {
  std::string lower(name);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto w : words)
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double CoefficientOfVariation(const std::vector<double>& v) {
  const double m = Mean(v);
  if (v.size() < 2 || m <= 0) return 0;
  double var = 0;
  for (double x : v)
    var += (x - m) * (x - m);
  return std::sqrt(var / static_cast<double>(v.size())) / m;
}

}  // namespace

std::string DescribeActivity(TimeCategory reason, std::string_view evidence) {
  if (ContainsAny(evidence, {"checkpoint", "save", "state_dict", "torch.save"}))
    return "checkpointing";
  if (ContainsAny(evidence, {"gc.collect", "garbage", "(gc)", "gc_"})) return "garbage collection";
  if (ContainsAny(evidence, {"eval", "valid"})) return "evaluation";
  if (ContainsAny(evidence, {"log", "print", "wandb", "tensorboard", "summary", "metric"}))
    return "logging";
  switch (reason) {
    case TimeCategory::kInput:
      return "DataLoader refill";
    case TimeCategory::kSync:
      return "synchronization";
    case TimeCategory::kLaunch:
      return "issuing launches";
    case TimeCategory::kOtherCpu:
      return "host work";
    default:
      return "unknown host activity";
  }
}

std::vector<StallPattern> FindPeriodicStalls(const DeviceBreakdown& device,
                                             const StepsResult& steps,
                                             const StallOptions& options) {
  std::vector<StallPattern> out;
  const int n_steps = steps.duration_ms.count;
  if (n_steps < options.min_occurrences) return out;
  const double min_ms = std::max(options.min_share_of_step * steps.duration_ms.median,
                                 static_cast<double>(options.min_gap_ns) / kNsPerMs);

  // Candidate gaps, grouped by reason and the activity they show.
  std::map<std::pair<TimeCategory, std::string>, std::vector<const IdleGap*>> groups;
  for (const IdleGap& g : device.long_gaps) {
    if (static_cast<double>(g.length()) / kNsPerMs < min_ms) continue;
    groups[{g.reason, DescribeActivity(g.reason, g.evidence)}].push_back(&g);
  }
  // Step index → position among complete steps, so "every k steps" counts complete steps.
  std::map<int, int> position;
  for (const Step& s : steps.steps)
    if (s.complete) position[s.index] = static_cast<int>(position.size());

  for (auto& [key, gaps] : groups) {
    // One occurrence per step: the longest gap of the group in that step.
    std::map<int, const IdleGap*> per_step;
    for (const IdleGap* g : gaps) {
      auto& slot = per_step[g->step];
      if (!slot || g->length() > slot->length()) slot = g;
    }
    if (static_cast<int>(per_step.size()) < options.min_occurrences) continue;
    std::vector<int> where;
    std::vector<double> lengths, starts;
    for (auto& [step, g] : per_step) {
      where.push_back(position.count(step) ? position[step] : step);
      lengths.push_back(static_cast<double>(g->length()) / kNsPerMs);
      starts.push_back(static_cast<double>(g->start) / kNsPerMs);
    }
    // Every k steps: the step distances agree (their mode covers at least 80% of them).
    std::map<int, int> distance_count;
    for (size_t i = 1; i < where.size(); ++i)
      ++distance_count[where[i] - where[i - 1]];
    int k = 0, k_count = 0;
    for (auto [d, c] : distance_count)
      if (c > k_count) {
        k = d;
        k_count = c;
      }
    const bool by_steps =
        k >= 2 && k_count >= static_cast<int>(0.8 * static_cast<double>(where.size() - 1));
    // Every T ms: start-to-start distances agree within 15%.
    std::vector<double> intervals;
    for (size_t i = 1; i < starts.size(); ++i)
      intervals.push_back(starts[i] - starts[i - 1]);
    const bool by_time = CoefficientOfVariation(intervals) < 0.15;
    // A stall in (nearly) every step is the breakdown's business, not a recurring stall.
    const bool every_step = k == 1 && k_count >= static_cast<int>(where.size() - 1) / 2;
    if ((!by_steps && !by_time) || every_step) continue;
    if (CoefficientOfVariation(lengths) > 0.6) continue;  // not one recurring stall

    StallPattern p;
    p.reason = key.first;
    p.activity = key.second;
    p.evidence = per_step.begin()->second->evidence;
    p.every_steps = by_steps ? k : 0;
    p.period_ms = Mean(intervals);
    p.occurrences = static_cast<int>(per_step.size());
    p.mean_ms = Mean(lengths);
    p.max_ms = *std::max_element(lengths.begin(), lengths.end());
    p.ms_per_step = std::accumulate(lengths.begin(), lengths.end(), 0.0) / n_steps;
    for (auto& [step, g] : per_step)
      p.steps.push_back(step);
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const StallPattern& a, const StallPattern& b) {
    return a.ms_per_step > b.ms_per_step;
  });
  return out;
}

}  // namespace teye
