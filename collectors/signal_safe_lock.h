// A lock held with every signal blocked on the holding thread. The collector's background thread
// must be able to finish the trace while a signal handler waits for it (signals.h); so a lock it
// takes on that path must never be held by a thread that a signal handler interrupted. Locks
// that job threads take too (facts, CUPTI's converter) are held this way; blocking costs two
// system calls, and these locks are taken rarely (device and rank facts, one CUPTI buffer).
#pragma once

#include <csignal>
#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

namespace teye::collector {

class SignalSafeLock {
 public:
  explicit SignalSafeLock(std::mutex& m) : m_(m) {
    sigset_t all;
    sigfillset(&all);
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &saved_, sizeof(unsigned long));
    m_.lock();
  }
  ~SignalSafeLock() {
    m_.unlock();
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved_, nullptr, sizeof(unsigned long));
  }
  SignalSafeLock(const SignalSafeLock&) = delete;
  SignalSafeLock& operator=(const SignalSafeLock&) = delete;

 private:
  std::mutex& m_;
  sigset_t saved_;
};

}  // namespace teye::collector
