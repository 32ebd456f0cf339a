// Recording one interposed I/O call: the slot is reserved and the clock read before the real
// call, so that little runs after the system call returns (branch predictors are cold then).
// Used by interpose.cpp.
//
// Signal safety: the thread counts as inside the collector while it reserves and while it fills
// the record, not during the real call. A signal handler that interrupts the real call and reads
// records normally (into the slot reserved here, which RecordIo then notices and replaces); one
// that interrupts the collector's own work passes through unrecorded.
#pragma once

#include <cerrno>

#include "clock.h"
#include "collector.h"

namespace teye::collector {

constexpr size_t kIoRecordSize = RecordSize(sizeof(IoRecord));

// Set up before the real call; c is null when this call is not recorded.
struct IoCall {
  Collector* c = nullptr;
  ThreadState* ts = nullptr;
  ThreadSlot* thread = nullptr;  // the caller's t_slot, looked up once
  void* slot = nullptr;
  Chunk* chunk = nullptr;
  uint32_t offset = 0;
  uint64_t start = 0;

  __attribute__((always_inline)) IoCall() {
    Collector* col = Collector::Active();
    if (!col || !col->io_on()) return;
    ThreadSlot& self = t_slot;
    if (self.busy) return;  // a signal handler interrupted the collector on this thread
    ThreadState* t = col->Thread(self);
    if (!t || t->internal) [[unlikely]]
      return;
    // Finding the slot changes nothing; taking a new chunk does, so only that counts as inside.
    slot = RecordStore::ReserveFast(t, kIoRecordSize);
    if (!slot) [[unlikely]] {
      ++self.busy;
      slot = col->store().ReserveSlowPath(t, kIoRecordSize);
      --self.busy;
      if (!slot) return;  // the buffer is full: counted as dropped
    }
    __builtin_prefetch(slot, 1, 3);  // the record's cache line comes while the system call runs
    chunk = t->chunk.load(std::memory_order_relaxed);
    offset = static_cast<uint32_t>(static_cast<uint8_t*>(slot) - chunk->data);
    c = col;
    ts = t;
    thread = &self;
    start = NowTicks();
  }
};

inline void RecordIo(IoCall& call, IoOp op, int fd, int64_t result, uint32_t path) {
  const uint64_t end = NowTicks();
  ThreadSlot& self = *call.thread;
  ++self.busy;
  Collector* c = call.c;
  ThreadState* ts = call.ts;
  const int error = result < 0 ? errno : 0;  // errno is only read, never changed, on this path
  if ((error == EAGAIN || error == EWOULDBLOCK) ||
      (c->config().io_min_ns > 0 && static_cast<double>(end - call.start) * TickClock::NsPerTick() <
                                        static_cast<double>(c->config().io_min_ns))) {
    --self.busy;
    return;
  }
  // A signal handler on this thread may have recorded into the slot meanwhile: take a new one.
  if (ts->chunk.load(std::memory_order_relaxed) != call.chunk ||
      call.chunk->committed.load(std::memory_order_relaxed) != call.offset) [[unlikely]] {
    const int saved_errno = errno;
    call.slot = c->store().Reserve(ts, kIoRecordSize);
    errno = saved_errno;
    if (!call.slot) {
      --self.busy;
      return;
    }
  }
  auto* r = static_cast<IoRecord*>(call.slot);
  r->h = RecordHeader{RecordType::kIo, 0, static_cast<uint16_t>(kIoRecordSize), ts->tid};
  r->start = call.start;
  r->end = end;
  r->result = result;
  r->fd = fd;
  r->path = path;
  r->error = error;
  r->op = op;
  r->pad[0] = r->pad[1] = r->pad[2] = 0;
  c->store().Commit(ts, kIoRecordSize);  // ts's chunk: call.chunk, or the one just reserved
  --self.busy;
}

}  // namespace teye::collector
