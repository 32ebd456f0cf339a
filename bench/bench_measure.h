// What the in-process reader and analyze benchmarks measure besides wall time: the process's
// CPU seconds (every thread) and its peak RSS (VmHWM, restarted before each benchmark).
#pragma once

#include <fstream>
#include <malloc.h>
#include <string>
#include <sys/resource.h>

namespace teye::bench {

// CPU seconds of the whole process (every thread), user + system.
inline double ProcessCpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Restarts the kernel's peak-RSS (VmHWM) count at the current RSS.
inline void RestartPeakRss() {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

inline double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

}  // namespace teye::bench
