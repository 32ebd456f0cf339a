// Where the time of a run goes, phase by phase (`teye analyze --timings`, the benchmarks): wall
// seconds and CPU seconds of each phase. A phase whose work is spread over the executor's threads
// (reading, the rules) counts the CPU time of the whole process during it; a phase that runs on
// one thread while other phases run beside it (the analyses) counts its own thread's. Phases of
// the same name (one per rank of a job) add up; phases that overlap in time (analyses side by
// side, ranks in parallel) have wall times that add up to more than the run's.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace teye {

class PhaseTimings {
 public:
  struct Phase {
    std::string name;
    double wall_s = 0;
    double cpu_s = 0;
    int count = 0;  // how many times it ran (ranks)
  };

  // Thread-safe. Phases keep the order in which each name was first added.
  void Add(std::string_view name, double wall_s, double cpu_s);
  std::vector<Phase> phases() const;
  // "name  wall  cpu" lines, one per phase, for a person.
  std::string Format() const;

 private:
  mutable std::mutex mu_;
  std::vector<Phase> phases_;
};

// Whose CPU time a phase counts.
enum class CpuClock : uint8_t {
  kProcess,  // every thread's: work spread over the executor
  kThread,   // the calling thread's: work on one thread, beside other phases
};

// Times the span from its construction to Stop() (or its destruction) as phase `name`. A null
// `timings` makes it do nothing, so call sites need no conditions.
class ScopedPhase {
 public:
  ScopedPhase(PhaseTimings* timings, std::string_view name, CpuClock clock = CpuClock::kProcess);
  ~ScopedPhase() { Stop(); }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

  void Stop();

 private:
  PhaseTimings* timings_;
  std::string_view name_;
  CpuClock clock_;
  std::chrono::steady_clock::time_point wall_start_;
  double cpu_start_ = 0;
};

// Times a sequence of phases run one after the other: each Lap(name) records the span since the
// previous lap (or the construction) as phase `prefix + name`. Null `timings`: does nothing.
class PhaseLaps {
 public:
  PhaseLaps(PhaseTimings* timings, std::string prefix, CpuClock clock = CpuClock::kProcess);
  void Lap(std::string_view name);

 private:
  PhaseTimings* timings_;
  std::string prefix_;
  CpuClock clock_;
  std::chrono::steady_clock::time_point wall_;
  double cpu_ = 0;
};

// CPU seconds (user + system) of every thread of the process so far.
double ProcessCpuSeconds();
// CPU seconds of the calling thread so far.
double ThreadCpuSeconds();

}  // namespace teye
