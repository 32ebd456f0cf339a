#include "nvtx_injection.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <dlfcn.h>
#include <mutex>

#include "clock.h"
#include "collector.h"
#include "log.h"
#include "raw_io.h"

namespace teye::collector {

// One NVTX range open on a thread (push/pop).
struct NvtxOpenRange {
  uint64_t start;
  uint32_t domain;  // index into g_domains, 0 = default
  uint32_t name_id;
  uint32_t text_offset;
  uint16_t text_len;
  uint8_t flags;  // kRangeHasColor | kRangeHasPayload
  PayloadType payload_type;
  uint32_t color;
  uint32_t category;
  uint64_t payload;
  NcclPayloadKind nccl;
  int32_t nccl_aux;
  int32_t nccl_rank;
  int32_t nccl_nranks;
  uint64_t nccl_comm;
  int64_t nccl_bytes;
};

struct NvtxThreadStack {
  static constexpr int kMaxDepth = 256;
  static constexpr uint32_t kTextBytes = 32 * 1024;
  int depth = 0;     // entries in use (<= kMaxDepth)
  int overflow = 0;  // pushes beyond kMaxDepth, popped first
  uint32_t text_used = 0;
  NvtxOpenRange entries[kMaxDepth];
  char text[kTextBytes];
};

namespace {

using namespace nvtx;

// ---- Domains and registered strings -------------------------------------------------------
// Handles given to NVTX users are small integers (index + 1), so any handle can be checked.

constexpr uint32_t kMaxDomains = 1024;
constexpr uint32_t kMaxStrings = 1 << 20;
constexpr uint32_t kStringBlock = 4096;

struct DomainEntry {
  const char* name = nullptr;  // owned, never freed
  bool is_nccl = false;
  DomainHandle next_handle = nullptr;  // the chained tool's handle
  Collector* owner = nullptr;          // name_id belongs to this collector
  uint32_t name_id = 0;
};
struct StringEntry {
  const char* text = nullptr;
  StringHandle next_handle = nullptr;
  Collector* owner = nullptr;
  uint32_t id = 0;
};

std::mutex g_registry_mutex;  // domains, strings, start/end ranges
DomainEntry g_domains[kMaxDomains];
std::atomic<uint32_t> g_domain_count{1};  // 0 is the default domain
std::atomic<StringEntry*> g_string_blocks[kMaxStrings / kStringBlock];
std::atomic<uint32_t> g_string_count{1};

// ---- Start/end ranges ---------------------------------------------------------------------

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
uint32_t g_lanes_named = 0;  // lanes whose track name was written (per process)

// ---- Chaining to another NVTX tool ---------------------------------------------------------

FunctionPointer g_next_core[kCoreSize] = {};
FunctionPointer g_next_core2[kCore2Size] = {};
int (*g_chain_init)(GetExportTableFn) = nullptr;
std::once_flag g_chain_once;

template <typename Fn>
Fn Next(FunctionPointer* table, unsigned cbid) {
  return reinterpret_cast<Fn>(table[cbid]);
}

// ---- Helpers ------------------------------------------------------------------------------

const DomainEntry* Domain(DomainHandle h) {
  const auto index = reinterpret_cast<uintptr_t>(h);
  if (index == 0 || index > g_domain_count.load(std::memory_order_acquire)) return nullptr;
  return &g_domains[index - 1];
}
uint32_t DomainIndex(DomainHandle h) {
  const DomainEntry* d = Domain(h);
  return d ? static_cast<uint32_t>(d - g_domains) : 0;
}
DomainHandle NextDomain(DomainHandle h) {
  const DomainEntry* d = Domain(h);
  return d ? d->next_handle : nullptr;
}

const StringEntry* String(StringHandle h) {
  const auto index = reinterpret_cast<uintptr_t>(h);
  if (index == 0 || index >= g_string_count.load(std::memory_order_acquire)) return nullptr;
  StringEntry* block = g_string_blocks[index / kStringBlock].load(std::memory_order_acquire);
  return block ? &block[index % kStringBlock] : nullptr;
}

// The collector's string id for a domain's name / a registered string (interned lazily, per
// collector, so ids stay right across collectors in tests).
uint32_t DomainNameId(Collector& c, uint32_t domain) {
  if (domain == 0 || domain >= kMaxDomains) return 0;
  DomainEntry& d = g_domains[domain];
  if (d.owner != &c) {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    d.name_id = c.strings().Intern(d.name ? d.name : "");
    d.owner = &c;
  }
  return d.name_id;
}

uint32_t RegisteredStringId(Collector& c, StringHandle h) {
  const StringEntry* e = String(h);
  if (!e) return 0;
  auto* s = const_cast<StringEntry*>(e);
  if (s->owner != &c) {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    s->id = c.strings().Intern(s->text ? s->text : "");
    s->owner = &c;
  }
  return s->id;
}

// UTF-32 (wchar_t on Linux) to UTF-8, cut at `cap` bytes.
size_t WideToUtf8(const wchar_t* w, char* out, size_t cap) {
  size_t n = 0;
  for (; *w; ++w) {
    uint32_t c = static_cast<uint32_t>(*w);
    char buf[4];
    size_t len;
    if (c < 0x80) {
      buf[0] = static_cast<char>(c);
      len = 1;
    } else if (c < 0x800) {
      buf[0] = static_cast<char>(0xC0 | (c >> 6));
      buf[1] = static_cast<char>(0x80 | (c & 0x3F));
      len = 2;
    } else if (c < 0x10000) {
      buf[0] = static_cast<char>(0xE0 | (c >> 12));
      buf[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[2] = static_cast<char>(0x80 | (c & 0x3F));
      len = 3;
    } else {
      if (c > 0x10FFFF) c = 0xFFFD;
      buf[0] = static_cast<char>(0xF0 | (c >> 18));
      buf[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      buf[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[3] = static_cast<char>(0x80 | (c & 0x3F));
      len = 4;
    }
    if (n + len > cap) break;
    std::memcpy(out + n, buf, len);
    n += len;
  }
  return n;
}

// A message as the collector keeps it: an interned id (registered strings) or text.
struct Message {
  uint32_t name_id = 0;
  const char* text = nullptr;
  size_t len = 0;
  char wide_buf[512];
};

void ReadMessage(Collector& c, int32_t type, const void* value, Message& m) {
  if (!value) return;
  switch (type) {
    case kMessageAscii:
      m.text = static_cast<const char*>(value);
      m.len = strnlen(m.text, kMaxInlineText);
      return;
    case kMessageUnicode:
      m.len = WideToUtf8(static_cast<const wchar_t*>(value), m.wide_buf, sizeof m.wide_buf);
      m.text = m.wide_buf;
      return;
    case kMessageRegistered:
      m.name_id = RegisteredStringId(c, const_cast<void*>(value));
      return;
    default:
      return;
  }
}

bool ValidAttributes(const EventAttributes* a) {
  // Older layouts (v1) are 48 bytes and laid out alike up to the message.
  return a && a->size >= 48;
}

void ReadPayload(const EventAttributes* a, uint8_t& flags, PayloadType& type, uint64_t& bits) {
  switch (a->payload_type) {
    case kPayloadU64:
      type = PayloadType::kU64;
      break;
    case kPayloadI64:
      type = PayloadType::kI64;
      break;
    case kPayloadDouble:
      type = PayloadType::kDouble;
      break;
    case kPayloadU32:
      type = PayloadType::kU32;
      break;
    case kPayloadI32:
      type = PayloadType::kI32;
      break;
    case kPayloadFloat:
      type = PayloadType::kFloat;
      break;
    default:
      type = PayloadType::kNone;
      return;
  }
  flags |= kRangeHasPayload;
  bits = type == PayloadType::kU32 || type == PayloadType::kI32 || type == PayloadType::kFloat
             ? a->payload.ui_value
             : a->payload.ull_value;
}

// ---- NCCL's extended payloads -------------------------------------------------------------
// NCCL (>= 2.24) attaches one nvtxPayloadData_t to each API range: a struct whose first field is
// the communicator hash; collectives continue with the message size in bytes, then the
// reduction op or root; p2p with bytes and peer; ncclCommInitRank* with nranks, myrank, cudaDev.
// The layouts are read by the range's name, which is stable across NCCL versions, rather than by
// schema id, which is not.

struct CommRank {
  uint64_t comm = 0;
  int32_t rank = -1;
  int32_t nranks = 0;
};
constexpr int kMaxComms = 64;
CommRank g_comms[kMaxComms];
std::atomic<int> g_comm_count{0};

void RememberComm(uint64_t comm, int rank, int nranks) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  const int n = g_comm_count.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i)
    if (g_comms[i].comm == comm) {
      g_comms[i].rank = rank;
      g_comms[i].nranks = nranks;
      return;
    }
  if (n < kMaxComms) {
    g_comms[n] = CommRank{comm, rank, nranks};
    g_comm_count.store(n + 1, std::memory_order_release);
  }
}

const CommRank* FindComm(uint64_t comm) {
  const int n = g_comm_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    if (g_comms[i].comm == comm) return &g_comms[i];
  return nullptr;
}

template <typename T>
T Field(const uint8_t* p, size_t offset) {
  T v;
  std::memcpy(&v, p + offset, sizeof v);
  return v;
}

void DecodeNcclPayload(Collector& c, const EventAttributes* a, std::string_view name,
                       NvtxOpenRange& r) {
  if (a->payload_type != kPayloadTypeExt || a->reserved0 < 1 || !a->payload.ull_value) return;
  const auto* data = reinterpret_cast<const PayloadData*>(a->payload.ull_value);
  if (!data->payload || data->size < 8) return;
  const auto* p = static_cast<const uint8_t*>(data->payload);
  const size_t size = data->size;
  if (name.rfind("nccl", 0) == 0) name.remove_prefix(4);
  r.nccl_comm = Field<uint64_t>(p, 0);
  r.nccl_aux = -1;
  if (name.rfind("CommInitRank", 0) == 0 || name == "CommDestroy" || name == "CommAbort") {
    if (size < 20) return;
    r.nccl = NcclPayloadKind::kCommInit;
    r.nccl_nranks = Field<int32_t>(p, 8);
    r.nccl_rank = Field<int32_t>(p, 12);
    r.nccl_aux = Field<int32_t>(p, 16);  // CUDA device
    if (name.rfind("CommInitRank", 0) == 0) {
      RememberComm(r.nccl_comm, r.nccl_rank, r.nccl_nranks);
      c.NoteRank(r.nccl_rank, r.nccl_nranks, "nccl");
    }
    return;
  }
  if (name == "CommSplit") {
    if (size < 28) return;
    r.nccl = NcclPayloadKind::kCommInit;
    r.nccl_nranks = Field<int32_t>(p, 16);
    r.nccl_rank = Field<int32_t>(p, 20);
    r.nccl_aux = Field<int32_t>(p, 24);
    RememberComm(r.nccl_comm, r.nccl_rank, r.nccl_nranks);
    return;
  }
  const bool p2p = name == "Send" || name == "Recv";
  const bool coll = name == "AllReduce" || name == "AllGather" || name == "ReduceScatter" ||
                    name == "Broadcast" || name == "Reduce" || name == "AllToAll" ||
                    name == "AlltoAll" || name == "Gather" || name == "Scatter";
  if ((!p2p && !coll) || size < 16) return;
  r.nccl = p2p ? NcclPayloadKind::kP2p : NcclPayloadKind::kCollective;
  r.nccl_bytes = static_cast<int64_t>(Field<uint64_t>(p, 8));
  if (size >= 20) {
    if (name == "Reduce")
      r.nccl_aux = size >= 24 ? Field<int32_t>(p, 20) : -1;  // op (root is at 16)
    else
      r.nccl_aux = Field<int32_t>(p, 16);  // op, root (Broadcast) or peer (Send/Recv)
  }
  if (const CommRank* cr = FindComm(r.nccl_comm)) {
    r.nccl_rank = cr->rank;
    r.nccl_nranks = cr->nranks;
  }
}

// ---- Recording ----------------------------------------------------------------------------

struct Recorder {
  Collector* c;
  ThreadState* ts;
};

inline bool Begin(Recorder& r) {
  r.c = Collector::Active();
  if (!r.c || !r.c->recording()) return false;
  r.ts = r.c->Thread();
  return r.ts != nullptr;
}

NvtxThreadStack* Stack(ThreadState* ts) {
  if (!ts->nvtx) {
    void* mem = std::malloc(sizeof(NvtxThreadStack));
    if (!mem) return nullptr;
    ts->nvtx = new (mem) NvtxThreadStack;
  }
  return ts->nvtx;
}

// Appends a finished range.
void EmitRange(Collector& c, ThreadState* ts, uint32_t tid, const NvtxOpenRange& o,
               const char* text, uint64_t end, uint8_t extra_flags, RangeCategory category,
               uint8_t header_flags = 0) {
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

// Fills an open range from attributes (or a plain message).
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
    if (domain && g_domains[domain].is_nccl) {
      std::string_view name =
          m.name_id ? c.strings().Get(m.name_id) : std::string_view(m.text ? m.text : "", m.len);
      DecodeNcclPayload(c, a, name, o);
    }
  } else {
    ReadMessage(c, plain_type, plain, m);
  }
  o.name_id = m.name_id;
}

int Push(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!Begin(rec)) return 0;
  const uint64_t now = NowTicks();
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
  if (!Begin(rec)) return -1;
  const uint64_t now = NowTicks();
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
  if (!Begin(rec)) return;
  NvtxOpenRange o;
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

RangeId Start(uint32_t domain, const EventAttributes* a, const void* plain, int32_t plain_type) {
  Recorder rec;
  if (!Begin(rec)) return 0;
  const uint64_t now = NowTicks();
  NvtxOpenRange o;
  Message m;
  Describe(*rec.c, domain, a, plain, plain_type, o, m);
  if (!o.name_id && m.text && m.len)
    o.name_id = rec.c->strings().Intern(std::string_view(m.text, m.len));
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  if (!g_start_end) {
    g_start_end = static_cast<StartEndRange*>(std::calloc(kMaxOpenStartEnd, sizeof(StartEndRange)));
    if (!g_start_end) return 0;
  }
  const uint64_t id = g_next_range_id++;
  for (uint32_t probe = 0; probe < 64; ++probe) {
    StartEndRange& slot = g_start_end[(id + probe) & (kMaxOpenStartEnd - 1)];
    if (slot.id) continue;
    int lane = 0;
    while (lane < kStartEndLanes - 1 && (g_lanes_busy & (1u << lane)))
      ++lane;
    g_lanes_busy |= 1u << lane;
    slot =
        StartEndRange{id,         now,       domain,  o.name_id,      o.color,
                      o.category, o.payload, o.flags, o.payload_type, static_cast<uint8_t>(lane)};
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
  if (!Begin(rec)) return;
  const uint64_t now = NowTicks();
  StartEndRange found;
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
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
  o.start = found.start;
  o.domain = found.domain;
  o.name_id = found.name_id;
  o.color = found.color;
  o.category = found.category;
  o.payload = found.payload;
  o.flags = found.flags;
  o.payload_type = found.payload_type;
  o.nccl = NcclPayloadKind::kNone;
  o.nccl_rank = -1;
  o.nccl_aux = -1;
  EmitRange(*rec.c, rec.ts, static_cast<uint32_t>(kStartEndTrackBase + found.lane), o, nullptr, now,
            kRangeStartEnd, RangeCategory::kNvtx);
}

void NameThread(uint32_t tid, const char* name, size_t len) {
  Recorder rec;
  if (!Begin(rec) || !name) return;
  NameTrack(*rec.c, rec.ts, tid, std::string_view(name, len));
}

// ---- The callbacks installed in NVTX's slots ------------------------------------------------
// Each records, then forwards to the chained tool when there is one.

#define TEYE_CHAIN(table, cbid, type, ...)                      \
  do {                                                          \
    if (auto next = Next<type>(table, cbid)) next(__VA_ARGS__); \
  } while (0)

using MarkExFn = void (*)(const EventAttributes*);
using MarkAFn = void (*)(const char*);
using MarkWFn = void (*)(const wchar_t*);
using StartExFn = RangeId (*)(const EventAttributes*);
using StartAFn = RangeId (*)(const char*);
using StartWFn = RangeId (*)(const wchar_t*);
using EndFn = void (*)(RangeId);
using PushExFn = int (*)(const EventAttributes*);
using PushAFn = int (*)(const char*);
using PushWFn = int (*)(const wchar_t*);
using PopFn = int (*)();
using NameCategoryAFn = void (*)(uint32_t, const char*);
using NameCategoryWFn = void (*)(uint32_t, const wchar_t*);
using NameOsThreadAFn = void (*)(uint32_t, const char*);
using NameOsThreadWFn = void (*)(uint32_t, const wchar_t*);
using DomainMarkExFn = void (*)(DomainHandle, const EventAttributes*);
using DomainStartExFn = RangeId (*)(DomainHandle, const EventAttributes*);
using DomainEndFn = void (*)(DomainHandle, RangeId);
using DomainPushExFn = int (*)(DomainHandle, const EventAttributes*);
using DomainPopFn = int (*)(DomainHandle);
using DomainNameCategoryAFn = void (*)(DomainHandle, uint32_t, const char*);
using DomainNameCategoryWFn = void (*)(DomainHandle, uint32_t, const wchar_t*);
using DomainRegisterStringAFn = StringHandle (*)(DomainHandle, const char*);
using DomainRegisterStringWFn = StringHandle (*)(DomainHandle, const wchar_t*);
using DomainCreateAFn = DomainHandle (*)(const char*);
using DomainCreateWFn = DomainHandle (*)(const wchar_t*);
using DomainDestroyFn = void (*)(DomainHandle);
using InitializeFn = void (*)(const void*);

// Attributes as the chained tool knows them: its own registered-string handle.
const EventAttributes* ForChain(const EventAttributes* a, EventAttributes& copy) {
  if (!a || !ValidAttributes(a) || a->message_type != kMessageRegistered) return a;
  copy = *a;
  const StringEntry* s = String(a->message.registered);
  copy.message.registered = s ? s->next_handle : nullptr;
  return &copy;
}

void MarkEx(const EventAttributes* a) noexcept {
  Mark(0, a, nullptr, 0);
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kMarkEx, MarkExFn, ForChain(a, copy));
}
void MarkA(const char* m) noexcept {
  Mark(0, nullptr, m, kMessageAscii);
  TEYE_CHAIN(g_next_core, kMarkA, MarkAFn, m);
}
void MarkW(const wchar_t* m) noexcept {
  Mark(0, nullptr, m, kMessageUnicode);
  TEYE_CHAIN(g_next_core, kMarkW, MarkWFn, m);
}
// Start/end ranges are not forwarded by id: the chained tool gets its own ids (kept per range).
RangeId RangeStartEx(const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kRangeStartEx, StartExFn, ForChain(a, copy));
  return Start(0, a, nullptr, 0);
}
RangeId RangeStartA(const char* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangeStartA, StartAFn, m);
  return Start(0, nullptr, m, kMessageAscii);
}
RangeId RangeStartW(const wchar_t* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangeStartW, StartWFn, m);
  return Start(0, nullptr, m, kMessageUnicode);
}
void RangeEnd(RangeId id) noexcept {
  End(id);
}
int RangePushEx(const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kRangePushEx, PushExFn, ForChain(a, copy));
  return Push(0, a, nullptr, 0);
}
int RangePushA(const char* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangePushA, PushAFn, m);
  return Push(0, nullptr, m, kMessageAscii);
}
int RangePushW(const wchar_t* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangePushW, PushWFn, m);
  return Push(0, nullptr, m, kMessageUnicode);
}
int RangePop() noexcept {
  TEYE_CHAIN(g_next_core, kRangePop, PopFn);
  return Pop(0);
}
void NameCategoryA(uint32_t category, const char* name) noexcept {
  TEYE_CHAIN(g_next_core, kNameCategoryA, NameCategoryAFn, category, name);
}
void NameCategoryW(uint32_t category, const wchar_t* name) noexcept {
  TEYE_CHAIN(g_next_core, kNameCategoryW, NameCategoryWFn, category, name);
}
void NameOsThreadA(uint32_t tid, const char* name) noexcept {
  if (name) NameThread(tid, name, strnlen(name, 255));
  TEYE_CHAIN(g_next_core, kNameOsThreadA, NameOsThreadAFn, tid, name);
}
void NameOsThreadW(uint32_t tid, const wchar_t* name) noexcept {
  if (name) {
    char buf[256];
    NameThread(tid, buf, WideToUtf8(name, buf, sizeof buf));
  }
  TEYE_CHAIN(g_next_core, kNameOsThreadW, NameOsThreadWFn, tid, name);
}

void DomainMarkEx(DomainHandle d, const EventAttributes* a) noexcept {
  Mark(DomainIndex(d), a, nullptr, 0);
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainMarkEx, DomainMarkExFn, NextDomain(d), ForChain(a, copy));
}
RangeId DomainRangeStartEx(DomainHandle d, const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainRangeStartEx, DomainStartExFn, NextDomain(d), ForChain(a, copy));
  return Start(DomainIndex(d), a, nullptr, 0);
}
void DomainRangeEnd(DomainHandle, RangeId id) noexcept {
  End(id);
}
int DomainRangePushEx(DomainHandle d, const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainRangePushEx, DomainPushExFn, NextDomain(d), ForChain(a, copy));
  return Push(DomainIndex(d), a, nullptr, 0);
}
int DomainRangePop(DomainHandle d) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainRangePop, DomainPopFn, NextDomain(d));
  return Pop(DomainIndex(d));
}
void DomainNameCategoryA(DomainHandle d, uint32_t category, const char* name) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainNameCategoryA, DomainNameCategoryAFn, NextDomain(d), category,
             name);
}
void DomainNameCategoryW(DomainHandle d, uint32_t category, const wchar_t* name) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainNameCategoryW, DomainNameCategoryWFn, NextDomain(d), category,
             name);
}

StringHandle RegisterString(DomainHandle d, const char* text, StringHandle next) {
  if (!text) return nullptr;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  const uint32_t index = g_string_count.load(std::memory_order_relaxed);
  if (index >= kMaxStrings) return nullptr;
  auto& block_ptr = g_string_blocks[index / kStringBlock];
  StringEntry* block = block_ptr.load(std::memory_order_relaxed);
  if (!block) {
    block = static_cast<StringEntry*>(std::calloc(kStringBlock, sizeof(StringEntry)));
    if (!block) return nullptr;
    block_ptr.store(block, std::memory_order_release);
  }
  char* copy = strndup(text, kMaxInlineText);
  if (!copy) return nullptr;
  StringEntry& e = block[index % kStringBlock];
  e.text = copy;
  e.next_handle = next;
  e.owner = nullptr;
  (void)d;
  g_string_count.store(index + 1, std::memory_order_release);
  return reinterpret_cast<StringHandle>(static_cast<uintptr_t>(index));
}

StringHandle DomainRegisterStringA(DomainHandle d, const char* s) noexcept {
  StringHandle next = nullptr;
  if (auto fn = Next<DomainRegisterStringAFn>(g_next_core2, kDomainRegisterStringA))
    next = fn(NextDomain(d), s);
  return RegisterString(d, s, next);
}
StringHandle DomainRegisterStringW(DomainHandle d, const wchar_t* s) noexcept {
  StringHandle next = nullptr;
  if (auto fn = Next<DomainRegisterStringWFn>(g_next_core2, kDomainRegisterStringW))
    next = fn(NextDomain(d), s);
  if (!s) return nullptr;
  char buf[1024];
  const size_t n = WideToUtf8(s, buf, sizeof buf - 1);
  buf[n] = '\0';
  return RegisterString(d, buf, next);
}

DomainHandle CreateDomain(const char* name, DomainHandle next) {
  if (!name) return nullptr;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  const uint32_t n = g_domain_count.load(std::memory_order_relaxed);
  for (uint32_t i = 1; i < n; ++i)
    if (g_domains[i].name && std::strcmp(g_domains[i].name, name) == 0)
      return reinterpret_cast<DomainHandle>(static_cast<uintptr_t>(i + 1));
  if (n >= kMaxDomains) return nullptr;
  DomainEntry& d = g_domains[n];
  d.name = strndup(name, 256);
  if (!d.name) return nullptr;
  d.is_nccl = std::strcmp(name, "NCCL") == 0;
  d.next_handle = next;
  d.owner = nullptr;
  g_domain_count.store(n + 1, std::memory_order_release);
  return reinterpret_cast<DomainHandle>(static_cast<uintptr_t>(n + 1));
}

DomainHandle DomainCreateA(const char* name) noexcept {
  DomainHandle next = nullptr;
  if (auto fn = Next<DomainCreateAFn>(g_next_core2, kDomainCreateA)) next = fn(name);
  return CreateDomain(name, next);
}
DomainHandle DomainCreateW(const wchar_t* name) noexcept {
  DomainHandle next = nullptr;
  if (auto fn = Next<DomainCreateWFn>(g_next_core2, kDomainCreateW)) next = fn(name);
  if (!name) return nullptr;
  char buf[257];
  const size_t n = WideToUtf8(name, buf, sizeof buf - 1);
  buf[n] = '\0';
  return CreateDomain(buf, next);
}
void DomainDestroy(DomainHandle d) noexcept {
  // Domains stay registered (ranges may still name them); only the chained tool is told.
  TEYE_CHAIN(g_next_core2, kDomainDestroy, DomainDestroyFn, NextDomain(d));
}
void Initialize(const void* reserved) noexcept {
  TEYE_CHAIN(g_next_core2, kInitialize, InitializeFn, reserved);
}

struct Slot {
  int module;
  unsigned cbid;
  FunctionPointer fn;
};
#define TEYE_SLOT(module, cbid, fn)                      \
  Slot {                                                 \
    module, cbid, reinterpret_cast<FunctionPointer>(&fn) \
  }
const Slot kSlots[] = {
    TEYE_SLOT(kModuleCore, kMarkEx, MarkEx),
    TEYE_SLOT(kModuleCore, kMarkA, MarkA),
    TEYE_SLOT(kModuleCore, kMarkW, MarkW),
    TEYE_SLOT(kModuleCore, kRangeStartEx, RangeStartEx),
    TEYE_SLOT(kModuleCore, kRangeStartA, RangeStartA),
    TEYE_SLOT(kModuleCore, kRangeStartW, RangeStartW),
    TEYE_SLOT(kModuleCore, kRangeEnd, RangeEnd),
    TEYE_SLOT(kModuleCore, kRangePushEx, RangePushEx),
    TEYE_SLOT(kModuleCore, kRangePushA, RangePushA),
    TEYE_SLOT(kModuleCore, kRangePushW, RangePushW),
    TEYE_SLOT(kModuleCore, kRangePop, RangePop),
    TEYE_SLOT(kModuleCore, kNameCategoryA, NameCategoryA),
    TEYE_SLOT(kModuleCore, kNameCategoryW, NameCategoryW),
    TEYE_SLOT(kModuleCore, kNameOsThreadA, NameOsThreadA),
    TEYE_SLOT(kModuleCore, kNameOsThreadW, NameOsThreadW),
    TEYE_SLOT(kModuleCore2, kDomainMarkEx, DomainMarkEx),
    TEYE_SLOT(kModuleCore2, kDomainRangeStartEx, DomainRangeStartEx),
    TEYE_SLOT(kModuleCore2, kDomainRangeEnd, DomainRangeEnd),
    TEYE_SLOT(kModuleCore2, kDomainRangePushEx, DomainRangePushEx),
    TEYE_SLOT(kModuleCore2, kDomainRangePop, DomainRangePop),
    TEYE_SLOT(kModuleCore2, kDomainNameCategoryA, DomainNameCategoryA),
    TEYE_SLOT(kModuleCore2, kDomainNameCategoryW, DomainNameCategoryW),
    TEYE_SLOT(kModuleCore2, kDomainRegisterStringA, DomainRegisterStringA),
    TEYE_SLOT(kModuleCore2, kDomainRegisterStringW, DomainRegisterStringW),
    TEYE_SLOT(kModuleCore2, kDomainCreateA, DomainCreateA),
    TEYE_SLOT(kModuleCore2, kDomainCreateW, DomainCreateW),
    TEYE_SLOT(kModuleCore2, kDomainDestroy, DomainDestroy),
    TEYE_SLOT(kModuleCore2, kInitialize, Initialize),
};

bool GetTable(const ExportTableCallbacks* cb, int module, FunctionTable& table, unsigned& size) {
  table = nullptr;
  size = 0;
  if (!cb->GetModuleFunctionTable(module, &table, &size) || !table) return false;
  return true;
}

// Loads the tool named by TEYE_NVTX_CHAIN (once per process).
void LoadChain(const char* path) {
  if (!path || !*path) return;
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    Log("NVTX: cannot load the chained NVTX tool %s (%s)", path, dlerror());
    return;
  }
  if (dlsym(handle, "teye_collector_entry_points")) return;  // another copy of teye: not a tool
  void* init = dlsym(handle, "InitializeInjectionNvtx2");
  Dl_info self{}, other{};
  if (init && dladdr(reinterpret_cast<void*>(&NvtxInitialize), &self) && dladdr(init, &other) &&
      self.dli_fbase == other.dli_fbase)
    return;  // it is this library
  g_chain_init = reinterpret_cast<int (*)(GetExportTableFn)>(init);
  if (!g_chain_init) Log("NVTX: %s has no InitializeInjectionNvtx2; not chained", path);
}

class NvtxSource : public Source {
 public:
  explicit NvtxSource(Collector& c) : c_(c) {}
  void OnFlush(bool final) override {
    if (final) NvtxCloseThread(c_, c_.Thread(), false);
  }
  void OnForkChild() override {
    // Ranges open in the parent are the parent's.
    if (ThreadState* ts = t_slot.state) {
      if (ts->nvtx) {
        ts->nvtx->depth = 0;
        ts->nvtx->overflow = 0;
        ts->nvtx->text_used = 0;
      }
    }
    if (g_start_end)
      for (uint32_t i = 0; i < kMaxOpenStartEnd; ++i)
        g_start_end[i] = StartEndRange{};
    g_lanes_busy = 0;
    g_lanes_named = 0;
  }

 private:
  Collector& c_;
};

}  // namespace

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

void NvtxLockForFork(bool lock) {
  if (lock)
    g_registry_mutex.lock();
  else
    g_registry_mutex.unlock();
}

void NvtxAttach(Collector& c) {
  // Lives as long as the collector (the library's lives as long as the process).
  if (auto* source = new (std::nothrow) NvtxSource(c)) c.AddSource(source);
}

int NvtxInitialize(GetExportTableFn get_export_table) {
  // A chained tool that calls back into us (directly or through another copy) must not loop.
  static thread_local bool initializing = false;
  if (!get_export_table || initializing) return 0;
  struct Guard {
    Guard() { initializing = true; }
    ~Guard() { initializing = false; }
  } guard;
  const auto* cb = static_cast<const ExportTableCallbacks*>(get_export_table(kEtidCallbacks));
  if (!cb || cb->struct_size < sizeof(ExportTableCallbacks) || !cb->GetModuleFunctionTable)
    return 0;
  FunctionTable core, core2;
  unsigned core_size, core2_size;
  const bool have_core = GetTable(cb, kModuleCore, core, core_size);
  const bool have_core2 = GetTable(cb, kModuleCore2, core2, core2_size);
  if (!have_core && !have_core2) return 0;

  Collector* c = Collector::Active();
  const bool record = c && c->config().nvtx;
  const std::string chain = c ? c->config().nvtx_chain : std::string();
  std::call_once(g_chain_once, [&] { LoadChain(chain.c_str()); });
  if (g_chain_init) {
    // Let the other tool fill the slots first, then keep what it changed as "next". Slots it
    // left alone still hold NVTX's own init stubs, which must never be called from here.
    FunctionPointer before_core[kCoreSize] = {}, before_core2[kCore2Size] = {};
    for (unsigned i = 1; have_core && i < core_size && i < kCoreSize; ++i)
      if (core[i]) before_core[i] = *core[i];
    for (unsigned i = 1; have_core2 && i < core2_size && i < kCore2Size; ++i)
      if (core2[i]) before_core2[i] = *core2[i];
    if (g_chain_init(get_export_table)) {
      for (unsigned i = 1; have_core && i < core_size && i < kCoreSize; ++i)
        if (core[i] && *core[i] != before_core[i]) g_next_core[i] = *core[i];
      for (unsigned i = 1; have_core2 && i < core2_size && i < kCore2Size; ++i)
        if (core2[i] && *core2[i] != before_core2[i]) g_next_core2[i] = *core2[i];
    }
    if (!record) return 1;
  }
  if (!record && !g_chain_init) return c ? 0 : 1;  // TEYE_NVTX=0: NVTX becomes no-ops
  for (const Slot& s : kSlots) {
    FunctionTable table = s.module == kModuleCore ? core : core2;
    unsigned size = s.module == kModuleCore ? core_size : core2_size;
    if (!table || s.cbid >= size || !table[s.cbid]) continue;
    *table[s.cbid] = s.fn;
  }
  if (const auto* v =
          static_cast<const ExportTableVersionInfo*>(get_export_table(kEtidVersionInfo));
      v && v->struct_size >= sizeof(ExportTableVersionInfo) && v->SetInjectionNvtxVersion)
    v->SetInjectionNvtxVersion(3);
  return 1;
}

}  // namespace teye::collector
