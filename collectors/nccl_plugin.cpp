// The NCCL profiler plugin (NCCL_PROFILER_PLUGIN=<libteye_collector.so>): one record per
// collective and p2p operation with what NCCL decided for it — algorithm, protocol, channels,
// count, datatype — from enqueue to completion, on a track per communicator.
#include "nccl_plugin.h"

#include <atomic>
#include <cstring>
#include <new>

#include "clock.h"
#include "collector.h"
#include "raw_io.h"

namespace teye::collector {
namespace {

using namespace nccl;

struct CommContext {
  uint64_t hash = 0;
  const char* name = nullptr;  // owned copy
  int rank = -1;
  int nranks = 0;
  int nnodes = 0;
  uint16_t index = 0;
  std::atomic<uint32_t> lanes_busy{0};
};

struct Event {
  std::atomic<bool> used{false};
  CommContext* comm = nullptr;
  uint64_t start = 0;
  uint32_t tid = 0;
  bool p2p = false;
  uint8_t lane = 0;
  uint8_t nchannels = 0;
  uint8_t nwarps = 0;
  uint64_t seq = 0;
  uint64_t count = 0;
  int32_t root = -1;
  int32_t peer = -1;
  const char* func = nullptr;
  const char* dtype = nullptr;
  const char* algo = nullptr;
  const char* proto = nullptr;
};

constexpr uint32_t kMaxEvents = 8192;  // outstanding operations; more are counted and skipped
constexpr uint32_t kLanes = 8;
Event* g_events = nullptr;
std::atomic<uint32_t> g_next_event{0};
std::atomic<uint16_t> g_comm_count{0};

// NCCL's name strings are static: remember their ids by pointer.
struct NameCacheEntry {
  std::atomic<const char*> ptr{nullptr};
  std::atomic<uint32_t> id{0};
  std::atomic<Collector*> owner{nullptr};
};
NameCacheEntry g_names[256];

uint32_t NameId(Collector& c, const char* s) {
  if (!s) return 0;
  const size_t slot = (reinterpret_cast<uintptr_t>(s) >> 3) % std::size(g_names);
  NameCacheEntry& e = g_names[slot];
  if (e.ptr.load(std::memory_order_acquire) == s && e.owner.load(std::memory_order_relaxed) == &c)
    return e.id.load(std::memory_order_relaxed);
  const uint32_t id = c.strings().Intern(std::string_view(s, strnlen(s, 128)));
  e.id.store(id, std::memory_order_relaxed);
  e.owner.store(&c, std::memory_order_relaxed);
  e.ptr.store(s, std::memory_order_release);
  return id;
}

Event* AllocateEvent() {
  if (!g_events) return nullptr;
  for (uint32_t tries = 0; tries < 64; ++tries) {
    Event& e = g_events[g_next_event.fetch_add(1, std::memory_order_relaxed) % kMaxEvents];
    bool expected = false;
    if (e.used.compare_exchange_strong(expected, true, std::memory_order_acquire)) return &e;
  }
  return nullptr;
}

uint8_t TakeLane(CommContext* comm) {
  uint32_t busy = comm->lanes_busy.load(std::memory_order_relaxed);
  for (;;) {
    uint8_t lane = 0;
    while (lane < kLanes - 1 && (busy & (1u << lane)))
      ++lane;
    if (comm->lanes_busy.compare_exchange_weak(busy, busy | (1u << lane))) return lane;
  }
}

Result Init(void** context, uint64_t comm_id, int* activation_mask, const char* comm_name,
            int n_nodes, int nranks, int rank) {
  if (activation_mask) *activation_mask = 0;
  if (context) *context = nullptr;
  Collector* c = Collector::Active();
  if (!c || !context || !activation_mask) return kSuccess;
  static std::atomic<Event*> events{nullptr};
  if (!events.load()) {
    Event* fresh = new (std::nothrow) Event[kMaxEvents];
    Event* expected = nullptr;
    if (fresh && !events.compare_exchange_strong(expected, fresh)) delete[] fresh;
    g_events = events.load();
  }
  auto* comm = new (std::nothrow) CommContext;
  if (!comm || !g_events) return kSuccess;
  comm->hash = comm_id;
  comm->name = comm_name ? strndup(comm_name, 128) : nullptr;
  comm->rank = rank;
  comm->nranks = nranks;
  comm->nnodes = n_nodes;
  comm->index = g_comm_count.fetch_add(1, std::memory_order_relaxed);
  *context = comm;
  *activation_mask = static_cast<int>(kProfileColl | kProfileP2p);
  c->NoteNcclPlugin();
  c->NoteRank(rank, nranks, "nccl");
  return kSuccess;
}

template <typename Descr>
Result StartEvent(void* context, void** handle, Descr* d, uint64_t type) {
  if (handle) *handle = nullptr;
  auto* comm = static_cast<CommContext*>(context);
  Collector* c = Collector::Active();
  if (!comm || !handle || !d || !c || !c->recording()) return kSuccess;
  if (!(type & (kProfileColl | kProfileP2p))) return kSuccess;
  Event* e = AllocateEvent();
  if (!e) {
    c->stats().nccl_events_dropped.fetch_add(1, std::memory_order_relaxed);
    return kSuccess;
  }
  e->comm = comm;
  e->tid = static_cast<uint32_t>(raw::GetTid());
  e->p2p = (type & kProfileP2p) != 0;
  if (e->p2p) {
    e->func = d->p2p.func;
    e->dtype = d->p2p.datatype;
    e->count = d->p2p.count;
    e->peer = d->p2p.peer;
    e->nchannels = d->p2p.n_channels;
    e->root = -1;
    e->seq = 0;
    e->nwarps = 0;
    e->algo = e->proto = nullptr;
  } else {
    e->func = d->coll.func;
    e->dtype = d->coll.datatype;
    e->count = d->coll.count;
    e->root = d->coll.root;
    e->seq = d->coll.seq_number;
    e->nchannels = d->coll.n_channels;
    e->nwarps = d->coll.n_warps;
    e->algo = d->coll.algo;
    e->proto = d->coll.proto;
    e->peer = -1;
  }
  e->lane = TakeLane(comm);
  e->start = NowTicks();
  *handle = e;
  return kSuccess;
}

Result StopEvent(void* handle) {
  auto* e = static_cast<Event*>(handle);
  if (!e || !g_events || e < g_events || e >= g_events + kMaxEvents ||
      !e->used.load(std::memory_order_acquire))
    return kSuccess;
  const uint64_t end = NowTicks();
  CommContext* comm = e->comm;
  Collector* c = Collector::Active();
  ThreadState* ts = c ? c->Thread() : nullptr;
  if (c && ts && comm) {
    const size_t size = RecordSize(sizeof(CollectiveRecord));
    if (auto* r =
            static_cast<CollectiveRecord*>(c->Begin(ts, RecordType::kCollective, size, e->tid))) {
      r->start = e->start;
      r->end = end;
      r->comm_hash = comm->hash;
      r->seq = e->seq;
      r->count = e->count;
      r->func = NameId(*c, e->func);
      r->dtype = NameId(*c, e->dtype);
      r->algo = NameId(*c, e->algo);
      r->proto = NameId(*c, e->proto);
      r->comm_name = comm->name ? NameId(*c, comm->name) : 0;
      r->rank = comm->rank;
      r->nranks = comm->nranks;
      r->root = e->root;
      r->peer = e->peer;
      r->comm_index = comm->index;
      r->nchannels = e->nchannels;
      r->nwarps = e->nwarps;
      r->is_p2p = e->p2p;
      r->lane = e->lane;
      std::memset(r->pad, 0, sizeof r->pad);
      c->Commit(ts, size);
      c->stats().nccl_events.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (comm) comm->lanes_busy.fetch_and(~(1u << e->lane), std::memory_order_relaxed);
  e->used.store(false, std::memory_order_release);
  return kSuccess;
}

Result RecordEventState(void*, EventState, void*) {
  return kSuccess;
}
Result Finalize(void*) {
  return kSuccess;
}  // contexts stay: late stops may still name them

// A second copy of the library in the process (loaded under another path) forwards to the
// first one, which owns the collector (entry_points.cpp).
const ProfilerV5* g_forward_v5 = nullptr;
const ProfilerV4* g_forward_v4 = nullptr;

Result InitV5(void** context, uint64_t comm_id, int* mask, const char* comm_name, int n_nodes,
              int nranks, int rank, DebugLogger log) {
  if (g_forward_v5)
    return g_forward_v5->init(context, comm_id, mask, comm_name, n_nodes, nranks, rank, log);
  return Init(context, comm_id, mask, comm_name, n_nodes, nranks, rank);
}
Result InitV4(void** context, int* mask, const char* comm_name, uint64_t comm_hash, int n_nodes,
              int nranks, int rank, DebugLogger log) {
  if (g_forward_v4)
    return g_forward_v4->init(context, mask, comm_name, comm_hash, n_nodes, nranks, rank, log);
  return Init(context, comm_hash, mask, comm_name, n_nodes, nranks, rank);
}
Result StartV5(void* context, void** handle, EventDescrV5* d) {
  if (g_forward_v5) return g_forward_v5->start_event(context, handle, d);
  return StartEvent(context, handle, d, d ? d->type : 0);
}
Result StartV4(void* context, void** handle, EventDescrV4* d) {
  if (g_forward_v4) return g_forward_v4->start_event(context, handle, d);
  return StartEvent(context, handle, d, d ? d->type : 0);
}
Result StopV5(void* handle) {
  return g_forward_v5 ? g_forward_v5->stop_event(handle) : StopEvent(handle);
}
Result StopV4(void* handle) {
  return g_forward_v4 ? g_forward_v4->stop_event(handle) : StopEvent(handle);
}

}  // namespace

void NcclForwardTo(const nccl::ProfilerV5* v5, const nccl::ProfilerV4* v4) {
  g_forward_v5 = v5;
  g_forward_v4 = v4;
}

}  // namespace teye::collector

extern "C" {
const teye::collector::nccl::ProfilerV5 ncclProfiler_v5 = {"teye",
                                                           teye::collector::InitV5,
                                                           teye::collector::StartV5,
                                                           teye::collector::StopV5,
                                                           teye::collector::RecordEventState,
                                                           teye::collector::Finalize};
const teye::collector::nccl::ProfilerV4 ncclProfiler_v4 = {"teye",
                                                           teye::collector::InitV4,
                                                           teye::collector::StartV4,
                                                           teye::collector::StopV4,
                                                           teye::collector::RecordEventState,
                                                           teye::collector::Finalize};
}
