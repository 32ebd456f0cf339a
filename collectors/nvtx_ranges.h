// Recording NVTX ranges: push/pop ranges on per-thread stacks (nvtx_ranges.cpp), start/end
// ranges in a process-wide table (nvtx_start_end.cpp), marks and track names. The callbacks in
// nvtx_injection.cpp call these; nothing here knows about NVTX's slot tables or chaining.
#pragma once

#include <cstdint>
#include <string_view>

#include "nvtx_abi.h"
#include "nvtx_message.h"
#include "records.h"

namespace teye::collector {

class Collector;
struct ThreadState;

// One NVTX range open on a thread (push/pop): the record it will become, filled at push so that
// the pop only copies it and sets the end (the recording path of a push/pop pair is a few dozen
// instructions, docs/performance.md).
struct NvtxOpenRange {
  RangeRecord record;  // header unused; name_len: inline name length (text in the stack's arena)
  uint32_t domain;     // domain index (nvtx_registry.h), 0 = default
  uint32_t text_offset;
  // A plain named range (nvtxRangePushA): only record.start and record.name_len are set; the
  // rest is the same for all of them and written at the pop.
  bool plain;
};

// A thread's open push/pop ranges, with their inline names in a small text arena.
struct NvtxThreadStack {
  static constexpr int kMaxDepth = 256;
  static constexpr uint32_t kTextBytes = 32 * 1024;
  int depth = 0;          // entries in use (<= kMaxDepth)
  int overflow = 0;       // pushes beyond kMaxDepth, popped first
  int other_domains = 0;  // entries not in the default domain (levels then need counting)
  uint32_t text_used = 0;
  NvtxOpenRange entries[kMaxDepth];
  char text[kTextBytes];
};

namespace nvtx_impl {

// The collector and the calling thread's state, when NVTX calls are being recorded.
struct Recorder {
  Collector* c = nullptr;
  ThreadState* ts = nullptr;
};
bool BeginRecording(Recorder& r);

// Fills an open range from attributes (or a plain message); its name is m's (an id, or text
// the caller copies).
void Describe(Collector& c, uint32_t domain, const nvtx::EventAttributes* a, const void* plain,
              int32_t plain_type, NvtxOpenRange& o, Message& m);
// Appends a finished range: o's record with `end`, extra range flags and the inline name.
void EmitRange(Collector& c, ThreadState* ts, uint32_t tid, const NvtxOpenRange& o,
               const char* text, uint64_t end, uint8_t extra_flags);
// Names a track (a thread, or one of the collector's own tracks).
void NameTrack(Collector& c, ThreadState* ts, uint32_t tid, std::string_view name);

// The recording side of each NVTX call; `domain` is a domain index. Push and Pop return the
// nesting level NVTX expects (-1 for a pop without a push). PushAscii is Push for a plain
// message (nvtxRangePushA, torch.cuda.nvtx.range_push).
int Push(uint32_t domain, const nvtx::EventAttributes* a, const void* plain, int32_t plain_type);
int PushAscii(const char* message);
int Pop(uint32_t domain);
void Mark(uint32_t domain, const nvtx::EventAttributes* a, const void* plain, int32_t plain_type);
void NameThread(uint32_t tid, const char* name, size_t len);
nvtx::RangeId Start(uint32_t domain, const nvtx::EventAttributes* a, const void* plain,
                    int32_t plain_type);
void End(nvtx::RangeId id);

// Start/end ranges open in the parent are the parent's: the child forgets them.
void ForgetStartEndInChild();
// fork(): holds the start/end table's lock across fork.
void LockStartEndForFork(bool lock);

}  // namespace nvtx_impl
}  // namespace teye::collector
