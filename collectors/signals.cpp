#include "signals.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collector.h"
#include "raw_io.h"

#define TEYE_EXPORT extern "C" __attribute__((visibility("default")))

namespace teye::collector {
namespace {

constexpr int kManagedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
// How long the job's own handler waits for the trace to reach the file first.
constexpr int kFlushBeforeHandlerMs = 1000;
constexpr int kFinishBeforeDefaultMs = 5000;

using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);
using SignalFn = sighandler_t (*)(int, sighandler_t);
using SiginterruptFn = int (*)(int, int);

std::atomic<SigactionFn> g_real_sigaction{nullptr};
std::atomic<SigactionFn> g_real_sigaction_alias{nullptr};  // __sigaction
std::atomic<SignalFn> g_real_signal{nullptr};
std::atomic<SignalFn> g_real_sysv_signal{nullptr};
std::atomic<SiginterruptFn> g_real_siginterrupt{nullptr};

// The job's view, for the managed signals once g_active is set.
std::atomic<bool> g_active{false};
bool g_managed[NSIG] = {};
struct sigaction g_view[NSIG];
bool g_interrupts[NSIG] = {};  // siginterrupt(sig, 1): signal() then installs without SA_RESTART
std::atomic<pid_t> g_owner_pid{0};
std::atomic_flag g_view_lock = ATOMIC_FLAG_INIT;

template <typename Fn>
Fn Real(std::atomic<Fn>& slot, const char* name) {
  Fn fn = slot.load(std::memory_order_acquire);
  if (!fn) {
    fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    slot.store(fn, std::memory_order_release);
  }
  return fn;
}

int RealSigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (SigactionFn fn = Real(g_real_sigaction, "sigaction")) return fn(sig, act, old);
  errno = ENOSYS;
  return -1;
}

bool Managed(int sig) {
  return g_active.load(std::memory_order_acquire) && sig > 0 && sig < NSIG && g_managed[sig] &&
         raw::GetPid() == g_owner_pid.load(std::memory_order_relaxed);
}

bool IsDefault(const struct sigaction& a) {
  return !(a.sa_flags & SA_SIGINFO) && a.sa_handler == SIG_DFL;
}
bool IsIgnored(const struct sigaction& a) {
  return !(a.sa_flags & SA_SIGINFO) && a.sa_handler == SIG_IGN;
}

// Every signal blocked on this thread while the view changes, so no handler on this thread can
// find the lock taken; handlers on other threads wait for a few instructions at most.
class ViewLock {
 public:
  ViewLock() {
    sigset_t all;
    sigfillset(&all);
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &saved_, sizeof(unsigned long));
    while (g_view_lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~ViewLock() {
    g_view_lock.clear(std::memory_order_release);
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &saved_, nullptr, sizeof(unsigned long));
  }
  ViewLock(const ViewLock&) = delete;
  ViewLock& operator=(const ViewLock&) = delete;

 private:
  sigset_t saved_;
};

void OnSignal(int sig, siginfo_t* info, void* context);

// What the kernel runs for a job disposition: nothing for SIG_IGN, else the collector's handler
// with the job's mask and flags (SA_RESETHAND is done by the collector, which keeps its handler).
int ApplyToKernel(int sig, const struct sigaction& job) {
  if (IsIgnored(job)) return RealSigaction(sig, &job, nullptr);
  struct sigaction mine = job;
  mine.sa_sigaction = OnSignal;
  mine.sa_flags = (job.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
  if (IsDefault(job)) {
    mine.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&mine.sa_mask);
  }
  return RealSigaction(sig, &mine, nullptr);
}

// The job's sigaction() on a managed signal.
int JobSigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  ViewLock lock;
  const struct sigaction previous = g_view[sig];
  if (act) {
    if (ApplyToKernel(sig, *act) != 0) return -1;  // errno from the kernel (EINVAL, EFAULT)
    g_view[sig] = *act;
  }
  if (old) *old = previous;
  return 0;
}

// The default action, as if the collector had never been there: it runs with the default
// disposition in the kernel and the signal unblocked.
void DieOf(int sig) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  RealSigaction(sig, &dfl, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  ::syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &only, nullptr, sizeof(unsigned long));
  ::syscall(SYS_tgkill, raw::GetPid(), raw::GetTid(), sig);
  // Still alive (a default action that does not end the process): back to the job's view.
  ViewLock lock;
  ApplyToKernel(sig, g_view[sig]);
}

void OnSignal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  ++t_slot.in_signal;
  struct sigaction job;
  {
    ViewLock lock;
    job = g_view[sig];
    if ((job.sa_flags & SA_RESETHAND) && !IsIgnored(job) && !IsDefault(job)) {
      // One-shot handler: the next delivery finds the default action, as the kernel would do.
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      g_view[sig] = dfl;
    }
  }
  Collector* c = Collector::Active();
  if (IsDefault(job)) {
    if (c) c->FinishFromSignal(sig, kFinishBeforeDefaultMs);
    DieOf(sig);
  } else if (!IsIgnored(job)) {
    if (c) c->FlushFromSignal(kFlushBeforeHandlerMs);
    errno = saved_errno;
    if (job.sa_flags & SA_SIGINFO)
      job.sa_sigaction(sig, info, context);
    else
      job.sa_handler(sig);
    --t_slot.in_signal;
    return;  // errno is the job's handler's business now
  }
  --t_slot.in_signal;
  errno = saved_errno;
}

// glibc's signal(): BSD semantics (the signal blocked while its handler runs, system calls
// restarted unless siginterrupt said otherwise).
sighandler_t BsdSignal(int sig, sighandler_t handler) {
  struct sigaction act {
  }, old{};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = g_interrupts[sig] ? 0 : SA_RESTART;
  if (JobSigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

bool ValidForSignal(int sig, sighandler_t handler) {
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
    errno = EINVAL;
    return false;
  }
  return true;
}

}  // namespace

bool InstallSignalHandling() {
  SigactionFn real = Real(g_real_sigaction, "sigaction");
  Real(g_real_sigaction_alias, "__sigaction");
  Real(g_real_signal, "signal");
  Real(g_real_sysv_signal, "sysv_signal");
  Real(g_real_siginterrupt, "siginterrupt");
  // Only when the job's calls come here (the library is preloaded): otherwise the job would
  // read back the collector's handler instead of its own.
  void* seen = dlsym(RTLD_DEFAULT, "sigaction");
  Dl_info mine{}, theirs{};
  if (!real || !seen || !dladdr(reinterpret_cast<void*>(&InstallSignalHandling), &mine) ||
      !dladdr(seen, &theirs) || mine.dli_fbase != theirs.dli_fbase)
    return false;
  ViewLock lock;
  g_owner_pid.store(raw::GetPid(), std::memory_order_relaxed);
  for (int sig : kManagedSignals) {
    struct sigaction current {};
    if (real(sig, nullptr, &current) != 0) continue;
    g_view[sig] = current;
    g_managed[sig] = true;
    ApplyToKernel(sig, current);  // an inherited SIG_IGN (nohup) stays with the kernel
  }
  g_active.store(true, std::memory_order_release);
  return true;
}

void SignalsAfterForkChild() {
  g_owner_pid.store(raw::GetPid(), std::memory_order_relaxed);
}

}  // namespace teye::collector

using namespace teye::collector;

// ---- Interposed functions ---------------------------------------------------------------------

TEYE_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (Managed(sig)) return JobSigaction(sig, act, old);
  return RealSigaction(sig, act, old);
}

TEYE_EXPORT int __sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (Managed(sig)) return JobSigaction(sig, act, old);
  if (SigactionFn fn = Real(g_real_sigaction_alias, "__sigaction")) return fn(sig, act, old);
  return RealSigaction(sig, act, old);
}

TEYE_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  if (!Managed(sig)) {
    if (SignalFn fn = Real(g_real_signal, "signal")) return fn(sig, handler);
    errno = ENOSYS;
    return SIG_ERR;
  }
  if (!ValidForSignal(sig, handler)) return SIG_ERR;
  return BsdSignal(sig, handler);
}

TEYE_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) {
  return signal(sig, handler);
}

// System V semantics: one-shot, the signal not blocked in its handler, no restart.
TEYE_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler) {
  if (!Managed(sig)) {
    if (SignalFn fn = Real(g_real_sysv_signal, "sysv_signal")) return fn(sig, handler);
    errno = ENOSYS;
    return SIG_ERR;
  }
  if (!ValidForSignal(sig, handler)) return SIG_ERR;
  struct sigaction act {
  }, old{};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESETHAND | SA_NODEFER;
  if (JobSigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

TEYE_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler) {
  return sysv_signal(sig, handler);
}

TEYE_EXPORT int siginterrupt(int sig, int flag) {
  if (!Managed(sig)) {
    if (SiginterruptFn fn = Real(g_real_siginterrupt, "siginterrupt")) return fn(sig, flag);
    errno = ENOSYS;
    return -1;
  }
  struct sigaction act {};
  JobSigaction(sig, nullptr, &act);
  g_interrupts[sig] = flag != 0;
  if (flag)
    act.sa_flags &= ~SA_RESTART;
  else
    act.sa_flags |= SA_RESTART;
  return JobSigaction(sig, &act, nullptr);
}
