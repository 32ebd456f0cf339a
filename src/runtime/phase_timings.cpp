#include "teye/runtime/phase_timings.h"

#include <cstdio>
#include <sys/resource.h>

namespace teye {

double ProcessCpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

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

ScopedPhase::ScopedPhase(PhaseTimings* timings, std::string_view name)
    : timings_(timings), name_(name) {
  if (!timings_) return;
  wall_start_ = std::chrono::steady_clock::now();
  cpu_start_ = ProcessCpuSeconds();
}

void ScopedPhase::Stop() {
  if (!timings_) return;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  timings_->Add(name_, wall, ProcessCpuSeconds() - cpu_start_);
  timings_ = nullptr;
}

PhaseLaps::PhaseLaps(PhaseTimings* timings, std::string prefix)
    : timings_(timings), prefix_(std::move(prefix)) {
  if (!timings_) return;
  wall_ = std::chrono::steady_clock::now();
  cpu_ = ProcessCpuSeconds();
}

void PhaseLaps::Lap(std::string_view name) {
  if (!timings_) return;
  const auto wall = std::chrono::steady_clock::now();
  const double cpu = ProcessCpuSeconds();
  timings_->Add(prefix_ + std::string(name), std::chrono::duration<double>(wall - wall_).count(),
                cpu - cpu_);
  wall_ = wall;
  cpu_ = cpu;
}

}  // namespace teye
