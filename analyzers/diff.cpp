#include "teye/analyzers/diff.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace teye {
namespace {

DistributionStats SeriesOf(const std::vector<StepSample>& steps, double (*get)(const StepSample&)) {
  std::vector<double> v;
  v.reserve(steps.size());
  for (const StepSample& s : steps)
    v.push_back(get(s));
  return Summarize(std::move(v));
}

double PerStep(double total, size_t steps) {
  return steps ? total / static_cast<double>(steps) : 0.0;
}

const KernelTotal* Find(const std::vector<KernelTotal>& list, const std::string& name) {
  for (const KernelTotal& k : list)
    if (k.name == name) return &k;
  return nullptr;
}

int Order(KernelChangeKind k) {
  return static_cast<int>(k);
}

}  // namespace

std::string_view ToString(KernelChangeKind k) {
  switch (k) {
    case KernelChangeKind::kAppeared:
      return "appeared";
    case KernelChangeKind::kVanished:
      return "vanished";
    case KernelChangeKind::kSlower:
      return "slower";
    case KernelChangeKind::kFaster:
      return "faster";
  }
  return "?";
}

RunDiff DiffRuns(const RunSummary& a, const RunSummary& b) {
  RunDiff d;
  d.a_source = a.source;
  d.b_source = b.source;
  d.a_steps = static_cast<int>(a.steps.size());
  d.b_steps = static_cast<int>(b.steps.size());
  d.a_host = a.host_timeline;
  d.b_host = b.host_timeline;
  d.step_ms = {SeriesOf(a.steps, [](const StepSample& s) { return s.duration_ms; }),
               SeriesOf(b.steps, [](const StepSample& s) { return s.duration_ms; })};
  d.gpu_util = {SeriesOf(a.steps, [](const StepSample& s) { return s.gpu_utilization; }),
                SeriesOf(b.steps, [](const StepSample& s) { return s.gpu_utilization; })};

  for (size_t c = 0; c < kTimeCategoryCount; ++c) {
    MsChange m{std::string(ToString(static_cast<TimeCategory>(c)))};
    for (const StepSample& s : a.steps)
      m.a_ms += s.ms[c];
    for (const StepSample& s : b.steps)
      m.b_ms += s.ms[c];
    m.a_ms = PerStep(m.a_ms, a.steps.size());
    m.b_ms = PerStep(m.b_ms, b.steps.size());
    d.categories.push_back(std::move(m));
  }

  // Bound shares are fractions of the mean step; shown as ms per step so they compare with the
  // breakdown. Only when both runs were classified.
  d.a_bound = a.bound_class;
  d.b_bound = b.bound_class;
  if (!a.bound_shares.empty() && !b.bound_shares.empty()) {
    const double a_mean = d.step_ms.a.mean, b_mean = d.step_ms.b.mean;
    for (const auto& [key, share] : a.bound_shares) {
      for (const auto& [key_b, share_b] : b.bound_shares)
        if (key_b == key) d.bound.push_back({key, share * a_mean, share_b * b_mean});
    }
  }

  std::map<std::string, MsChange> classes;
  for (const ClassTotal& c : a.classes) {
    classes[c.cls].key = c.cls;
    classes[c.cls].a_ms = PerStep(c.total_ms, a.steps.size());
  }
  for (const ClassTotal& c : b.classes) {
    classes[c.cls].key = c.cls;
    classes[c.cls].b_ms = PerStep(c.total_ms, b.steps.size());
  }
  for (auto& [name, m] : classes)
    d.classes.push_back(m);
  std::stable_sort(d.classes.begin(), d.classes.end(), [](const MsChange& x, const MsChange& y) {
    return std::fabs(x.delta_ms()) > std::fabs(y.delta_ms());
  });

  auto change = [&](KernelChangeKind kind, const KernelTotal* ka, const KernelTotal* kb) {
    KernelChange k;
    k.kind = kind;
    k.name = ka ? ka->name : kb->name;
    k.cls = ka ? ka->cls : kb->cls;
    if (ka) {
      k.a_ms_per_step = PerStep(ka->total_ms, a.steps.size());
      k.a_mean_us = ka->mean_us;
    }
    if (kb) {
      k.b_ms_per_step = PerStep(kb->total_ms, b.steps.size());
      k.b_mean_us = kb->mean_us;
    }
    d.kernels.push_back(std::move(k));
  };
  for (const KernelTotal& kb : b.top_kernels) {
    const KernelTotal* ka = Find(a.top_kernels, kb.name);
    if (!ka) {
      change(KernelChangeKind::kAppeared, nullptr, &kb);
    } else if (ka->mean_us > 0 &&
               std::fabs(kb.mean_us - ka->mean_us) >= kKernelChangeThreshold * ka->mean_us) {
      change(kb.mean_us > ka->mean_us ? KernelChangeKind::kSlower : KernelChangeKind::kFaster, ka,
             &kb);
    }
  }
  for (const KernelTotal& ka : a.top_kernels)
    if (!Find(b.top_kernels, ka.name)) change(KernelChangeKind::kVanished, &ka, nullptr);
  std::stable_sort(d.kernels.begin(), d.kernels.end(),
                   [](const KernelChange& x, const KernelChange& y) {
                     if (Order(x.kind) != Order(y.kind)) return Order(x.kind) < Order(y.kind);
                     return std::fabs(x.b_ms_per_step - x.a_ms_per_step) >
                            std::fabs(y.b_ms_per_step - y.a_ms_per_step);
                   });
  return d;
}

}  // namespace teye
