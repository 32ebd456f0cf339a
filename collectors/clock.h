// Host time for the collector's records.
//
// The hot paths (an interposed read, an NVTX push) can afford one cheap counter read, not a
// clock_gettime (≈40 ns in VMs). When the kernel itself trusts the TSC (clocksource "tsc", which
// implies an invariant, synchronised counter) records store raw TSC ticks and the writer converts
// them to CLOCK_REALTIME nanoseconds with a calibration refreshed at every flush. Otherwise ticks
// are CLOCK_REALTIME nanoseconds and the conversion is the identity. Device times (CUPTI) are
// already CLOCK_REALTIME nanoseconds and never pass through here.
#pragma once

#include <cstdint>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TEYE_HAVE_RDTSC 1
#else
#define TEYE_HAVE_RDTSC 0
#endif

namespace teye::collector {

extern bool g_clock_uses_tsc;

inline int64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Current time in ticks (see above).
inline uint64_t NowTicks() {
#if TEYE_HAVE_RDTSC
  if (g_clock_uses_tsc) return __rdtsc();
#endif
  return static_cast<uint64_t>(RealtimeNs());
}

class TickClock {
 public:
  // Chooses the tick source: "auto" (TSC when the kernel's clocksource is tsc), "tsc" or
  // "realtime". Takes the first calibration point.
  static void Init(const char* mode);
  // Adds a calibration point (the writer, before each flush). Conversions already made stay
  // valid: the function is piecewise linear and continuous (see clock.cpp).
  static void Calibrate();
  // Converts ticks to CLOCK_REALTIME ns. Not thread-safe with Calibrate: the writer calls both
  // under its lock.
  static int64_t ToNs(uint64_t ticks);
  // Nanoseconds per tick, for tests and the benchmark.
  static double NsPerTick();
};

}  // namespace teye::collector
