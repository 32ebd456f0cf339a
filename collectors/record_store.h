// Bounded, per-thread record buffers.
//
// Each recording thread owns one chunk at a time and appends records to it without locks: the
// record bytes, then a release store of `committed`. The writer (one thread at a time, under the
// collector's writer lock) reads every chunk up to `committed`, including chunks still being
// filled, so a periodic flush loses nothing. Full chunks are retired to a pending list; the writer
// drains and recycles them. Memory is a fixed budget of chunks: when it is spent, records are
// dropped and counted, never waited for. Every committed record is drained exactly once; a
// thread's records may come out of order across its chunks (the trace format is unordered).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <pthread.h>

#include "records.h"

namespace teye::collector {

struct Chunk {
  std::atomic<uint32_t> committed{0};  // bytes readable by the writer
  uint32_t flushed = 0;                // bytes the writer has written (writer only)
  uint32_t capacity = 0;
  Chunk* next = nullptr;      // pending or free list
  Chunk* all_next = nullptr;  // every chunk ever allocated
  alignas(8) uint8_t data[1];
};

struct NvtxThreadStack;  // nvtx_injection.h

// What the collector keeps per recording thread. Never freed; reused after the thread exits.
struct ThreadState {
  uint32_t tid = 0;
  std::atomic<Chunk*> chunk{nullptr};
  std::atomic<bool> in_use{false};
  bool internal = false;  // the collector's own threads: their I/O is not the job's
  ThreadState* next_all = nullptr;
  NvtxThreadStack* nvtx = nullptr;
  char name[16] = {};
};

class RecordStore {
 public:
  RecordStore();
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Before first use. chunk_bytes is rounded to 8; records larger than a chunk are dropped.
  void Configure(size_t budget_bytes, size_t chunk_bytes);

  // Space for one record of `size` bytes (a multiple of 8) in ts's chunk, or nullptr when the
  // memory budget is spent (the record is counted as dropped). Only ts's own thread calls this,
  // followed by Commit with the same size.
  void* Reserve(ThreadState* ts, size_t size) {
    Chunk* c = ts->chunk.load(std::memory_order_relaxed);
    if (c) {
      const uint32_t used = c->committed.load(std::memory_order_relaxed);
      if (used + size <= c->capacity) return c->data + used;
    }
    return ReserveSlow(ts, size);
  }
  void Commit(ThreadState* ts, size_t size) {
    Chunk* c = ts->chunk.load(std::memory_order_relaxed);
    c->committed.store(c->committed.load(std::memory_order_relaxed) + static_cast<uint32_t>(size),
                       std::memory_order_release);
  }

  // A state for the calling thread (tid), reused from an exited thread when possible.
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
  uint64_t allocated_bytes() const { return allocated_bytes_; }
  void CountDrop() { dropped_.fetch_add(1, std::memory_order_relaxed); }

  // fork(): prepare locks, parent unlocks; the child forgets every chunk's contents (they are the
  // parent's records) and every thread but `survivor`.
  void LockForFork() { mutex_.lock(); }
  void UnlockAfterFork() { mutex_.unlock(); }
  void ResetInChild(ThreadState* survivor);

 private:
  void* ReserveSlow(ThreadState* ts, size_t size);
  Chunk* Acquire();
  void Retire(Chunk* c);
  static void VisitRange(Chunk* c, uint32_t end, auto& visit);

  std::mutex mutex_;  // free list, pending list, allocation
  Chunk* free_ = nullptr;
  Chunk* pending_head_ = nullptr;
  Chunk* pending_tail_ = nullptr;
  Chunk* all_chunks_ = nullptr;
  size_t budget_bytes_ = size_t{64} << 20;
  size_t chunk_bytes_ = size_t{64} << 10;
  size_t allocated_bytes_ = 0;
  std::atomic<bool> exhausted_{false};
  std::atomic<uint64_t> dropped_{0};
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
  Chunk* retired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    retired = pending_head_;
    pending_head_ = pending_tail_ = nullptr;
  }
  Chunk* recycled_head = nullptr;
  Chunk* recycled_tail = nullptr;
  while (retired) {
    Chunk* next = retired->next;
    const uint32_t end = retired->committed.load(std::memory_order_acquire);
    if (end > retired->flushed) VisitRange(retired, end, visit);
    retired->committed.store(0, std::memory_order_relaxed);
    retired->flushed = 0;
    retired->next = recycled_head;
    if (!recycled_tail) recycled_tail = retired;
    recycled_head = retired;
    retired = next;
  }
  if (recycled_head) {
    std::lock_guard<std::mutex> lock(mutex_);
    recycled_tail->next = free_;
    free_ = recycled_head;
    exhausted_.store(false, std::memory_order_relaxed);
  }
}

}  // namespace teye::collector
