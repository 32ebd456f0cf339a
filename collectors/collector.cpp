#include "collector.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "nvtx_injection.h"
#include "raw_io.h"
#include "signal_safe_lock.h"

namespace teye::collector {

constinit thread_local ThreadSlot t_slot;
std::atomic<Collector*> Collector::active_{nullptr};

namespace {

std::atomic<uint64_t> g_next_epoch{1};

// How long a thread that is not the background thread waits for it to write the end of the
// trace: at exit a big buffer may take a while on a slow file system; in a signal handler the
// process is about to end, and waiting longer would stall a job that is being stopped.
constexpr int kFinishWaitMs = 30000;
// Record memory kept mapped in ahead of the recording threads (record_store.h).
constexpr size_t kPopulateAheadBytes = size_t{1} << 20;
constexpr int kFinishWaitInSignalMs = 5000;

// The output folder resolved once, at start: a job that changes its working directory later
// still writes where it was asked to.
Config WithAbsoluteOutputDir(Config config) {
  if (!config.output_dir.empty() && config.output_dir[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) config.output_dir = std::string(cwd) + "/" + config.output_dir;
  }
  return config;
}

void SleepMs(int ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, nullptr);
}

void OnThreadExit(void* p) {
  auto* ts = static_cast<ThreadState*>(p);
  t_slot.exiting = true;
  t_slot.state = nullptr;
  Collector* c = Collector::Active();
  if (!c || !ts) return;
  // Ranges the thread left open are kept, marked unclosed.
  NvtxCloseThread(*c, ts, true);
  c->store().DetachThread(ts);
}

}  // namespace

void Stats::Reset() {
  for (std::atomic<uint64_t>* v :
       {&cupti_records, &cupti_dropped, &cupti_invalid, &cupti_unknown_kind, &cupti_filtered,
        &cupti_buffers, &cupti_buffers_refused, &nvtx_unmatched_pops, &nvtx_unmatched_ends,
        &nvtx_stack_overflow, &nvtx_unclosed, &nccl_events, &nccl_events_dropped})
    v->store(0, std::memory_order_relaxed);
}

ProcessIdentity ProcessIdentity::Current() {
  ProcessIdentity id;
  id.pid = raw::GetPid();
  id.ppid = static_cast<int>(::getppid());
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) id.cpus = CPU_COUNT(&allowed);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) id.host = host;
  if (id.host.empty()) id.host = "localhost";
  std::string cmdline;
  if (raw::ReadSmallFile("/proc/self/cmdline", cmdline, 4096)) {
    while (!cmdline.empty() && cmdline.back() == '\0')
      cmdline.pop_back();
    for (char& ch : cmdline)
      if (ch == '\0') ch = ' ';
    id.command = cmdline;
  }
  std::string comm;
  if (raw::ReadSmallFile("/proc/self/comm", comm, 64)) {
    while (!comm.empty() && (comm.back() == '\n' || comm.back() == '\0'))
      comm.pop_back();
    id.exe = comm;
  }
  return id;
}

Collector::Collector(Config config, ProcessIdentity identity)
    : config_(WithAbsoluteOutputDir(std::move(config))),
      identity_(std::move(identity)),
      epoch_(g_next_epoch.fetch_add(1)),
      writer_(strings_, config_.output_dir) {
  store_.Configure(static_cast<size_t>(config_.buffer_mb) << 20,
                   static_cast<size_t>(config_.chunk_kb) << 10);
  store_.SetPopulateRequest([](void* self) { static_cast<Collector*>(self)->Wake(); }, this);
  writer_.Reset(identity_, config_.trace_name);
  thread_key_ok_ = pthread_key_create(&thread_key_, OnThreadExit) == 0;
}

Collector::~Collector() {
  stop_.store(true);
  Wake();
  if (background_running_.load()) {
    pthread_join(background_, nullptr);
    background_running_.store(false);
  }
  ClearActive(this);
  if (thread_key_ok_) pthread_key_delete(thread_key_);
  if (event_fd_ >= 0) raw::Close(event_fd_);
  if (t_slot.epoch == epoch_) t_slot = ThreadSlot{};
}

void Collector::ClearActive(Collector* c) {
  Collector* expected = c;
  active_.compare_exchange_strong(expected, nullptr);
}

void Collector::Start(bool background) {
  SetQuiet(config_.quiet);
  start_ns_ = RealtimeNs();
  window_start_ns_ = start_ns_ + static_cast<int64_t>(config_.start_delay_s * 1e9);
  window_end_ns_ = config_.duration_s > 0
                       ? window_start_ns_ + static_cast<int64_t>(config_.duration_s * 1e9)
                       : 0;
  {
    SignalSafeLock lock(facts_mutex_);
    RankInfo r = ReadRankInfo([](const char* n) { return static_cast<const char*>(getenv(n)); });
    rank_ = r.rank;
    world_size_ = r.world_size;
  }
  writer_.SetRank(rank_);
  for (const std::string& w : config_.warnings)
    Log("%s", w.c_str());
  UpdateWindow(start_ns_);
  active_.store(this, std::memory_order_release);
  if (background) StartBackground();
}

void Collector::UpdateWindow(int64_t now_ns) {
  if (finished()) return;
  const bool in_window =
      now_ns >= window_start_ns_ && (window_end_ns_ == 0 || now_ns < window_end_ns_);
  recording_.store(in_window, std::memory_order_relaxed);
  io_on_.store(in_window && config_.io, std::memory_order_relaxed);
}

void Collector::StartBackground() {
  if (event_fd_ < 0) event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stop_.store(false);
  // The background thread must never take the job's signals: block them while creating it so
  // it starts with everything blocked.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  auto trampoline = [](void* self) -> void* {
    static_cast<Collector*>(self)->BackgroundLoop();
    return nullptr;
  };
  if (pthread_create(&background_, nullptr, trampoline, this) == 0)
    background_running_.store(true);
  else
    Log("could not start the collector thread; records are written at exit only");
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Collector::Wake() {
  if (event_fd_ < 0) return;
  uint64_t one = 1;
  raw::Write(event_fd_, &one, sizeof one);
}

void Collector::BackgroundLoop() {
  t_slot.background = true;
  MarkThreadInternal();
  prctl(PR_SET_NAME, "teye-collector", 0, 0, 0);
  const int64_t flush_ns = static_cast<int64_t>(config_.flush_ms) * 1000000;
  const int64_t sample_ns = static_cast<int64_t>(config_.sample_ms) * 1000000;
  int64_t now = RealtimeNs();
  int64_t next_flush = now + flush_ns;
  int64_t next_sample = sample_ns ? now + sample_ns : INT64_MAX;
  store_.PopulateAhead(kPopulateAheadBytes);
  while (!stop_.load()) {
    int64_t wake = next_flush < next_sample ? next_flush : next_sample;
    if (!recording() && now < window_start_ns_ && window_start_ns_ < wake) wake = window_start_ns_;
    if (window_end_ns_ && now < window_end_ns_ && window_end_ns_ < wake) wake = window_end_ns_;
    int64_t wait_ms = (wake - now) / 1000000;
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > 1000) wait_ms = 1000;
    pollfd pfd{event_fd_, POLLIN, 0};
    ::poll(&pfd, event_fd_ >= 0 ? 1 : 0, static_cast<int>(wait_ms));
    if (pfd.revents & POLLIN) {
      uint64_t drained;
      raw::Read(event_fd_, &drained, sizeof drained);
    }
    store_.PopulateAhead(kPopulateAheadBytes);
    if (const char* requested = finish_reason_.load(std::memory_order_acquire)) {
      char reason[32];
      if (const int sig = finish_signal_.load()) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev)
          std::snprintf(reason, sizeof reason, "SIG%s", abbrev);
        else
          std::snprintf(reason, sizeof reason, "signal %d", sig);
        requested = reason;
      }
      Finish(requested);
      break;
    }
    if (stop_.load()) break;
    if (const uint64_t asked = flush_requests_.load(std::memory_order_acquire);
        asked != flushes_done_.load(std::memory_order_relaxed)) {
      Flush();
      flushes_done_.store(asked, std::memory_order_release);
    }
    now = RealtimeNs();
    UpdateWindow(now);
    if (window_end_ns_ && now >= window_end_ns_ && !finished()) {
      Finish("duration");
      break;
    }
    if (now >= next_sample) {
      if (recording()) {
        const int n = source_count_.load(std::memory_order_acquire);
        for (int i = 0; i < n; ++i)
          sources_[i]->OnSample(now);
      }
      next_sample = now + sample_ns;
    }
    if (now >= next_flush) {
      const int n = source_count_.load(std::memory_order_acquire);
      for (int i = 0; i < n; ++i)
        sources_[i]->OnFlush(false);
      Flush();
      next_flush = now + flush_ns;
    }
  }
}

void Collector::MarkThreadInternal() {
  if (ThreadState* ts = Thread()) ts->internal = true;
}

ThreadState* Collector::AttachSlow() {
  if (t_slot.exiting) return nullptr;
  InsideCollector inside;  // a handler attaching the same thread meanwhile would leak a state
  ThreadState* ts = store_.AttachThread(static_cast<uint32_t>(raw::GetTid()));
  if (ts) {
    prctl(PR_GET_NAME, ts->name, 0, 0, 0);
    ts->name[sizeof ts->name - 1] = '\0';
    if (thread_key_ok_) pthread_setspecific(thread_key_, ts);
  }
  t_slot.state = ts;
  t_slot.epoch = epoch_;
  return ts;
}

void Collector::DrainLocked() {
  TickClock::Calibrate();
  writer_.SetDevices(Devices());
  writer_.SetNcclPluginActive(nccl_plugin_active());
  uint64_t count = 0;
  store_.Drain([&](const RecordHeader& h) {
    writer_.Write(h);
    ++count;
  });
  // Thread names only make sense next to events: a process that recorded nothing writes nothing.
  if (count > 0 || writer_.has_file()) {
    for (ThreadState* ts = store_.threads(); ts; ts = ts->next_all)
      if (ts->in_use.load(std::memory_order_relaxed) && !ts->internal)
        writer_.NameThread(ts->tid, ts->name);
  }
  if (!writer_.FlushToFile() && !write_failed_said_) {
    write_failed_said_ = true;
    Log("cannot write the trace under %s (%s); recording continues but is not saved",
        config_.output_dir.c_str(), std::strerror(writer_.error()));
  }
}

void Collector::Flush() {
  const int saved_errno = errno;
  try {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    if (!finished()) DrainLocked();
  } catch (...) {
    // Out of memory formatting: these records are lost; later flushes try again.
  }
  errno = saved_errno;
}

void Collector::Finish(const char* reason) {
  if (finished() || raw::GetPid() != identity_.pid) return;  // done, or a vfork child
  // The asking thread closes what only it may touch (its NVTX stack), unless a signal
  // interrupted it inside the collector, where that state is half-updated.
  if (!t_slot.background && !ThreadIsInsideCollector()) {
    const int n = source_count_.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
      sources_[i]->OnFinishRequested();
  }
  if (!t_slot.background && background_running_.load(std::memory_order_acquire)) {
    if (RequestFinish(reason, 0, t_slot.in_signal ? kFinishWaitInSignalMs : kFinishWaitMs)) return;
  }
  try {
    FinishImpl(reason);
  } catch (...) {
    // Out of memory while writing the end: the file stays ".partial", the job is unharmed.
    finished_.store(true, std::memory_order_release);
  }
}

bool Collector::RequestFinish(const char* reason, int sig, int timeout_ms) {
  const char* expected = nullptr;
  if (finish_reason_.compare_exchange_strong(expected, reason ? reason : "exit",
                                             std::memory_order_acq_rel))
    finish_signal_.store(sig, std::memory_order_release);
  Wake();
  WaitFinished(timeout_ms);
  return true;
}

bool Collector::WaitFinished(int timeout_ms) const {
  for (int waited = 0; waited < timeout_ms && !finished(); ++waited) {
    if (!background_running_.load(std::memory_order_acquire)) break;
    SleepMs(1);
  }
  return finished();
}

void Collector::FinishImpl(const char* reason) {
  if (raw::GetPid() != identity_.pid) return;  // a vfork child sharing our memory
  const int saved_errno = errno;
  bool expected = false;
  if (!finishing_.compare_exchange_strong(expected, true)) {
    // Someone else is finishing: wait (bounded) so an exiting process does not cut it short.
    for (int i = 0; i < kFinishWaitInSignalMs && !finished(); ++i)
      SleepMs(1);
    errno = saved_errno;
    return;
  }
  recording_.store(false, std::memory_order_relaxed);
  io_on_.store(false, std::memory_order_relaxed);
  const int n = source_count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    sources_[i]->OnFlush(true);
  Footer footer;
  {
    SignalSafeLock lock(facts_mutex_);
    footer.devices = devices_;
    footer.rank = rank_;
    footer.world_size = world_size_;
    footer.backend = backend_;
    footer.cupti_status = cupti_status_;
    footer.nvml_status = nvml_status_;
  }
  footer.end_reason = reason ? reason : "exit";
  footer.clock = g_clock_uses_tsc ? "tsc" : "realtime";
  footer.forked_from = forked_from_;
  footer.stats = &stats_;
  footer.start_ns = start_ns_;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    DrainLocked();
    footer.dropped_records = store_.dropped();
    footer.dropped_strings = strings_.dropped();
    footer.buffer_bytes = store_.allocated_bytes();
    if (writer_.Finish(footer, &path)) {
      SignalSafeLock facts(facts_mutex_);
      final_path_ = path;
    }
  }
  // Said before `finished` is set: a thread waiting for it may end the process at once.
  if (!path.empty() && config_.announce && !is_forked_child())
    Log("trace written to %s", path.c_str());
  if (footer.dropped_records)
    Log("%llu records were dropped because the %u MiB buffer was full (TEYE_BUFFER_MB)",
        static_cast<unsigned long long>(footer.dropped_records), config_.buffer_mb);
  finished_.store(true, std::memory_order_release);
  stop_.store(true);
  Wake();
  errno = saved_errno;
}

std::string Collector::final_path() const {
  SignalSafeLock lock(facts_mutex_);
  return final_path_;
}

bool Collector::FinishFromSignal(int sig, int timeout_ms) {
  if (finished()) return true;
  if (raw::GetPid() != identity_.pid) return false;
  if (!background_running_.load(std::memory_order_acquire) || t_slot.background) return false;
  if (!ThreadIsInsideCollector()) {
    const int n = source_count_.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
      sources_[i]->OnFinishRequested();
  }
  RequestFinish("signal", sig, timeout_ms);
  return finished();
}

bool Collector::FlushFromSignal(int timeout_ms) {
  if (finished() || raw::GetPid() != identity_.pid) return false;
  if (!background_running_.load(std::memory_order_acquire) || t_slot.background) return false;
  const uint64_t ticket = flush_requests_.fetch_add(1, std::memory_order_acq_rel) + 1;
  Wake();
  for (int waited = 0; waited < timeout_ms; ++waited) {
    if (flushes_done_.load(std::memory_order_acquire) >= ticket || finished()) return true;
    if (!background_running_.load(std::memory_order_acquire)) return false;
    SleepMs(1);
  }
  return false;
}

void Collector::NoteDevice(const DeviceProps& d) {
  SignalSafeLock lock(facts_mutex_);
  for (auto& existing : devices_) {
    if (existing.id == d.id) {
      existing = d;
      return;
    }
  }
  if (devices_.size() < 256) devices_.push_back(d);
}

std::vector<DeviceProps> Collector::Devices() const {
  SignalSafeLock lock(facts_mutex_);
  return devices_;
}

void Collector::NoteRank(int rank, int world_size, const char* backend) {
  SignalSafeLock lock(facts_mutex_);
  if (rank_ < 0 && rank >= 0) {
    rank_ = rank;
    if (world_size_ <= 0) world_size_ = world_size;
  }
  if (backend && backend_.empty()) backend_ = backend;
}

void Collector::SetCuptiStatus(std::string status) {
  SignalSafeLock lock(facts_mutex_);
  cupti_status_ = std::move(status);
}

void Collector::SetNvmlStatus(std::string status) {
  SignalSafeLock lock(facts_mutex_);
  nvml_status_ = std::move(status);
}

void Collector::AddSource(Source* source) {
  int n = source_count_.load();
  if (n >= static_cast<int>(std::size(sources_))) return;
  sources_[n] = source;
  source_count_.store(n + 1, std::memory_order_release);
}

// The lock order is the one in collector.h. The string table and the record store are
// lock-free: the child resets the store and keeps every string. Signals stay blocked on the
// forking thread from the first lock to the last unlock, so that no signal handler runs on a
// thread holding the collector's locks (the parent and the child restore the mask).
namespace {
sigset_t g_mask_before_fork;
}

void Collector::PrepareFork() {
  sigset_t all;
  sigfillset(&all);
  ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &g_mask_before_fork, sizeof(unsigned long));
  writer_mutex_.lock();
  facts_mutex_.lock();
  NvtxLockForFork(true);
}

void Collector::ParentAfterFork() {
  NvtxLockForFork(false);
  facts_mutex_.unlock();
  writer_mutex_.unlock();
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &g_mask_before_fork, nullptr, sizeof(unsigned long));
}

void Collector::ChildAfterFork() {
  ParentAfterFork();  // the forking thread holds every lock; it is this thread in the child
  if (!config_.forks) {
    recording_.store(false);
    io_on_.store(false);
    finished_.store(true);
    ClearActive(this);
    return;
  }
  forked_from_ = identity_.pid;
  identity_.ppid = identity_.pid;
  identity_.pid = raw::GetPid();
  std::string comm;
  if (raw::ReadSmallFile("/proc/self/comm", comm, 64)) {
    while (!comm.empty() && (comm.back() == '\n' || comm.back() == '\0'))
      comm.pop_back();
    identity_.exe = comm;
  }
  ThreadState* survivor = t_slot.epoch == epoch_ ? t_slot.state : nullptr;
  store_.ResetInChild(survivor);
  if (survivor) survivor->tid = static_cast<uint32_t>(raw::GetTid());
  stats_.Reset();
  writer_.Reset(identity_, config_.trace_name);
  {
    SignalSafeLock lock(facts_mutex_);
    cupti_status_ = "off (forked child)";
    nvml_status_ = "off (forked child)";
    final_path_.clear();
  }
  start_ns_ = RealtimeNs();
  finish_signal_.store(0);
  finish_reason_.store(nullptr);
  flush_requests_.store(0);
  flushes_done_.store(0);
  const bool was_finished = finished();
  finishing_.store(was_finished);
  const int n = source_count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    sources_[i]->OnForkChild();
  if (was_finished) return;
  // The parent's background thread does not exist here, and its eventfd is shared with the
  // parent: forget both (without joining or closing the parent's objects' state).
  if (background_running_.load()) {
    background_running_.store(false);  // names the parent's thread, which is not in this process
    if (event_fd_ >= 0) raw::Close(event_fd_);
    event_fd_ = -1;
    StartBackground();
  }
}

}  // namespace teye::collector
