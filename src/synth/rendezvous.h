// Couples the simulations of one job's ranks, each on its own thread: a collective ends on every
// rank when the last rank has arrived, plus the transfer time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>

#include "teye/synth/synth.h"

namespace teye::synth {

class Rendezvous {
 public:
  explicit Rendezvous(int ranks) : ranks_(ranks) {}

  // This rank reaches its `index`-th collective at `arrival` (ns); blocks until every rank has
  // reached it and returns when it ends everywhere.
  int64_t Arrive(int64_t index, int64_t arrival, int64_t transfer);

 private:
  struct Meeting {
    int arrived = 0;
    int left = 0;
    int64_t last_arrival = INT64_MIN;
    int64_t transfer = 0;
  };
  const int ranks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Meeting> meetings_;
};

// Simulate() for one rank of a job; `rendezvous` may be null (a lone rank).
SimulationSummary SimulateRank(const Knobs& knobs, std::ostream& out, Rendezvous* rendezvous);

}  // namespace teye::synth
