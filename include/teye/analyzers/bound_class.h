// The bound class of a run and of each step (DESIGN.md §5): which resource the step waits on.
// A run with no GPU activity is classed the same way from its training thread's host timeline
// (host_timeline.h): compute ops instead of useful GPU work, input waits, host overhead.
//
// The GPU is what a step exists to use, so the class is not simply the largest share. When
// useful GPU time (compute and memory-bound kernels; not exposed communication) covers at least
// 80% of the step, the step is `compute`-bound, or `memory`-bound when memory-bound kernels are
// most of that time. Below 80% the GPU is starved and the class is the largest cause of
// starvation: `input` (idle attributed to input, plus exposed host-to-device copies),
// `communication` (exposed communication) or `host` (idle attributed to synchronization,
// launches and other CPU work).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "teye/analyzers/breakdown.h"

namespace teye {

enum class BoundClass : uint8_t { kInput, kCompute, kMemory, kCommunication, kHost, kCount };
inline constexpr size_t kBoundClassCount = static_cast<size_t>(BoundClass::kCount);
std::string_view ToString(BoundClass c);

inline constexpr double kUsefulGpuThreshold = 0.80;

struct BoundShares {
  std::array<double, kBoundClassCount> share{};  // of step time, 0..1
  double& operator[](BoundClass c) { return share[static_cast<size_t>(c)]; }
  double operator[](BoundClass c) const { return share[static_cast<size_t>(c)]; }
  double unassigned = 0;  // other copies, memset and idle time with no known reason
};

struct BoundVerdict {
  BoundClass cls = BoundClass::kCompute;
  BoundShares shares;
  BoundClass runner_up = BoundClass::kCompute;
  // How far the shares are from another verdict, 0..1: the smaller of |useful GPU − 80%| and
  // the class's share minus the next class's on the same side of that line.
  double margin = 0;
  double useful_gpu = 0;  // compute + memory shares
  std::string reason;     // one sentence: why this class
};

// Shares from summed category times (a step, or all complete steps together).
BoundShares SharesOf(const CategoryTimes& times, TimeNs exposed_h2d, TimeNs duration);
// host_timeline: the shares are of a training thread's host timeline (no GPU): compute is
// framework ops, and the reason says so. `roofline_evidence`: the share (0..1) of the useful
// kernel time whose compute or memory role the roofline decided (the rest by kernel class),
// which the reason states; < 0 to leave it out.
BoundVerdict Classify(const BoundShares& shares, bool host_timeline = false,
                      double roofline_evidence = -1);

struct BoundResult {
  bool valid = false;  // false without GPU activity or complete steps
  BoundVerdict run;
  std::vector<BoundVerdict> steps;  // per complete step of the primary device, in step order
  std::array<int, kBoundClassCount> step_counts{};  // how many steps got each class
  double roofline_evidence = -1;                    // see Classify; -1 when not computed
};

BoundResult ClassifyRun(const BreakdownResult& breakdown, double roofline_evidence = -1);

}  // namespace teye
