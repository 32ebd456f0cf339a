// NVTX start/end ranges: nvtxRangeStart/End pairs may begin and end on different threads, so they
// live in one process-wide table (open addressing by range id) and are written on a few
// "NVTX start/end ranges (lane N)" tracks: a range takes the lowest lane free when it starts.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sys/mman.h>

#include "clock.h"
#include "collector.h"
#include "nvtx_ranges.h"

namespace teye::collector::nvtx_impl {

using namespace nvtx;

namespace {

constexpr uint32_t kMaxOpenStartEnd = 1 << 14;
constexpr int kStartEndLanes = 16;
constexpr int64_t kStartEndTrackBase = 1'100'000'000;

struct StartEndRange {
  uint64_t id = 0;  // 0 = free slot
  uint64_t start = 0;
  uint32_t domain = 0;
  uint32_t name_id = 0;
  uint32_t color = 0;
  uint32_t category = 0;
  uint64_t payload = 0;
  uint8_t flags = 0;
  PayloadType payload_type = PayloadType::kNone;
  uint8_t lane = 0;
};
StartEndRange* g_start_end = nullptr;  // kMaxOpenStartEnd slots, open addressing by id
uint64_t g_next_range_id = 1;
uint32_t g_lanes_busy = 0;
uint32_t g_lanes_named = 0;    // lanes whose track name was written (per process)
std::mutex g_start_end_mutex;  // the table, the ids and the lanes

}  // namespace

RangeId Start(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!BeginRecording(rec)) return 0;
  const uint64_t now = NowTicks();
  InsideCollector inside;
  NvtxOpenRange o;
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  if (!o.record.name_id && m.text && m.len)
    o.record.name_id = rec.c->strings().Intern(std::string_view(m.text, m.len));
  std::lock_guard<std::mutex> lock(g_start_end_mutex);
  if (!g_start_end) {
    // Mapped (zeroed) rather than calloc'ed: this may run in a signal handler.
    void* mem = ::mmap(nullptr, kMaxOpenStartEnd * sizeof(StartEndRange), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 0;
    g_start_end = static_cast<StartEndRange*>(mem);
  }
  const uint64_t id = g_next_range_id++;
  for (uint32_t probe = 0; probe < 64; ++probe) {
    StartEndRange& slot = g_start_end[(id + probe) & (kMaxOpenStartEnd - 1)];
    if (slot.id) continue;
    int lane = 0;
    while (lane < kStartEndLanes - 1 && (g_lanes_busy & (1u << lane)))
      ++lane;
    g_lanes_busy |= 1u << lane;
    slot = StartEndRange{id,
                         now,
                         domain,
                         o.record.name_id,
                         o.record.color,
                         o.record.nvtx_category,
                         o.record.payload,
                         o.record.range_flags,
                         o.record.payload_type,
                         static_cast<uint8_t>(lane)};
    if (!(g_lanes_named & (1u << lane))) {
      g_lanes_named |= 1u << lane;
      char label[48];
      std::snprintf(label, sizeof label, "NVTX start/end ranges (lane %d)", lane);
      NameTrack(*rec.c, rec.ts, static_cast<uint32_t>(kStartEndTrackBase + lane), label);
    }
    return id;
  }
  rec.c->stats().nvtx_stack_overflow.fetch_add(1, std::memory_order_relaxed);
  return id;  // too many open ranges: its End will not match
}

void End(RangeId id) {
  Recorder rec;
  if (!BeginRecording(rec)) return;
  const uint64_t now = NowTicks();
  InsideCollector inside;
  StartEndRange found;
  {
    std::lock_guard<std::mutex> lock(g_start_end_mutex);
    if (!g_start_end || id == 0) {
      rec.c->stats().nvtx_unmatched_ends.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    uint32_t probe = 0;
    for (; probe < 64; ++probe) {
      StartEndRange& slot = g_start_end[(id + probe) & (kMaxOpenStartEnd - 1)];
      if (slot.id == id) {
        found = slot;
        slot.id = 0;
        g_lanes_busy &= ~(1u << found.lane);
        break;
      }
    }
    if (probe == 64) {
      rec.c->stats().nvtx_unmatched_ends.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  NvtxOpenRange o{};
  o.record.start = found.start;
  o.record.category = RangeCategory::kNvtx;
  o.record.name_id = found.name_id;
  o.record.color = found.color;
  o.record.nvtx_category = found.category;
  o.record.payload = found.payload;
  o.record.range_flags = found.flags;
  o.record.payload_type = found.payload_type;
  o.record.nccl = NcclPayloadKind::kNone;
  o.record.rank = -1;
  o.record.aux = -1;
  o.domain = found.domain;
  EmitRange(*rec.c, rec.ts, static_cast<uint32_t>(kStartEndTrackBase + found.lane), o, nullptr, now,
            kRangeStartEnd);
}

void ForgetStartEndInChild() {
  if (g_start_end)
    for (uint32_t i = 0; i < kMaxOpenStartEnd; ++i)
      g_start_end[i] = StartEndRange{};
  g_lanes_busy = 0;
  g_lanes_named = 0;
}

void LockStartEndForFork(bool lock) {
  if (lock)
    g_start_end_mutex.lock();
  else
    g_start_end_mutex.unlock();
}

}  // namespace teye::collector::nvtx_impl
