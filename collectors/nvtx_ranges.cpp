#include "nvtx_ranges.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>

#include "clock.h"
#include "collector.h"
#include "nvtx_injection.h"
#include "nvtx_nccl_payload.h"
#include "nvtx_registry.h"

namespace teye::collector {
namespace nvtx_impl {

using namespace nvtx;

namespace {

// Mapped, not malloc'ed: a signal handler may push a range while the thread it interrupted is
// inside malloc.
NvtxThreadStack* Stack(ThreadState* ts) {
  if (!ts->nvtx) {
    void* mem = ::mmap(nullptr, sizeof(NvtxThreadStack), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    ts->nvtx = new (mem) NvtxThreadStack;
  }
  return ts->nvtx;
}

class NvtxSource : public Source {
 public:
  explicit NvtxSource(Collector& c) : c_(c) {}
  // The thread that ends the trace (exit, _exit) writes its own open ranges as unclosed; other
  // threads' stacks are theirs to change, so theirs are written when those threads exit.
  void OnFinishRequested() override { NvtxCloseThread(c_, c_.Thread(), false); }
  void OnForkChild() override {
    // Ranges open in the parent are the parent's.
    if (ThreadState* ts = t_slot.state) {
      if (ts->nvtx) {
        ts->nvtx->depth = 0;
        ts->nvtx->overflow = 0;
        ts->nvtx->other_domains = 0;
        ts->nvtx->text_used = 0;
      }
    }
    ForgetStartEndInChild();
  }

 private:
  Collector& c_;
};

}  // namespace

bool BeginRecording(Recorder& r) {
  if (ThreadIsInsideCollector()) return false;  // a signal handler interrupted the collector
  r.c = Collector::Active();
  if (!r.c || !r.c->recording()) [[unlikely]]
    return false;
  r.ts = r.c->Thread();
  return r.ts != nullptr;
}

void EmitRange(Collector& c, ThreadState* ts, uint32_t tid, const NvtxOpenRange& o,
               const char* text, uint64_t end, uint8_t extra_flags) {
  const size_t len = o.record.name_id ? 0 : o.record.name_len;
  const size_t size = RecordSize(sizeof(RangeRecord) + len);
  auto* r = static_cast<RangeRecord*>(c.Begin(ts, RecordType::kRange, size, tid, o.record.h.flags));
  if (!r) return;
  if (o.plain) {
    r->start = o.record.start;
    r->name_id = 0;
    r->category = RangeCategory::kNvtx;
    r->range_flags = 0;
    r->payload_type = PayloadType::kNone;
    r->nccl = NcclPayloadKind::kNone;
    r->color = 0;
    r->nvtx_category = 0;
    r->pad0 = 0;
    r->payload = 0;
    r->comm = 0;
    r->bytes = 0;
    r->aux = -1;
    r->rank = -1;
    r->nranks = 0;
    r->pad1 = 0;
  } else {
    std::memcpy(reinterpret_cast<char*>(r) + sizeof(RecordHeader),
                reinterpret_cast<const char*>(&o.record) + sizeof(RecordHeader),
                sizeof(RangeRecord) - sizeof(RecordHeader));
  }
  r->end = end;
  r->domain = o.domain ? DomainNameId(c, o.domain) : 0;
  r->range_flags = static_cast<uint8_t>(r->range_flags | extra_flags);
  r->name_len = static_cast<uint16_t>(len);
  if (len) std::memcpy(reinterpret_cast<char*>(r + 1), text, len);
  c.Commit(ts, size);
}

namespace {

// An open range with no name, colour, payload or NCCL fields yet (copied whole: a few vector
// moves, where a memset and field stores cost more).
constexpr RangeRecord kBlankRange = [] {
  RangeRecord r{};
  r.category = RangeCategory::kNvtx;
  r.payload_type = PayloadType::kNone;
  r.nccl = NcclPayloadKind::kNone;
  r.aux = -1;
  r.rank = -1;
  return r;
}();

void Clear(uint32_t domain, uint64_t start, NvtxOpenRange& o) {
  o.record = kBlankRange;
  o.record.start = start;
  o.domain = domain;
  o.plain = false;
}

// Copies a pushed range's inline name into the stack's text arena (cut when it is full).
void KeepText(NvtxThreadStack* s, NvtxOpenRange& o, const char* text, size_t len) {
  if (s->text_used + len > NvtxThreadStack::kTextBytes)
    len = NvtxThreadStack::kTextBytes - s->text_used;
  if (len) std::memcpy(s->text + s->text_used, text, len);
  o.text_offset = s->text_used;
  o.record.name_len = static_cast<uint16_t>(len);
  s->text_used += static_cast<uint32_t>(len);
}

// NVTX's nesting level of a push in `domain` at stack position `depth`.
int Level(const NvtxThreadStack* s, int depth, uint32_t domain) {
  if (domain == 0 && s->other_domains == 0) return depth;
  int level = 0;
  for (int i = 0; i < depth; ++i)
    level += s->entries[i].domain == domain;
  return level;
}

// The common pushes end here: the stack has room (overflow counted otherwise).
NvtxThreadStack* StackWithRoom(Recorder& rec, int& overflow_level) {
  NvtxThreadStack* s = rec.ts->nvtx ? rec.ts->nvtx : Stack(rec.ts);
  if (!s) return nullptr;
  if (s->depth >= NvtxThreadStack::kMaxDepth) [[unlikely]] {
    ++s->overflow;
    rec.c->stats().nvtx_stack_overflow.fetch_add(1, std::memory_order_relaxed);
    overflow_level = s->depth + s->overflow - 1;
    return nullptr;
  }
  return s;
}

}  // namespace

void Describe(Collector& c, uint32_t domain, const EventAttributes* a, const void* plain,
              int32_t plain_type, NvtxOpenRange& o, Message& m) {
  Clear(domain, 0, o);
  if (a) {
    if (!ValidAttributes(a)) return;
    ReadMessage(c, a->message_type, a->message.ascii, m);
    if (a->color_type == kColorArgb) {
      o.record.range_flags |= kRangeHasColor;
      o.record.color = a->color;
    }
    o.record.nvtx_category = a->category;
    ReadPayload(a, o.record.range_flags, o.record.payload_type, o.record.payload);
    if (IsNcclDomain(domain)) {
      std::string_view name =
          m.name_id ? c.strings().Get(m.name_id) : std::string_view(m.text ? m.text : "", m.len);
      NcclRangeInfo nccl;
      DecodeNcclPayload(c, a, name, nccl);
      o.record.nccl = nccl.kind;
      o.record.comm = nccl.comm;
      o.record.bytes = nccl.bytes;
      o.record.aux = nccl.aux;
      o.record.rank = nccl.rank;
      o.record.nranks = nccl.nranks;
    }
  } else {
    ReadMessage(c, plain_type, plain, m);
  }
  o.record.name_id = m.name_id;
}

int PushAscii(const char* message) {
  Recorder rec;
  if (!BeginRecording(rec)) return 0;
  InsideCollector inside;
  const uint64_t now = NowTicks();
  int overflow_level = 0;
  NvtxThreadStack* s = StackWithRoom(rec, overflow_level);
  if (!s) return overflow_level;
  NvtxOpenRange& o = s->entries[s->depth];
  o.record.h.flags = 0;
  o.record.start = now;
  o.record.name_id = 0;
  o.domain = 0;
  o.plain = true;
  KeepText(s, o, message ? message : "", message ? strnlen(message, kMaxInlineText) : 0);
  return Level(s, s->depth++, 0);
}

int Push(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!BeginRecording(rec)) return 0;
  InsideCollector inside;
  const uint64_t now = NowTicks();
  int overflow_level = 0;
  NvtxThreadStack* s = StackWithRoom(rec, overflow_level);
  if (!s) return overflow_level;
  NvtxOpenRange& o = s->entries[s->depth];
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  o.record.start = now;
  KeepText(s, o, m.text, o.record.name_id || !m.text ? 0 : m.len);
  if (domain != 0) ++s->other_domains;
  return Level(s, s->depth++, domain);
}

int Pop(uint32_t domain) {
  Recorder rec;
  if (!BeginRecording(rec)) return -1;
  InsideCollector inside;
  const uint64_t now = NowTicks();
  NvtxThreadStack* s = rec.ts->nvtx;
  if (!s) {
    rec.c->stats().nvtx_unmatched_pops.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  if (s->overflow > 0) [[unlikely]] {
    --s->overflow;
    return s->depth + s->overflow;
  }
  int i = s->depth - 1;
  while (i >= 0 && s->entries[i].domain != domain)
    --i;
  if (i < 0) {
    rec.c->stats().nvtx_unmatched_pops.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  const NvtxOpenRange& o = s->entries[i];
  EmitRange(*rec.c, rec.ts, rec.ts->tid, o, s->text + o.text_offset, now, 0);
  const int level = Level(s, i, domain);
  if (domain != 0) --s->other_domains;
  if (i == s->depth - 1) [[likely]] {
    s->text_used = o.text_offset;  // the top's name is the last in the arena
    --s->depth;
    return level;
  }
  // A pop in one domain under an open range of another: remove entry i, keep the arena tight.
  for (int k = i; k + 1 < s->depth; ++k)
    s->entries[k] = s->entries[k + 1];
  --s->depth;
  uint32_t used = 0;
  for (int k = 0; k < s->depth; ++k) {
    const uint32_t e = s->entries[k].text_offset + s->entries[k].record.name_len;
    if (e > used) used = e;
  }
  s->text_used = used;
  return level;
}

void Mark(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!BeginRecording(rec)) return;
  InsideCollector inside;
  NvtxOpenRange o;
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  o.record.start = NowTicks();
  o.record.name_len = static_cast<uint16_t>(o.record.name_id ? 0 : m.len);
  EmitRange(*rec.c, rec.ts, rec.ts->tid, o, m.text, o.record.start, kRangeInstant);
}

void NameTrack(Collector& c, ThreadState* ts, uint32_t tid, std::string_view name) {
  const size_t len = name.size() > 255 ? 255 : name.size();
  const size_t size = RecordSize(sizeof(ThreadNameRecord) + len);
  auto* r = static_cast<ThreadNameRecord*>(c.Begin(ts, RecordType::kThreadName, size, tid));
  if (!r) return;
  r->name_len = static_cast<uint16_t>(len);
  std::memset(r->pad, 0, sizeof r->pad);
  std::memcpy(reinterpret_cast<char*>(r + 1), name.data(), len);
  c.Commit(ts, size);
}

void NameThread(uint32_t tid, const char* name, size_t len) {
  Recorder rec;
  if (!BeginRecording(rec) || !name) return;
  InsideCollector inside;
  NameTrack(*rec.c, rec.ts, tid, std::string_view(name, len));
}

}  // namespace nvtx_impl

using namespace nvtx_impl;

void NvtxCloseThread(Collector& c, ThreadState* ts, bool /*at_exit*/) {
  if (!ts || !ts->nvtx) return;
  NvtxThreadStack* s = ts->nvtx;
  const uint64_t now = NowTicks();
  for (int i = s->depth - 1; i >= 0; --i) {
    const NvtxOpenRange& o = s->entries[i];
    EmitRange(c, ts, ts->tid, o, s->text + o.text_offset, now, kRangeUnclosed);
    c.stats().nvtx_unclosed.fetch_add(1, std::memory_order_relaxed);
  }
  s->depth = 0;
  s->overflow = 0;
  s->other_domains = 0;
  s->text_used = 0;
}

void NvtxAttach(Collector& c) {
  // Lives as long as the collector (the library's lives as long as the process).
  if (auto* source = new (std::nothrow) NvtxSource(c)) c.AddSource(source);
}

}  // namespace teye::collector
