#include "record_store.h"

#include <new>
#include <sys/mman.h>

namespace teye::collector {
namespace {

// Thread states reserved per store (threads that ever recorded at the same time).
constexpr uint32_t kMaxThreads = 16384;
constexpr uintptr_t kPage = 4096;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

void* MapReserved(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

RecordStore::RecordStore() {
  states_ = static_cast<ThreadState*>(MapReserved(sizeof(ThreadState) * kMaxThreads));
}

RecordStore::~RecordStore() {
  if (arena_) ::munmap(arena_, arena_bytes_);
  if (states_) ::munmap(states_, sizeof(ThreadState) * kMaxThreads);
}

void RecordStore::Configure(size_t budget_bytes, size_t chunk_bytes) {
  chunk_bytes_ = (chunk_bytes + 7) & ~size_t{7};
  if (chunk_bytes_ < 1024) chunk_bytes_ = 1024;
  if (budget_bytes < chunk_bytes_) budget_bytes = chunk_bytes_;
  stride_ = offsetof(Chunk, data) + chunk_bytes_;
  max_chunks_ = static_cast<uint32_t>(budget_bytes / chunk_bytes_);
  arena_bytes_ = static_cast<size_t>(max_chunks_) * stride_;
  arena_ = static_cast<uint8_t*>(MapReserved(arena_bytes_));
  if (!arena_) max_chunks_ = 0;
}

Chunk* RecordStore::Acquire() {
  uint64_t head = free_head_.load(std::memory_order_acquire);
  while (head & 0xffffffffu) {
    Chunk* c = ChunkAt(static_cast<uint32_t>(head) - 1);
    // The tag in the high half changes with every pop, so a chunk popped and pushed back
    // meanwhile cannot make this exchange succeed with a stale `next`.
    const uint64_t next = ((head >> 32) + 1) << 32 | c->next.load(std::memory_order_relaxed);
    if (free_head_.compare_exchange_weak(head, next, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
      c->next.store(0, std::memory_order_relaxed);
      return c;
    }
  }
  uint32_t index = carved_.load(std::memory_order_relaxed);
  do {
    if (index >= max_chunks_) return nullptr;
  } while (!carved_.compare_exchange_weak(index, index + 1, std::memory_order_relaxed));
  const uint32_t ready = populated_.load(std::memory_order_acquire);
  if (index >= ready) Populate(index, 1);  // cold: one system call instead of a fault per page
  if (populate_request_ && index + 4 >= ready) populate_request_(populate_arg_);
  Chunk* c = new (ChunkAt(index)) Chunk;
  c->capacity = static_cast<uint32_t>(chunk_bytes_);
  return c;
}

void RecordStore::Populate(uint32_t first, uint32_t count) {
  const auto begin = reinterpret_cast<uintptr_t>(ChunkAt(first)) & ~(kPage - 1);
  const auto end =
      (reinterpret_cast<uintptr_t>(ChunkAt(first)) + count * stride_ + kPage - 1) & ~(kPage - 1);
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) == 0) return;
  // Older kernels: write-fault each page in without changing a byte (another thread may
  // already be writing records into the first or last page).
  for (uintptr_t page = begin; page < end; page += kPage)
    __atomic_fetch_add(reinterpret_cast<uint64_t*>(page), 0, __ATOMIC_RELAXED);
}

void RecordStore::PopulateAhead(size_t ahead_bytes) {
  if (!arena_) return;
  const auto ahead = static_cast<uint32_t>(ahead_bytes / chunk_bytes_ + 1);
  const uint32_t carved = carved_.load(std::memory_order_relaxed);
  const uint32_t target = carved + ahead < max_chunks_ ? carved + ahead : max_chunks_;
  const uint32_t ready = populated_.load(std::memory_order_relaxed);
  const uint32_t first = ready > carved ? ready : carved;
  if (first >= target) return;
  Populate(first, target - first);
  populated_.store(target, std::memory_order_release);
}

void RecordStore::PushFree(Chunk* c) {
  const uint32_t index = IndexOf(c) + 1;
  uint64_t head = free_head_.load(std::memory_order_relaxed);
  do {
    c->next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
  } while (!free_head_.compare_exchange_weak(head, (head & ~uint64_t{0xffffffffu}) | index,
                                             std::memory_order_release, std::memory_order_relaxed));
}

void RecordStore::Retire(Chunk* c) {
  const uint32_t index = IndexOf(c) + 1;
  uint32_t head = retired_head_.load(std::memory_order_relaxed);
  do {
    c->next.store(head, std::memory_order_relaxed);
  } while (!retired_head_.compare_exchange_weak(head, index, std::memory_order_release,
                                                std::memory_order_relaxed));
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
  if (!states_) return nullptr;
  const uint32_t index = states_used_.fetch_add(1, std::memory_order_relaxed);
  if (index >= kMaxThreads) {
    states_used_.store(kMaxThreads, std::memory_order_relaxed);
    return nullptr;
  }
  auto* ts = new (&states_[index]) ThreadState;
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
  const uint32_t carved = carved_.load(std::memory_order_relaxed);
  free_head_.store(0, std::memory_order_relaxed);
  retired_head_.store(0, std::memory_order_relaxed);
  for (uint32_t i = 0; i < carved && i < max_chunks_; ++i) {
    Chunk* c = ChunkAt(i);
    c->committed.store(0, std::memory_order_relaxed);
    c->flushed = 0;
    PushFree(c);
  }
  dropped_.store(0, std::memory_order_relaxed);
  for (ThreadState* ts = threads(); ts; ts = ts->next_all) {
    ts->chunk.store(nullptr, std::memory_order_relaxed);
    if (ts != survivor) ts->in_use.store(false, std::memory_order_relaxed);
  }
}

}  // namespace teye::collector
