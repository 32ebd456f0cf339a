// Bounded, per-thread record buffers, lock-free and allocation-free on the recording side.
//
// Each recording thread owns one chunk at a time and appends records to it without locks: the
// record bytes, then a release store of `committed`. The writer (one thread at a time, under the
// collector's writer lock) reads every chunk up to `committed`, including chunks still being
// filled, so a periodic flush loses nothing. Full chunks are retired to a lock-free stack; the
// writer takes the whole stack, drains it and returns the chunks to a lock-free free list.
//
// Memory is a fixed budget reserved once with mmap (untouched pages cost nothing) and carved
// into chunks as they are first needed; thread states come from a second reserved region. A page
// fault per 4 KiB of records would cost a recording thread tens of ns per record, so the
// background thread maps in the pages of the next chunks ahead of time (PopulateAhead), and a
// thread that still carves a cold chunk maps it in with one madvise. So a
// recording thread never takes a lock or calls malloc: a signal handler that interrupts one and
// records itself cannot deadlock on it (see Collector::Begin for the rest of that story). When the
// budget is spent, records are dropped and counted, never waited for. Every committed record is
// drained exactly once; a thread's records may come out of order across its chunks (the trace
// format is unordered).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "records.h"

namespace teye::collector {

struct Chunk {
  std::atomic<uint32_t> committed{0};  // bytes readable by the writer
  uint32_t flushed = 0;                // bytes the writer has written (writer only)
  uint32_t capacity = 0;
  std::atomic<uint32_t> next{0};  // free or retired stack: index + 1 of the next one, 0 none
  alignas(8) uint8_t data[8];     // `capacity` bytes in fact
};

struct NvtxThreadStack;  // nvtx_ranges.h

// What the collector keeps per recording thread. Never freed; reused after the thread exits.
struct ThreadState {
  uint32_t tid = 0;
  std::atomic<Chunk*> chunk{nullptr};
  std::atomic<bool> in_use{false};
  bool internal = false;  // the collector's own threads: their I/O is not the job's
  ThreadState* next_all = nullptr;
  NvtxThreadStack* nvtx = nullptr;  // mapped on first use, kept for the next user of the state
  char name[16] = {};
};

class RecordStore {
 public:
  RecordStore();
  ~RecordStore();  // tests only: the library's store lives as long as the process
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Once, before first use: reserves the budget. chunk_bytes is rounded to 8; records larger
  // than a chunk are dropped. If the reservation fails, every record is dropped.
  void Configure(size_t budget_bytes, size_t chunk_bytes);

  // Space for one record of `size` bytes (a multiple of 8) in ts's chunk, or nullptr when the
  // memory budget is spent (the record is counted as dropped). Only ts's own thread calls this,
  // followed by Commit with the same size. Lock-free and async-signal-safe.
  void* Reserve(ThreadState* ts, size_t size) {
    Chunk* c = ts->chunk.load(std::memory_order_relaxed);
    if (c) {
      const uint32_t used = c->committed.load(std::memory_order_relaxed);
      if (used + size <= c->capacity) return c->data + used;
    }
    return ReserveSlow(ts, size);
  }
  // Reserve's first half: the space in ts's current chunk, or nullptr when ReserveSlow is needed.
  static void* ReserveFast(ThreadState* ts, size_t size) {
    Chunk* c = ts->chunk.load(std::memory_order_relaxed);
    if (!c) return nullptr;
    const uint32_t used = c->committed.load(std::memory_order_relaxed);
    return used + size <= c->capacity ? c->data + used : nullptr;
  }
  void* ReserveSlowPath(ThreadState* ts, size_t size) { return ReserveSlow(ts, size); }
  void Commit(ThreadState* ts, size_t size) {
    Chunk* c = ts->chunk.load(std::memory_order_relaxed);
    c->committed.store(c->committed.load(std::memory_order_relaxed) + static_cast<uint32_t>(size),
                       std::memory_order_release);
  }

  // A state for the calling thread (tid), reused from an exited thread when possible; nullptr
  // when the reserved states are all in use. Lock-free and async-signal-safe.
  ThreadState* AttachThread(uint32_t tid);
  // The thread is exiting: its partial chunk goes to the writer, its state to reuse.
  void DetachThread(ThreadState* ts);

  // Writer only: calls visit(const RecordHeader&) for every committed record not yet visited,
  // then recycles retired chunks.
  template <typename Visit>
  void Drain(Visit&& visit);

  // Thread states, for the writer (names) and the NVTX module (open ranges at exit).
  ThreadState* threads() const { return threads_.load(std::memory_order_acquire); }

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t allocated_bytes() const {
    return static_cast<uint64_t>(carved_.load(std::memory_order_relaxed)) * chunk_bytes_;
  }
  void CountDrop() { dropped_.fetch_add(1, std::memory_order_relaxed); }

  // fork(): the child forgets every chunk's contents (they are the parent's records) and every
  // thread but `survivor`. Only the forking thread exists in the child, so no lock is needed.
  void ResetInChild(ThreadState* survivor);

  // Called (async-signal-safe) when a recording thread carves a chunk near the end of the ready
  // ones: the collector wakes its background thread, which calls PopulateAhead.
  void SetPopulateRequest(void (*request)(void*), void* arg) {
    populate_arg_ = arg;
    populate_request_ = request;
  }
  // Maps in the pages of the chunks after those handed out, up to ahead_bytes (not in a signal
  // handler's way: never called by recording threads).
  void PopulateAhead(size_t ahead_bytes);

 private:
  void* ReserveSlow(ThreadState* ts, size_t size);
  Chunk* ChunkAt(uint32_t index) const {
    return reinterpret_cast<Chunk*>(arena_ + static_cast<size_t>(index) * stride_);
  }
  uint32_t IndexOf(const Chunk* c) const {
    return static_cast<uint32_t>((reinterpret_cast<const uint8_t*>(c) - arena_) / stride_);
  }
  Chunk* Acquire();
  void Populate(uint32_t first, uint32_t count);
  void Retire(Chunk* c);
  void PushFree(Chunk* c);
  static void VisitRange(Chunk* c, uint32_t end, auto& visit);

  uint8_t* arena_ = nullptr;  // max_chunks_ * stride_ bytes, reserved by Configure
  size_t arena_bytes_ = 0;
  size_t stride_ = 0;
  size_t chunk_bytes_ = size_t{64} << 10;
  uint32_t max_chunks_ = 0;
  std::atomic<uint32_t> carved_{0};     // chunks handed out of the arena so far
  std::atomic<uint32_t> populated_{0};  // chunks [0, populated_) have their pages mapped in
  void (*populate_request_)(void*) = nullptr;
  void* populate_arg_ = nullptr;
  // Free chunks: (ABA tag << 32) | (index + 1). Popped by recording threads, pushed by the writer.
  std::atomic<uint64_t> free_head_{0};
  // Retired chunks: index + 1 of the top. Pushed by recording threads, taken whole by the writer.
  std::atomic<uint32_t> retired_head_{0};
  std::atomic<uint64_t> dropped_{0};

  ThreadState* states_ = nullptr;  // kMaxThreads states, reserved at construction
  std::atomic<uint32_t> states_used_{0};
  std::atomic<ThreadState*> threads_{nullptr};
};

void RecordStore::VisitRange(Chunk* c, uint32_t end, auto& visit) {
  uint32_t pos = c->flushed;
  while (pos + sizeof(RecordHeader) <= end) {
    const auto* h = reinterpret_cast<const RecordHeader*>(c->data + pos);
    if (h->size < sizeof(RecordHeader) || pos + h->size > end) break;  // never: defensive
    visit(*h);
    pos += h->size;
  }
  c->flushed = end;
}

template <typename Visit>
void RecordStore::Drain(Visit&& visit) {
  for (ThreadState* ts = threads(); ts; ts = ts->next_all) {
    Chunk* c = ts->chunk.load(std::memory_order_acquire);
    if (!c) continue;
    const uint32_t end = c->committed.load(std::memory_order_acquire);
    if (end > c->flushed) VisitRange(c, end, visit);
  }
  uint32_t retired = retired_head_.exchange(0, std::memory_order_acquire);
  while (retired) {
    Chunk* c = ChunkAt(retired - 1);
    retired = c->next.load(std::memory_order_relaxed);
    const uint32_t end = c->committed.load(std::memory_order_acquire);
    if (end > c->flushed) VisitRange(c, end, visit);
    c->committed.store(0, std::memory_order_relaxed);
    c->flushed = 0;
    PushFree(c);
  }
}

}  // namespace teye::collector
