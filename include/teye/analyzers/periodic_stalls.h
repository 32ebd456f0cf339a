// Recurring stalls: GPU-idle gaps that come back every k steps or every T milliseconds, reported
// as one pattern with its period, size and what the host was doing (a DataLoader refill, a
// checkpoint, logging, garbage collection, ...). A gap that recurs on a fixed period is the
// first thing to look for on a timeline: it is rarely the model and usually one line of code.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/breakdown.h"
#include "teye/analyzers/steps.h"

namespace teye {

struct StallPattern {
  TimeCategory reason = TimeCategory::kUnknown;
  std::string
      activity;  // "DataLoader refill", "checkpointing", "logging", "garbage collection", ...
  std::string evidence;  // the host range that decided the reason
  int every_steps = 0;   // recurs every k steps (0: periodic in time only)
  double period_ms = 0;  // mean time between occurrences
  int occurrences = 0;
  double mean_ms = 0;  // mean length of one stall
  double max_ms = 0;
  double ms_per_step = 0;  // total stall time ÷ complete steps
  std::vector<int> steps;  // steps it hit
};

struct StallOptions {
  double min_share_of_step = 0.05;  // a stall is at least this share of the median step...
  TimeNs min_gap_ns = kNsPerMs;     // ...and at least this long
  int min_occurrences = 3;
};

std::vector<StallPattern> FindPeriodicStalls(const DeviceBreakdown& device,
                                             const StepsResult& steps,
                                             const StallOptions& options = {});

// "checkpointing", "logging", ... from a host range name and the idle reason.
std::string DescribeActivity(TimeCategory reason, std::string_view evidence);

}  // namespace teye
