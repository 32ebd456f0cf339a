// Many ranks of one job: a thread per rank, coupled at collectives by a Rendezvous.
#include <algorithm>

#include "teye/synth/synth.h"

#include "rendezvous.h"

namespace teye::synth {

int64_t Rendezvous::Arrive(int64_t index, int64_t arrival, int64_t transfer) {
  std::unique_lock lock(mu_);
  Meeting& m = meetings_[index];
  ++m.arrived;
  m.last_arrival = std::max(m.last_arrival, arrival);
  m.transfer = std::max(m.transfer, transfer);
  if (m.arrived == ranks_) {
    cv_.notify_all();
  } else {
    // Waiting for the other ranks is not work: the executor lets another rank run meanwhile
    // (and this one takes its turn back without holding the lock, which the others need).
    Executor::Blocked([&] {
      cv_.wait(lock, [&] { return m.arrived == ranks_; });
      lock.unlock();
    });
    lock.lock();
  }
  const int64_t end = m.last_arrival + m.transfer;
  if (++m.left == ranks_) meetings_.erase(index);
  return end;
}

std::vector<SimulationSummary> SimulateJob(const Knobs& knobs, int straggler,
                                           const std::vector<std::ostream*>& outs,
                                           Executor& executor) {
  const int ranks = static_cast<int>(outs.size());
  Rendezvous rendezvous(ranks);
  std::vector<SimulationSummary> summaries(outs.size());
  std::vector<Knobs> per_rank(outs.size(), knobs);
  for (int r = 0; r < ranks; ++r) {
    Knobs& k = per_rank[r];
    k.rank = r;
    k.world_size = ranks;
    k.seed = knobs.seed + 7919 * static_cast<uint64_t>(r);  // ranks differ in jitter only
    if (r != straggler) k.straggler_slowdown = 1.0;
  }
  // The ranks wait for one another at every collective, so each needs a thread of its own; the
  // executor lets only its threads() of them run at once.
  executor.RunTogether(outs.size(), [&](size_t r) {
    summaries[r] = SimulateRank(per_rank[r], *outs[r], &rendezvous);
  });
  return summaries;
}

Result<StragglerCause> ParseStragglerCause(const std::string& text) {
  if (text == "input") return StragglerCause::kInput;
  if (text == "compute") return StragglerCause::kCompute;
  if (text == "host") return StragglerCause::kHost;
  return Error{"unknown straggler cause '" + text + "' (known: input, compute, host)"};
}

}  // namespace teye::synth
