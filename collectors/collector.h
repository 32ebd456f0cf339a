// The collector of one process: configuration, record buffers, the trace file and the background
// thread that flushes, samples and keeps the recording window.
//
// Lifecycle: Start() makes it the process's collector; sources (NVTX, interposed I/O, CUPTI,
// NCCL, the Python shim, samplers) append records on their own threads; the background thread
// drains them into the file every TEYE_FLUSH_MS; Finish() writes the rest and renames the file.
// Finish runs at exit(), at _exit() (forked DataLoader workers), at the end of the duration
// window, and on SIGTERM/SIGINT through the background thread. After fork() the child gets a
// clean collector of its own (ChildAfterFork) and, later, its own file.
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

// Per-thread cache of the thread's state for the active collector.
struct ThreadSlot {
  ThreadState* state = nullptr;
  uint64_t epoch = 0;  // Collector::epoch_ the state belongs to
  bool exiting = false;
};
extern thread_local ThreadSlot t_slot;

// Something that records: told about flushes, sample ticks, the end, and forks.
class Source {
 public:
  virtual ~Source() = default;
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
  // Writes every committed record to the file now.
  void Flush();
  // The final flush: footer, rename. Idempotent and safe from any thread; records made later are
  // ignored. Only the process that owns the collector writes (not a vfork child sharing memory).
  void Finish(const char* reason);
  bool finished() const { return finished_.load(std::memory_order_acquire); }
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
  ThreadState* Thread() {
    if (t_slot.epoch == epoch_) [[likely]]
      return t_slot.state;
    return AttachSlow();
  }
  // The calling thread works for the collector: its I/O is not the job's.
  void MarkThreadInternal();

  // Starts a record of `size` bytes (a multiple of 8) for `tid`; nullptr when dropped. Finish
  // with Commit(ts, size).
  void* Begin(ThreadState* ts, RecordType type, size_t size, uint32_t tid, uint8_t flags = 0) {
    auto* h = static_cast<RecordHeader*>(store_.Reserve(ts, size));
    if (!h) return nullptr;
    h->type = type;
    h->flags = flags;
    h->size = static_cast<uint16_t>(size);
    h->tid = tid;
    return h;
  }
  void Commit(ThreadState* ts, size_t size) { store_.Commit(ts, size); }

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

  // From a signal handler: asks the background thread to finish and waits up to timeout_ms.
  // Async-signal-safe. False when there is no background thread or it did not finish in time.
  bool FinishFromSignal(int sig, int timeout_ms);

 private:
  ThreadState* AttachSlow();
  void FinishImpl(const char* reason);
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
  std::atomic<int> signal_request_{0};
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
