// Many ranks of one job: a thread per rank, coupled at collectives by a Rendezvous.
#include <algorithm>
#include <thread>

#include "teye/synth/synth.h"

#include "rendezvous.h"

namespace teye::synth {

int64_t Rendezvous::Arrive(int64_t index, int64_t arrival, int64_t transfer) {
  std::unique_lock lock(mu_);
  Meeting& m = meetings_[index];
  ++m.arrived;
  m.last_arrival = std::max(m.last_arrival, arrival);
  m.transfer = std::max(m.transfer, transfer);
  if (m.arrived == ranks_) cv_.notify_all();
  cv_.wait(lock, [&] { return m.arrived == ranks_; });
  const int64_t end = m.last_arrival + m.transfer;
  if (++m.left == ranks_) meetings_.erase(index);
  return end;
}

std::vector<SimulationSummary> SimulateJob(const Knobs& knobs, int straggler,
                                           const std::vector<std::ostream*>& outs) {
  const int ranks = static_cast<int>(outs.size());
  Rendezvous rendezvous(ranks);
  std::vector<SimulationSummary> summaries(outs.size());
  std::vector<Knobs> per_rank(outs.size(), knobs);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    Knobs& k = per_rank[r];
    k.rank = r;
    k.world_size = ranks;
    k.seed = knobs.seed + 7919 * static_cast<uint64_t>(r);  // ranks differ in jitter only
    if (r != straggler) k.straggler_slowdown = 1.0;
    threads.emplace_back(
        [&, r] { summaries[r] = SimulateRank(per_rank[r], *outs[r], &rendezvous); });
  }
  for (auto& t : threads)
    t.join();
  return summaries;
}

Result<StragglerCause> ParseStragglerCause(const std::string& text) {
  if (text == "input") return StragglerCause::kInput;
  if (text == "compute") return StragglerCause::kCompute;
  if (text == "host") return StragglerCause::kHost;
  return Error{"unknown straggler cause '" + text + "' (known: input, compute, host)"};
}

}  // namespace teye::synth
