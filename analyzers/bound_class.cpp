#include "teye/analyzers/bound_class.h"

#include <algorithm>

#include <fmt/format.h>

namespace teye {

std::string_view ToString(BoundClass c) {
  switch (c) {
    case BoundClass::kInput:
      return "input";
    case BoundClass::kCompute:
      return "compute";
    case BoundClass::kMemory:
      return "memory";
    case BoundClass::kCommunication:
      return "communication";
    case BoundClass::kHost:
      return "host";
    case BoundClass::kCount:
      break;
  }
  return "?";
}

BoundShares SharesOf(const CategoryTimes& t, TimeNs exposed_h2d, TimeNs duration) {
  BoundShares s;
  if (duration <= 0) return s;
  const double d = static_cast<double>(duration);
  auto f = [&](TimeNs v) { return static_cast<double>(v) / d; };
  s[BoundClass::kCompute] = f(t[TimeCategory::kCompute]);
  s[BoundClass::kMemory] = f(t[TimeCategory::kMemoryBound]);
  s[BoundClass::kCommunication] = f(t[TimeCategory::kCommunication]);
  // Exposed host-to-device copies are part of the memcpy category; they are the input's cost.
  const TimeNs h2d = std::min(exposed_h2d, t[TimeCategory::kMemcpy]);
  s[BoundClass::kInput] = f(t[TimeCategory::kInput] + h2d);
  s[BoundClass::kHost] =
      f(t[TimeCategory::kSync] + t[TimeCategory::kLaunch] + t[TimeCategory::kOtherCpu]);
  s.unassigned =
      f(t[TimeCategory::kMemcpy] - h2d + t[TimeCategory::kMemset] + t[TimeCategory::kUnknown]);
  return s;
}

BoundVerdict Classify(const BoundShares& shares, bool host_timeline, double roofline_evidence) {
  BoundVerdict v;
  v.shares = shares;
  v.useful_gpu = shares[BoundClass::kCompute] + shares[BoundClass::kMemory];
  if (host_timeline) {
    // The same rule on the training thread: its compute ops are the useful work.
    v.cls = v.useful_gpu >= kUsefulGpuThreshold ? BoundClass::kCompute : BoundClass::kInput;
    if (v.cls != BoundClass::kCompute)
      for (BoundClass c : {BoundClass::kCommunication, BoundClass::kHost})
        if (shares[c] > shares[v.cls]) v.cls = c;
    v.reason = v.cls == BoundClass::kCompute
                   ? fmt::format(
                         "no GPU activity: compute ops cover {:.0f}% of the training thread's "
                         "step (≥ {:.0f}%)",
                         100 * v.useful_gpu, 100 * kUsefulGpuThreshold)
                   : fmt::format(
                         "no GPU activity: compute ops cover only {:.0f}% of the training "
                         "thread's step (< {:.0f}%), the rest most by {}",
                         100 * v.useful_gpu, 100 * kUsefulGpuThreshold,
                         v.cls == BoundClass::kInput ? "waiting for input"
                         : v.cls == BoundClass::kCommunication
                             ? "communication"
                             : "host overhead (synchronization, Python, other CPU work)");
  } else if (v.useful_gpu >= kUsefulGpuThreshold) {
    v.cls = shares[BoundClass::kMemory] > shares[BoundClass::kCompute] ? BoundClass::kMemory
                                                                       : BoundClass::kCompute;
    v.reason = fmt::format(
        "useful GPU work covers {:.0f}% of the step (≥ {:.0f}%), most of it {}", 100 * v.useful_gpu,
        100 * kUsefulGpuThreshold,
        v.cls == BoundClass::kMemory ? "in memory-bound kernels" : "in compute kernels");
    if (roofline_evidence >= 0.995)
      v.reason += " (compute vs memory-bound by roofline evidence)";
    else if (roofline_evidence > 0)
      v.reason += fmt::format(
          " (compute vs memory-bound by roofline evidence for {:.0f}% of the kernel time, by "
          "kernel name class for the rest)",
          100 * roofline_evidence);
    else if (roofline_evidence == 0)
      v.reason += " (compute vs memory-bound by kernel name class: no roofline evidence)";
  } else {
    v.cls = BoundClass::kInput;
    for (BoundClass c : {BoundClass::kCommunication, BoundClass::kHost})
      if (shares[c] > shares[v.cls]) v.cls = c;
    if (shares.unassigned > shares[v.cls])
      v.reason = fmt::format(
          "useful GPU work covers only {:.0f}% of the step (< {:.0f}%), and most of the rest "
          "({:.0f}%) has no recorded cause (idle with no host activity, other copies, memset): "
          "the class is the largest known cause, {}, and may be wrong",
          100 * v.useful_gpu, 100 * kUsefulGpuThreshold, 100 * shares.unassigned, ToString(v.cls));
    else
      v.reason = fmt::format(
          "useful GPU work covers only {:.0f}% of the step (< {:.0f}%): the GPU is starved, most "
          "by {}",
          100 * v.useful_gpu, 100 * kUsefulGpuThreshold,
          v.cls == BoundClass::kInput           ? "waiting for input"
          : v.cls == BoundClass::kCommunication ? "exposed communication"
                                                : "the host (synchronization, launches, CPU work)");
  }
  // The margin is how far the shares are from a different verdict: the nearest of the two
  // decisions (GPU fed or starved; which class within that side). The runner-up is the class
  // that verdict would be.
  auto largest_of = [&](std::initializer_list<BoundClass> classes) {
    BoundClass best = *classes.begin();
    for (BoundClass c : classes)
      if (c != v.cls && (best == v.cls || shares[c] > shares[best])) best = c;
    return best;
  };
  const BoundClass best_starved =
      largest_of({BoundClass::kInput, BoundClass::kCommunication, BoundClass::kHost});
  const BoundClass best_fed = largest_of({BoundClass::kCompute, BoundClass::kMemory});
  const double to_threshold = std::abs(v.useful_gpu - kUsefulGpuThreshold);
  const bool fed = v.useful_gpu >= kUsefulGpuThreshold;
  const BoundClass same_side = fed ? best_fed : best_starved;
  const double within = shares[v.cls] - shares[same_side];
  if (within <= to_threshold) {
    v.runner_up = same_side;
    v.margin = within;
  } else {
    v.runner_up = fed ? best_starved : best_fed;
    v.margin = to_threshold;
  }
  // Time with no known cause could belong to any class: a verdict it outweighs is no verdict.
  if (!fed && shares.unassigned > shares[v.cls]) v.margin = 0;
  return v;
}

BoundResult ClassifyRun(const BreakdownResult& breakdown, double roofline_evidence) {
  BoundResult r;
  r.roofline_evidence = roofline_evidence;
  const DeviceBreakdown* p = breakdown.Primary();
  if (!p || p->steps.empty() || p->total_duration <= 0) return r;
  r.valid = true;
  const bool host = breakdown.host_timeline;
  r.run =
      Classify(SharesOf(p->total, p->exposed_h2d_ns, p->total_duration), host, roofline_evidence);
  for (const StepBreakdown& sb : p->steps) {
    r.steps.push_back(
        Classify(SharesOf(sb.times, sb.exposed_h2d_ns, sb.duration), host, roofline_evidence));
    ++r.step_counts[static_cast<size_t>(r.steps.back().cls)];
  }
  return r;
}

}  // namespace teye
