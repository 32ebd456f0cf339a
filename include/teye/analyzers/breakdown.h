// The exclusive time breakdown of each step (DESIGN.md §5) and the attribution of GPU-idle time
// to what the launching host thread was doing.
//
// Each instant of a step goes to the first that applies on the device:
//   compute kernel > memory-bound kernel > communication kernel > memcpy > memset >
//   (GPU idle) input > sync > launch > other CPU > unknown
// so the parts sum to the step time. Communication time that survives the first two is the
// step's exposed communication.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "teye/analyzers/gpu_timeline.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

enum class TimeCategory : uint8_t {
  kCompute,
  kMemoryBound,
  kCommunication,
  kMemcpy,
  kMemset,
  kInput,     // GPU idle while the host waited for data (DataLoader, I/O)
  kSync,      // GPU idle while the host was blocked in, or refilling after, a synchronization
  kLaunch,    // GPU idle while the host was issuing work (launch APIs, framework op dispatch)
  kOtherCpu,  // GPU idle while the host ran other code
  kUnknown,   // GPU idle and nothing recorded on the launching thread
  kCount,
};
inline constexpr size_t kTimeCategoryCount = static_cast<size_t>(TimeCategory::kCount);
std::string_view ToString(TimeCategory c);     // "compute", "memory_bound", ...
std::string_view DisplayName(TimeCategory c);  // "compute kernels", ...
// On a host timeline (no GPU, host_timeline.h) the categories name what the training thread did:
// "compute ops", "waiting for input", ...
std::string_view DisplayName(TimeCategory c, bool host_timeline);
// Whether the category can hold time on a host timeline (compute, input, sync, communication,
// other CPU).
bool OnHostTimeline(TimeCategory c);
bool IsIdleCategory(TimeCategory c);

struct CategoryTimes {
  std::array<TimeNs, kTimeCategoryCount> ns{};
  TimeNs& operator[](TimeCategory c) { return ns[static_cast<size_t>(c)]; }
  TimeNs operator[](TimeCategory c) const { return ns[static_cast<size_t>(c)]; }
  TimeNs Total() const;
  void Add(const CategoryTimes& other);
};

// A stretch of GPU-idle time and what the host was doing, for evidence.
struct IdleGap {
  TimeNs start = 0;
  TimeNs end = 0;
  TimeCategory reason = TimeCategory::kUnknown;
  int device = -1;
  int step = -1;
  ThreadIndex thread = kNoThread;
  std::string evidence;  // the host range that decided the reason, or empty
  TimeNs length() const { return end - start; }
};

struct StepBreakdown {
  int step = -1;  // index into StepsResult::steps
  int device = -1;
  TimeNs duration = 0;
  CategoryTimes times;
  TimeNs kernel_ns = 0;       // |union of kernels| inside the step
  TimeNs busy_ns = 0;         // |union of kernels, memcpy, memset| inside the step
  TimeNs exposed_h2d_ns = 0;  // host-to-device copy time no kernel overlaps (part of memcpy)
};

// Host ranges that took idle time, summed by name, per reason.
struct IdleContributor {
  std::string name;
  TimeNs ns = 0;
  int64_t gaps = 0;
};

struct DeviceBreakdown {
  int device = -1;
  std::vector<StepBreakdown> steps;  // complete steps only, in step order
  CategoryTimes total;               // summed over those steps
  TimeNs total_duration = 0;
  TimeNs kernel_ns = 0;
  TimeNs busy_ns = 0;
  TimeNs exposed_h2d_ns = 0;
  std::array<std::vector<IdleContributor>, kTimeCategoryCount> contributors;  // idle reasons
  std::vector<IdleGap> largest_gaps;  // the longest idle gaps, longest first
  std::vector<IdleGap> long_gaps;     // every gap of at least BreakdownOptions::long_gap_ns, in
                                      // time order (for recurring-stall detection)
};

struct BreakdownOptions {
  size_t largest_gaps = 10;
  size_t contributors_per_reason = 5;
  TimeNs long_gap_ns = kNsPerMs;
  size_t max_long_gaps = 100000;
};

struct BreakdownResult {
  std::vector<DeviceBreakdown> devices;  // same order as the timelines
  int primary_device = -1;               // the device with the most kernel time
  bool host_timeline = false;  // no GPU activity: the one "device" is the training thread's
                               // host timeline (host_timeline.h), compute = framework ops
  const DeviceBreakdown* Primary() const;
};

BreakdownResult ComputeBreakdown(const Trace& trace, const StepsResult& steps,
                                 const std::vector<DeviceTimeline>& timelines,
                                 const BreakdownOptions& options = {});

// Exposed: attributes one GPU-idle interval to host reasons (used by the breakdown; tested on
// its own). Calls emit(start, end, reason, evidence_row) for consecutive sub-intervals.
class IdleAttributor {
 public:
  explicit IdleAttributor(const Trace& trace);
  template <typename Emit>
  void Attribute(Interval gap, ThreadIndex thread, Emit&& emit) const;

  // Which host thread to blame for a gap on `timeline` ending at `gap_end`.
  ThreadIndex LaunchingThread(const DeviceTimeline& timeline, Interval gap) const;

 private:
  enum Flag : uint8_t { kInputFlag = 1, kSyncFlag = 2, kLaunchFlag = 4 };
  const Trace& trace_;
  std::vector<uint8_t> flags_;  // per host slice
};

}  // namespace teye

#include "teye/analyzers/breakdown_inl.h"
