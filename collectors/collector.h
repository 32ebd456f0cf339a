// The collector of one process: configuration, record buffers, the trace file and the background
// thread that flushes, samples and keeps the recording window.
//
// Lifecycle: Start() makes it the process's collector; sources (NVTX, interposed I/O, CUPTI,
// NCCL, the Python shim, samplers) append records on their own threads; the background thread
// drains them into the file every TEYE_FLUSH_MS; Finish() writes the rest and renames the file.
// Finish runs at exit(), at _exit() (forked DataLoader workers), at the end of the duration
// window, and on terminating signals (signals.h). After fork() the child gets a clean collector
// of its own (ChildAfterFork) and, later, its own file.
//
// Who writes: only the background thread formats and writes the file (the writer lock is taken
// by it, by the fork handler, and by callers of Flush() in tests and benchmarks). Any other
// thread that needs the trace written (exit, _exit, a signal) asks the background thread and
// waits, bounded, so that the job's thread never takes the collector's writer locks or allocates
// for it: that thread may have been interrupted by a signal while it held malloc's lock.
//
// Recording threads take no lock and call no malloc (record_store.h, string_table.h). A
// per-thread "inside the collector" count (ThreadSlot::busy) makes a signal handler that
// interrupts collector code on the same thread, and calls an interposed function or NVTX,
// pass straight through unrecorded instead of re-entering half-done work.
//
// Fork lock order (Collector::PrepareFork, pthread_atfork): writer lock, then the facts lock,
// then NVTX's registration, start/end and NCCL communicator locks (nvtx_injection.cpp). The
// background thread takes the writer lock and then the facts lock (Devices()), never the other
// way round; no path takes the writer or facts lock while holding an NVTX lock.
//
// Nothing here throws to callers, aborts, or blocks a recording thread on I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <pthread.h>
#include <string>
#include <vector>

#include "config.h"
#include "facts.h"
#include "record_store.h"
#include "string_table.h"
#include "trace_writer.h"

namespace teye::collector {

// Per-thread cache of the thread's state for the active collector, and what the thread is
// doing inside the collector.
struct ThreadSlot {
  ThreadState* state = nullptr;
  uint64_t epoch = 0;       // Collector::epoch_ the state belongs to
  uint32_t busy = 0;        // > 0 while the thread runs collector code that must not be re-entered
  uint16_t in_signal = 0;   // > 0 inside the collector's signal handler (signals.cpp)
  bool background = false;  // the collector's background thread
  bool exiting = false;
};
// constinit: no dynamic initialisation, so every access is a plain TLS access (no init wrapper).
extern constinit thread_local ThreadSlot t_slot;

// Marks the calling thread as inside the collector while it lives.
class InsideCollector {
 public:
  InsideCollector() { ++t_slot.busy; }
  ~InsideCollector() { --t_slot.busy; }
  InsideCollector(const InsideCollector&) = delete;
  InsideCollector& operator=(const InsideCollector&) = delete;
};
// True when a signal handler interrupted collector code on this thread: interposed functions
// and NVTX callbacks then pass the call through unrecorded.
inline bool ThreadIsInsideCollector() {
  return t_slot.busy != 0;
}

// Something that records: told about flushes, sample ticks, the end, and forks.
class Source {
 public:
  virtual ~Source() = default;
  // On the thread that asked for the end (exit, _exit, a signal), before the background thread
  // writes it; not called when that thread was interrupted inside the collector.
  virtual void OnFinishRequested() {}
  // Before every flush (final: the last one, before Finish writes the footer).
  virtual void OnFlush(bool /*final*/) {}
  // Every TEYE_SAMPLE_MS on the background thread.
  virtual void OnSample(int64_t /*now_ns*/) {}
  // In the child after fork(), with the collector already reset.
  virtual void OnForkChild() {}
};

class Collector {
 public:
  Collector(Config config, ProcessIdentity identity);
  ~Collector();  // tests only; the library's collector lives as long as the process
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Makes this the process's collector and, when `background`, starts the background thread.
  void Start(bool background = true);
  // Writes every committed record to the file now (tests, benchmarks, the background thread).
  void Flush();
  // The final flush: footer, rename. Idempotent and safe from any thread, signal handlers
  // included: the background thread does the work while the caller waits (up to 30 s, or 5 s
  // in a signal handler); without one it is done here. Records made later are ignored. Only the
  // process that owns the collector writes (not a vfork child sharing memory). `reason` must
  // outlive the call (a string literal).
  void Finish(const char* reason);
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Benchmarks: the trace is written to `fd` (e.g. /dev/null) instead of a file. Before Start.
  void SetTraceSink(int fd) { writer_.UseSink(fd); }
  // Where the trace went (empty until Finish wrote one).
  std::string final_path() const;

  static Collector* Active() { return active_.load(std::memory_order_acquire); }
  static void ClearActive(Collector* c);

  const Config& config() const { return config_; }
  const ProcessIdentity& identity() const { return identity_; }
  StringTable& strings() { return strings_; }
  RecordStore& store() { return store_; }
  Stats& stats() { return stats_; }

  bool recording() const { return recording_.load(std::memory_order_relaxed); }
  bool io_on() const { return io_on_.load(std::memory_order_relaxed); }

  // The calling thread's state, or nullptr when it must not record (exiting, not recording).
  ThreadState* Thread() { return Thread(t_slot); }
  // The same, with the caller's t_slot already at hand (each TLS access is a call in a library).
  ThreadState* Thread(ThreadSlot& self) {
    if (self.epoch == epoch_) [[likely]]
      return self.state;
    return AttachSlow();
  }
  // The calling thread works for the collector: its I/O is not the job's.
  void MarkThreadInternal();

  // Starts a record of `size` bytes (a multiple of 8) for `tid`; nullptr when dropped. Finish
  // with Commit(ts, size). In between the thread counts as inside the collector.
  void* Begin(ThreadState* ts, RecordType type, size_t size, uint32_t tid, uint8_t flags = 0) {
    ++t_slot.busy;
    auto* h = static_cast<RecordHeader*>(store_.Reserve(ts, size));
    if (!h) {
      --t_slot.busy;
      return nullptr;
    }
    h->type = type;
    h->flags = flags;
    h->size = static_cast<uint16_t>(size);
    h->tid = tid;
    return h;
  }
  void Commit(ThreadState* ts, size_t size) {
    store_.Commit(ts, size);
    --t_slot.busy;
  }

  // Facts for the footer and the file name.
  void NoteDevice(const DeviceProps& d);
  std::vector<DeviceProps> Devices() const;
  void NoteRank(int rank, int world_size, const char* backend);
  void SetCuptiStatus(std::string status);
  void SetNvmlStatus(std::string status);
  void NoteNcclPlugin() { nccl_plugin_.store(true, std::memory_order_relaxed); }
  bool nccl_plugin_active() const { return nccl_plugin_.load(std::memory_order_relaxed); }
  bool is_forked_child() const { return forked_from_ != 0; }

  void AddSource(Source* source);

  // pthread_atfork handlers (the library registers them once for the active collector).
  void PrepareFork();
  void ParentAfterFork();
  void ChildAfterFork();

  // From a signal handler whose default action ends the process: asks the background thread to
  // finish (end_reason "SIG<NAME>") and waits up to timeout_ms. Async-signal-safe. False when
  // there is no background thread or it did not finish in time.
  bool FinishFromSignal(int sig, int timeout_ms);
  // From a signal handler: asks the background thread to write what is recorded so far and
  // waits up to timeout_ms. Async-signal-safe.
  bool FlushFromSignal(int timeout_ms);

 private:
  ThreadState* AttachSlow();
  void FinishImpl(const char* reason);
  // Asks the background thread to finish and waits; false when it could not be asked.
  bool RequestFinish(const char* reason, int sig, int timeout_ms);
  bool WaitFinished(int timeout_ms) const;
  void StartBackground();
  void BackgroundLoop();
  void DrainLocked();  // writer_mutex_ held
  void UpdateWindow(int64_t now_ns);
  void Wake();

  static std::atomic<Collector*> active_;

  Config config_;
  ProcessIdentity identity_;
  const uint64_t epoch_;
  StringTable strings_;
  RecordStore store_;
  Stats stats_;
  TraceWriter writer_;

  std::atomic<bool> recording_{false};
  std::atomic<bool> io_on_{false};
  std::atomic<bool> finishing_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> finish_signal_{0};  // requests to the background thread
  std::atomic<const char*> finish_reason_{nullptr};
  std::atomic<uint64_t> flush_requests_{0};
  std::atomic<uint64_t> flushes_done_{0};
  std::atomic<bool> nccl_plugin_{false};
  int64_t start_ns_ = 0;
  int64_t window_start_ns_ = 0;
  int64_t window_end_ns_ = 0;  // 0: until exit
  int forked_from_ = 0;

  std::mutex writer_mutex_;  // writer_, store draining
  mutable std::mutex facts_mutex_;
  std::vector<DeviceProps> devices_;
  int rank_ = -1;
  int world_size_ = 0;
  std::string backend_;
  std::string cupti_status_ = "off";
  std::string nvml_status_ = "off";
  std::string final_path_;

  Source* sources_[8] = {};
  std::atomic<int> source_count_{0};

  pthread_key_t thread_key_{};
  bool thread_key_ok_ = false;
  int event_fd_ = -1;
  pthread_t background_{};
  std::atomic<bool> background_running_{false};
  bool write_failed_said_ = false;
};

}  // namespace teye::collector
