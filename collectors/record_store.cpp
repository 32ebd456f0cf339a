#include "record_store.h"

#include <cstdlib>
#include <new>

namespace teye::collector {

RecordStore::RecordStore() = default;

RecordStore::~RecordStore() {
  // Only tests destroy stores; the library's store lives for the whole process.
  for (Chunk* c = all_chunks_; c;) {
    Chunk* next = c->all_next;
    c->~Chunk();
    std::free(c);
    c = next;
  }
  for (ThreadState* t = threads_.load(); t;) {
    ThreadState* next = t->next_all;
    delete t;
    t = next;
  }
}

void RecordStore::Configure(size_t budget_bytes, size_t chunk_bytes) {
  chunk_bytes_ = (chunk_bytes + 7) & ~size_t{7};
  if (chunk_bytes_ < 1024) chunk_bytes_ = 1024;
  budget_bytes_ = budget_bytes < chunk_bytes_ ? chunk_bytes_ : budget_bytes;
}

Chunk* RecordStore::Acquire() {
  if (exhausted_.load(std::memory_order_relaxed)) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_) {
    Chunk* c = free_;
    free_ = c->next;
    c->next = nullptr;
    return c;
  }
  if (allocated_bytes_ + chunk_bytes_ > budget_bytes_) {
    exhausted_.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  void* mem = std::malloc(offsetof(Chunk, data) + chunk_bytes_);
  if (!mem) {
    exhausted_.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  Chunk* c = new (mem) Chunk;
  c->capacity = static_cast<uint32_t>(chunk_bytes_);
  c->all_next = all_chunks_;
  all_chunks_ = c;
  allocated_bytes_ += chunk_bytes_;
  return c;
}

void RecordStore::Retire(Chunk* c) {
  std::lock_guard<std::mutex> lock(mutex_);
  c->next = nullptr;
  if (pending_tail_)
    pending_tail_->next = c;
  else
    pending_head_ = c;
  pending_tail_ = c;
}

void* RecordStore::ReserveSlow(ThreadState* ts, size_t size) {
  if (size > chunk_bytes_) {
    CountDrop();
    return nullptr;
  }
  // Unpublish the chunk before retiring it, so the writer never sees a recycled chunk through
  // this thread's state.
  if (Chunk* old = ts->chunk.exchange(nullptr, std::memory_order_acq_rel)) Retire(old);
  Chunk* c = Acquire();
  if (!c) {
    CountDrop();
    return nullptr;
  }
  ts->chunk.store(c, std::memory_order_release);
  return c->data;
}

ThreadState* RecordStore::AttachThread(uint32_t tid) {
  for (ThreadState* ts = threads(); ts; ts = ts->next_all) {
    bool expected = false;
    if (!ts->in_use.load(std::memory_order_relaxed) &&
        ts->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      ts->tid = tid;
      ts->internal = false;
      ts->name[0] = '\0';
      return ts;
    }
  }
  auto* ts = new (std::nothrow) ThreadState;
  if (!ts) return nullptr;
  ts->tid = tid;
  ts->in_use.store(true, std::memory_order_relaxed);
  ThreadState* head = threads_.load(std::memory_order_relaxed);
  do {
    ts->next_all = head;
  } while (!threads_.compare_exchange_weak(head, ts, std::memory_order_release,
                                           std::memory_order_relaxed));
  return ts;
}

void RecordStore::DetachThread(ThreadState* ts) {
  if (Chunk* c = ts->chunk.exchange(nullptr, std::memory_order_acq_rel)) Retire(c);
  ts->in_use.store(false, std::memory_order_release);
}

void RecordStore::ResetInChild(ThreadState* survivor) {
  free_ = nullptr;
  for (Chunk* c = all_chunks_; c; c = c->all_next) {
    c->committed.store(0, std::memory_order_relaxed);
    c->flushed = 0;
    c->next = free_;
    free_ = c;
  }
  pending_head_ = pending_tail_ = nullptr;
  exhausted_.store(false, std::memory_order_relaxed);
  dropped_.store(0, std::memory_order_relaxed);
  for (ThreadState* ts = threads(); ts; ts = ts->next_all) {
    ts->chunk.store(nullptr, std::memory_order_relaxed);
    if (ts != survivor) ts->in_use.store(false, std::memory_order_relaxed);
  }
}

}  // namespace teye::collector
