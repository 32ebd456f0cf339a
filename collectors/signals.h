// Terminating signals, handled the way the sanitizers handle theirs (compiler-rt's
// sanitizer_signal_interceptors.inc): the job keeps its own view of every disposition.
//
// The preloaded library interposes signal(), sigaction() and their relatives. For the signals it
// manages (SIGTERM, SIGINT, SIGHUP, SIGQUIT) the kernel always runs the collector's handler,
// while what the job sets is kept apart and is exactly what the job reads back: SIG_DFL where it
// set nothing (so Python installs its SIGINT handler and raises KeyboardInterrupt as usual), its
// own handler, mask and flags where it set one. When such a signal arrives:
//
//   - the job has a handler: the collector asks its background thread to write what is recorded
//     so far (bounded wait), then calls the job's handler with the job's mask in force; the job
//     decides what happens next (an exit() or _exit() then finishes the trace);
//   - the job has the default action: the background thread finishes the trace (up to 5 s), the
//     default action is restored and the signal raised again, so the process ends as it would
//     have (same signal, same exit status);
//   - the job ignores it: the kernel ignores it (nothing runs).
//
// The collector never changes a job thread's signal mask, so sigprocmask() and
// pthread_sigmask() need no interposition: the kernel applies the job's sa_mask while its
// handler runs, the collector's thread blocks every signal, and the one unblocking it does is
// on the way to the default action. Dispositions change only through the interposed calls; a
// vfork child (posix_spawn, Python's subprocess), which shares the parent's memory, passes its
// calls straight to libc so the parent's view stays its own. Without preloading (the library
// loaded by dlopen) nothing is installed: the trace is finished at exit and _exit only.
#pragma once

namespace teye::collector {

// Takes over the managed signals when this library's sigaction is the one the process calls
// (it was preloaded); returns false, changing nothing, otherwise. Once per process, at load.
bool InstallSignalHandling();

// In the child after fork(): the dispositions now belong to this process.
void SignalsAfterForkChild();

}  // namespace teye::collector
