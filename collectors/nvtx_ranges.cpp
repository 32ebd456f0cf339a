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
  if (!r.c || !r.c->recording()) return false;
  r.ts = r.c->Thread();
  return r.ts != nullptr;
}

void EmitRange(Collector& c, ThreadState* ts, uint32_t tid, const NvtxOpenRange& o,
               const char* text, uint64_t end, uint8_t extra_flags, RangeCategory category,
               uint8_t header_flags) {
  const size_t len = o.name_id ? 0 : o.text_len;
  const size_t size = RecordSize(sizeof(RangeRecord) + len);
  auto* r = static_cast<RangeRecord*>(c.Begin(ts, RecordType::kRange, size, tid, header_flags));
  if (!r) return;
  r->start = o.start;
  r->end = end;
  r->domain = DomainNameId(c, o.domain);
  r->name_id = o.name_id;
  r->category = category;
  r->range_flags = static_cast<uint8_t>(o.flags | extra_flags);
  r->payload_type = o.payload_type;
  r->nccl = o.nccl;
  r->color = o.color;
  r->nvtx_category = o.category;
  r->name_len = static_cast<uint16_t>(len);
  r->pad0 = 0;
  r->payload = o.payload;
  r->comm = o.nccl_comm;
  r->bytes = o.nccl_bytes;
  r->aux = o.nccl_aux;
  r->rank = o.nccl_rank;
  r->nranks = o.nccl_nranks;
  r->pad1 = 0;
  if (len) std::memcpy(reinterpret_cast<char*>(r + 1), text, len);
  c.Commit(ts, size);
}

void Describe(Collector& c, uint32_t domain, const EventAttributes* a, const void* plain,
              int32_t plain_type, NvtxOpenRange& o, Message& m) {
  o = NvtxOpenRange{};
  o.domain = domain;
  o.payload_type = PayloadType::kNone;
  o.nccl = NcclPayloadKind::kNone;
  o.nccl_rank = -1;
  o.nccl_aux = -1;
  if (a) {
    if (!ValidAttributes(a)) return;
    ReadMessage(c, a->message_type, a->message.ascii, m);
    if (a->color_type == kColorArgb) {
      o.flags |= kRangeHasColor;
      o.color = a->color;
    }
    o.category = a->category;
    ReadPayload(a, o.flags, o.payload_type, o.payload);
    if (IsNcclDomain(domain)) {
      std::string_view name =
          m.name_id ? c.strings().Get(m.name_id) : std::string_view(m.text ? m.text : "", m.len);
      NcclRangeInfo nccl;
      DecodeNcclPayload(c, a, name, nccl);
      o.nccl = nccl.kind;
      o.nccl_comm = nccl.comm;
      o.nccl_bytes = nccl.bytes;
      o.nccl_aux = nccl.aux;
      o.nccl_rank = nccl.rank;
      o.nccl_nranks = nccl.nranks;
    }
  } else {
    ReadMessage(c, plain_type, plain, m);
  }
  o.name_id = m.name_id;
}
int Push(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!BeginRecording(rec)) return 0;
  const uint64_t now = NowTicks();
  InsideCollector inside;
  NvtxThreadStack* s = Stack(rec.ts);
  if (!s) return 0;
  if (s->depth >= NvtxThreadStack::kMaxDepth) {
    ++s->overflow;
    rec.c->stats().nvtx_stack_overflow.fetch_add(1, std::memory_order_relaxed);
    return s->depth + s->overflow - 1;
  }
  NvtxOpenRange& o = s->entries[s->depth];
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  if (!o.name_id && m.text && m.len) {
    size_t len = m.len;
    if (s->text_used + len > NvtxThreadStack::kTextBytes)
      len = NvtxThreadStack::kTextBytes - s->text_used;
    std::memcpy(s->text + s->text_used, m.text, len);
    o.text_offset = s->text_used;
    o.text_len = static_cast<uint16_t>(len);
    s->text_used += static_cast<uint32_t>(len);
  } else {
    o.text_offset = s->text_used;
    o.text_len = 0;
  }
  o.start = now;
  int level = 0;
  for (int i = 0; i < s->depth; ++i)
    level += s->entries[i].domain == domain;
  ++s->depth;
  return level;
}

int Pop(uint32_t domain) {
  Recorder rec;
  if (!BeginRecording(rec)) return -1;
  const uint64_t now = NowTicks();
  InsideCollector inside;
  NvtxThreadStack* s = rec.ts->nvtx;
  if (s && s->overflow > 0) {
    --s->overflow;
    return s->depth + s->overflow;
  }
  int i = s ? s->depth - 1 : -1;
  while (i >= 0 && s->entries[i].domain != domain)
    --i;
  if (i < 0) {
    rec.c->stats().nvtx_unmatched_pops.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  const NvtxOpenRange& o = s->entries[i];
  EmitRange(*rec.c, rec.ts, rec.ts->tid, o, s->text + o.text_offset, now, 0, RangeCategory::kNvtx);
  int level = 0;
  for (int k = 0; k < i; ++k)
    level += s->entries[k].domain == domain;
  // Remove entry i (usually the top); keep the text arena tight.
  for (int k = i; k + 1 < s->depth; ++k)
    s->entries[k] = s->entries[k + 1];
  --s->depth;
  uint32_t used = 0;
  for (int k = 0; k < s->depth; ++k) {
    const uint32_t e = s->entries[k].text_offset + s->entries[k].text_len;
    if (e > used) used = e;
  }
  s->text_used = used;
  return level;
}

void Mark(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!BeginRecording(rec)) return;
  NvtxOpenRange o;
  InsideCollector inside;
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  o.start = NowTicks();
  o.text_len = static_cast<uint16_t>(o.name_id ? 0 : m.len);
  EmitRange(*rec.c, rec.ts, rec.ts->tid, o, m.text, o.start, kRangeInstant, RangeCategory::kNvtx);
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
  NameTrack(*rec.c, rec.ts, tid, std::string_view(name, len));
  InsideCollector inside;
}

}  // namespace nvtx_impl

using namespace nvtx_impl;

void NvtxCloseThread(Collector& c, ThreadState* ts, bool /*at_exit*/) {
  if (!ts || !ts->nvtx) return;
  NvtxThreadStack* s = ts->nvtx;
  const uint64_t now = NowTicks();
  for (int i = s->depth - 1; i >= 0; --i) {
    const NvtxOpenRange& o = s->entries[i];
    EmitRange(c, ts, ts->tid, o, s->text + o.text_offset, now, kRangeUnclosed,
              RangeCategory::kNvtx);
    c.stats().nvtx_unclosed.fetch_add(1, std::memory_order_relaxed);
  }
  s->depth = 0;
  s->overflow = 0;
  s->text_used = 0;
}

void NvtxAttach(Collector& c) {
  // Lives as long as the collector (the library's lives as long as the process).
  if (auto* source = new (std::nothrow) NvtxSource(c)) c.AddSource(source);
}

}  // namespace teye::collector
