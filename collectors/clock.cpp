#include "clock.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "raw_io.h"

namespace teye::collector {

bool g_clock_uses_tsc = false;

namespace {

// The conversion is piecewise linear and continuous: each calibration starts a new segment at
// the point where the previous one had got to, with a slope that makes up the measured error over
// the next interval. A tick value converts to the same nanoseconds before and after any later
// calibration (so a range drained in one flush and its parent drained in the next stay nested),
// while the error against CLOCK_REALTIME stays small over hours.
struct Segment {
  uint64_t ticks;  // ns = ns + (t - ticks) * slope for t from here to the next segment
  int64_t ns;
  double slope;  // ns per tick
};
struct Calibration {
  uint64_t first_ticks = 0;  // for the long-run rate
  int64_t first_ns = 0;
  uint64_t seg_ticks = 0;  // the current (last) segment
  int64_t seg_ns = 0;
  double slope = 1.0;
};
Calibration g_cal;
// Earlier segments, so old tick values convert exactly as they did (bounded: when full, the
// oldest after the first are forgotten). Constant-initialised: the library's constructor may run
// before this file's dynamic initialisers.
constexpr size_t kMaxSegments = 8192;
Segment g_segments[kMaxSegments];
size_t g_segment_count = 0;

// One (ticks, ns) pair with the ns read bracketed by two tick reads.
void Sample(uint64_t& ticks, int64_t& ns) {
  uint64_t best_span = ~uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    uint64_t a = NowTicks();
    int64_t n = RealtimeNs();
    uint64_t b = NowTicks();
    if (b - a < best_span) {
      best_span = b - a;
      ticks = a + (b - a) / 2;
      ns = n;
    }
  }
}

bool KernelTrustsTsc() {
  std::string source;
  if (!raw::ReadSmallFile("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                          source, 64))
    return false;
  return source.rfind("tsc", 0) == 0;
}

}  // namespace

void TickClock::Init(const char* mode) {
  bool want_tsc = false;
#if TEYE_HAVE_RDTSC
  if (mode && std::strcmp(mode, "tsc") == 0)
    want_tsc = true;
  else if (!mode || std::strcmp(mode, "realtime") != 0)
    want_tsc = KernelTrustsTsc();
#else
  (void)mode;
#endif
  g_clock_uses_tsc = want_tsc;
  g_cal = Calibration{};
  g_segment_count = 0;
  Sample(g_cal.first_ticks, g_cal.first_ns);
  g_cal.seg_ticks = g_cal.first_ticks;
  g_cal.seg_ns = g_cal.first_ns;
  if (want_tsc) {
    // A first rate from a short wait, refined by every Calibrate().
    timespec pause{0, 2000000};
    nanosleep(&pause, nullptr);
    uint64_t t;
    int64_t n;
    Sample(t, n);
    if (t > g_cal.first_ticks && n > g_cal.first_ns)
      g_cal.slope =
          static_cast<double>(n - g_cal.first_ns) / static_cast<double>(t - g_cal.first_ticks);
  }
}

void TickClock::Calibrate() {
  if (!g_clock_uses_tsc) return;
  uint64_t t;
  int64_t measured;
  Sample(t, measured);
  if (t <= g_cal.seg_ticks || t <= g_cal.first_ticks || measured <= g_cal.first_ns) return;
  const double rate =
      static_cast<double>(measured - g_cal.first_ns) / static_cast<double>(t - g_cal.first_ticks);
  const int64_t reached = ToNs(t);
  // Make up the error over an interval as long as the last one (at least ~10 ms).
  double horizon = static_cast<double>(t - g_cal.seg_ticks);
  if (horizon * rate < 1e7) horizon = 1e7 / rate;
  double slope = rate + static_cast<double>(measured - reached) / horizon;
  if (slope < rate * 0.999) slope = rate * 0.999;
  if (slope > rate * 1.001) slope = rate * 1.001;
  if (g_segment_count == kMaxSegments) {
    std::copy(g_segments + 2, g_segments + kMaxSegments, g_segments + 1);
    --g_segment_count;
  }
  g_segments[g_segment_count++] = Segment{g_cal.seg_ticks, g_cal.seg_ns, g_cal.slope};
  g_cal.seg_ticks = t;
  g_cal.seg_ns = reached;
  g_cal.slope = slope;
}

int64_t TickClock::ToNs(uint64_t ticks) {
  if (!g_clock_uses_tsc) return static_cast<int64_t>(ticks);
  Segment s{g_cal.seg_ticks, g_cal.seg_ns, g_cal.slope};
  if (ticks < g_cal.seg_ticks && g_segment_count > 0) {
    // An older record: the segment it falls in. Records are converted at the flush after they
    // were made, which is just after a calibration: nearly all fall in the segment before.
    const Segment& last = g_segments[g_segment_count - 1];
    if (ticks >= last.ticks) {
      const double delta = static_cast<double>(static_cast<int64_t>(ticks - last.ticks));
      return last.ns + static_cast<int64_t>(delta * last.slope);
    }
    const Segment* end = g_segments + g_segment_count;
    const Segment* it =
        std::upper_bound(static_cast<const Segment*>(g_segments), end, ticks,
                         [](uint64_t t, const Segment& seg) { return t < seg.ticks; });
    s = it == g_segments ? g_segments[0] : *(it - 1);
  }
  const double delta = static_cast<double>(static_cast<int64_t>(ticks - s.ticks));
  return s.ns + static_cast<int64_t>(delta * s.slope);
}

double TickClock::NsPerTick() {
  return g_clock_uses_tsc ? g_cal.slope : 1.0;
}

}  // namespace teye::collector
