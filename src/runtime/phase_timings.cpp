#include "teye/runtime/phase_timings.h"

#include <cstdio>
#include <ctime>
#include <sys/resource.h>

namespace teye {

double ProcessCpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double ThreadCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

namespace {
double CpuSeconds(CpuClock clock) {
  return clock == CpuClock::kThread ? ThreadCpuSeconds() : ProcessCpuSeconds();
}
}  // namespace

void PhaseTimings::Add(std::string_view name, double wall_s, double cpu_s) {
  std::lock_guard lock(mu_);
  for (Phase& p : phases_) {
    if (p.name == name) {
      p.wall_s += wall_s;
      p.cpu_s += cpu_s;
      ++p.count;
      return;
    }
  }
  phases_.push_back({std::string(name), wall_s, cpu_s, 1});
}

std::vector<PhaseTimings::Phase> PhaseTimings::phases() const {
  std::lock_guard lock(mu_);
  return phases_;
}

std::string PhaseTimings::Format() const {
  std::string out = "phase                            wall s    CPU s  runs\n";
  char line[128];
  for (const Phase& p : phases()) {
    std::snprintf(line, sizeof line, "%-30s %8.3f %8.3f %5d\n", p.name.c_str(), p.wall_s, p.cpu_s,
                  p.count);
    out += line;
  }
  return out;
}

ScopedPhase::ScopedPhase(PhaseTimings* timings, std::string_view name, CpuClock clock)
    : timings_(timings), name_(name), clock_(clock) {
  if (!timings_) return;
  wall_start_ = std::chrono::steady_clock::now();
  cpu_start_ = CpuSeconds(clock_);
}

void ScopedPhase::Stop() {
  if (!timings_) return;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  timings_->Add(name_, wall, CpuSeconds(clock_) - cpu_start_);
  timings_ = nullptr;
}

PhaseLaps::PhaseLaps(PhaseTimings* timings, std::string prefix, CpuClock clock)
    : timings_(timings), prefix_(std::move(prefix)), clock_(clock) {
  if (!timings_) return;
  wall_ = std::chrono::steady_clock::now();
  cpu_ = CpuSeconds(clock_);
}

void PhaseLaps::Lap(std::string_view name) {
  if (!timings_) return;
  const auto wall = std::chrono::steady_clock::now();
  const double cpu = CpuSeconds(clock_);
  timings_->Add(prefix_ + std::string(name), std::chrono::duration<double>(wall - wall_).count(),
                cpu - cpu_);
  wall_ = wall;
  cpu_ = cpu;
}

}  // namespace teye
