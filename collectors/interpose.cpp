// Interposed libc functions (only in the preloaded library): the input pipeline's file and
// socket reads with their time, bytes, descriptor and path; the calls that create, copy and
// close descriptors (so a read names its file, also through dup() and fcntl(F_DUPFD)); and
// _exit(), which forked DataLoader workers leave by without running atexit handlers. Signals are
// interposed in signals.cpp.
//
// Each wrapper calls the real function (resolved with dlsym(RTLD_NEXT) when the library loads, or
// the raw system call before that), preserves errno, and records only when the collector is
// recording I/O and the calling thread is not one of the collector's own. The job calls these
// from signal handlers too (read, open, close and dup are async-signal-safe), so nothing here
// takes a lock or allocates: see io_record.h and string_table.h.
#include <atomic>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "io_record.h"

#define TEYE_EXPORT extern "C" __attribute__((visibility("default")))

namespace teye::collector {
namespace {

// fd → interned path, for the descriptors the job opened through the interposed functions.
constexpr int kMaxFds = 1 << 16;
std::atomic<uint32_t> g_fd_paths[kMaxFds];

uint32_t FdPath(int fd) {
  return fd >= 0 && fd < kMaxFds ? g_fd_paths[fd].load(std::memory_order_relaxed) : 0;
}
void SetFdPath(int fd, uint32_t id) {
  if (fd >= 0 && fd < kMaxFds) g_fd_paths[fd].store(id, std::memory_order_relaxed);
}

// A descriptor made from another (dup, fcntl F_DUPFD) names the same file.
void CopyFdPath(int from, int to) {
  if (to >= 0 && to != from) SetFdPath(to, FdPath(from));
}

template <typename Fn>
Fn Real(std::atomic<Fn>& slot, const char* name) {
  Fn fn = slot.load(std::memory_order_relaxed);
  if (!fn) [[unlikely]] {
    fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    slot.store(fn, std::memory_order_relaxed);
  }
  return fn;
}

// Interns the path of a successful open (relative to dirfd when it is known). No allocation:
// the joined path is built on the stack.
uint32_t InternPath(Collector* c, int dirfd, const char* path) {
  if (!c || !path) return 0;
  const size_t len = strnlen(path, 4096);
  if (path[0] != '/' && dirfd != AT_FDCWD) {
    std::string_view dir = c->strings().Get(FdPath(dirfd));
    if (!dir.empty() && dir.size() + 1 + len <= 8192) {
      char joined[8192];
      std::memcpy(joined, dir.data(), dir.size());
      joined[dir.size()] = '/';
      std::memcpy(joined + dir.size() + 1, path, len);
      return c->strings().Intern(std::string_view(joined, dir.size() + 1 + len));
    }
  }
  return c->strings().Intern(std::string_view(path, len));
}

int AfterOpen(IoCall& call, int dirfd, const char* path, int fd) {
  const int saved_errno = errno;
  if (fd >= 0) SetFdPath(fd, 0);
  Collector* c = call.c ? call.c : Collector::Active();
  // Paths are kept even outside the recording window, so later reads still name their file.
  if (fd >= 0 && c && !ThreadIsInsideCollector()) {
    InsideCollector inside;
    ThreadState* ts = c->Thread();
    if (ts && !ts->internal) SetFdPath(fd, InternPath(c, dirfd, path));
  }
  if (call.c) {
    uint32_t id = fd >= 0 ? FdPath(fd) : 0;
    if (fd < 0) {
      InsideCollector inside;
      id = InternPath(call.c, dirfd, path);
    }
    RecordIo(call, IoOp::kOpen, fd, fd, id);
  }
  errno = saved_errno;
  return fd;
}

bool NeedsMode(int flags) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

using ReadFn = ssize_t (*)(int, void*, size_t);
using PreadFn = ssize_t (*)(int, void*, size_t, off_t);
using ReadvFn = ssize_t (*)(int, const iovec*, int);
using PreadvFn = ssize_t (*)(int, const iovec*, int, off_t);
using RecvFn = ssize_t (*)(int, void*, size_t, int);
using RecvfromFn = ssize_t (*)(int, void*, size_t, int, sockaddr*, socklen_t*);
using FreadFn = size_t (*)(void*, size_t, size_t, FILE*);
using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using FopenFn = FILE* (*)(const char*, const char*);
using CloseFn = int (*)(int);
using FcloseFn = int (*)(FILE*);
using CloseRangeFn = int (*)(unsigned, unsigned, int);
using DupFn = int (*)(int);
using Dup2Fn = int (*)(int, int);
using Dup3Fn = int (*)(int, int, int);
using FcntlFn = int (*)(int, int, ...);
using ExitFn = void (*)(int);

std::atomic<ReadFn> r_read;
std::atomic<PreadFn> r_pread, r_pread64;
std::atomic<ReadvFn> r_readv;
std::atomic<PreadvFn> r_preadv, r_preadv64;
std::atomic<RecvFn> r_recv;
std::atomic<RecvfromFn> r_recvfrom;
std::atomic<FreadFn> r_fread;
std::atomic<OpenFn> r_open, r_open64;
std::atomic<OpenatFn> r_openat, r_openat64;
std::atomic<FopenFn> r_fopen, r_fopen64;
std::atomic<CloseFn> r_close;
std::atomic<FcloseFn> r_fclose;
std::atomic<CloseRangeFn> r_close_range;
std::atomic<DupFn> r_dup;
std::atomic<Dup2Fn> r_dup2;
std::atomic<Dup3Fn> r_dup3;
std::atomic<FcntlFn> r_fcntl, r_fcntl64;
std::atomic<ExitFn> r_exit, r_Exit;

// dlsym may allocate and takes the loader's lock: resolve everything before the job runs, so that
// no interposed call (perhaps from a signal handler) has to.
__attribute__((constructor(101))) void ResolveRealFunctions() {
  Real(r_read, "read");
  Real(r_pread, "pread");
  Real(r_pread64, "pread64");
  Real(r_readv, "readv");
  Real(r_preadv, "preadv");
  Real(r_preadv64, "preadv64");
  Real(r_recv, "recv");
  Real(r_recvfrom, "recvfrom");
  Real(r_fread, "fread");
  Real(r_open, "open");
  Real(r_open64, "open64");
  Real(r_openat, "openat");
  Real(r_openat64, "openat64");
  Real(r_fopen, "fopen");
  Real(r_fopen64, "fopen64");
  Real(r_close, "close");
  Real(r_fclose, "fclose");
  Real(r_close_range, "close_range");
  Real(r_dup, "dup");
  Real(r_dup2, "dup2");
  Real(r_dup3, "dup3");
  Real(r_fcntl, "fcntl");
  Real(r_fcntl64, "fcntl64");
  Real(r_exit, "_exit");
  Real(r_Exit, "_Exit");
}

__attribute__((always_inline)) inline ssize_t DoRead(int fd, void* buf, size_t n) {
  ReadFn fn = Real(r_read, "read");
  IoCall call;
  ssize_t r = fn ? fn(fd, buf, n) : ::syscall(SYS_read, fd, buf, n);
  if (call.c) RecordIo(call, IoOp::kRead, fd, r, FdPath(fd));
  return r;
}

__attribute__((always_inline)) inline ssize_t DoPread(std::atomic<PreadFn>& slot, const char* name,
                                                      int fd, void* buf, size_t n, off_t off) {
  PreadFn fn = Real(slot, name);
  IoCall call;
  ssize_t r = fn ? fn(fd, buf, n, off) : ::syscall(SYS_pread64, fd, buf, n, off);
  if (call.c) RecordIo(call, IoOp::kPread, fd, r, FdPath(fd));
  return r;
}

ssize_t DoPreadv(std::atomic<PreadvFn>& slot, const char* name, int fd, const iovec* iov, int count,
                 off_t off) {
  PreadvFn fn = Real(slot, name);
  IoCall call;
  ssize_t r = fn ? fn(fd, iov, count, off) : ::syscall(SYS_preadv, fd, iov, count, off, 0);
  if (call.c) RecordIo(call, IoOp::kPreadv, fd, r, FdPath(fd));
  return r;
}

ssize_t DoRecv(int fd, void* buf, size_t n, int flags) {
  RecvFn fn = Real(r_recv, "recv");
  IoCall call;
  ssize_t r =
      fn ? fn(fd, buf, n, flags) : ::syscall(SYS_recvfrom, fd, buf, n, flags, nullptr, nullptr);
  if (call.c) RecordIo(call, IoOp::kRecv, fd, r, FdPath(fd));
  return r;
}

ssize_t DoRecvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr, socklen_t* len) {
  RecvfromFn fn = Real(r_recvfrom, "recvfrom");
  IoCall call;
  ssize_t r =
      fn ? fn(fd, buf, n, flags, addr, len) : ::syscall(SYS_recvfrom, fd, buf, n, flags, addr, len);
  if (call.c) RecordIo(call, IoOp::kRecvfrom, fd, r, FdPath(fd));
  return r;
}

size_t DoFread(void* buf, size_t size, size_t n, FILE* f) {
  FreadFn fn = Real(r_fread, "fread");
  if (!fn) return 0;
  IoCall call;
  size_t r = fn(buf, size, n, f);
  if (call.c) {
    const int fd = f ? fileno(f) : -1;
    RecordIo(call, IoOp::kFread, fd, static_cast<int64_t>(r * size), FdPath(fd));
  }
  return r;
}

int DoOpen(std::atomic<OpenFn>& slot, const char* name, const char* path, int flags, mode_t mode) {
  OpenFn fn = Real(slot, name);
  IoCall call;
  int fd = fn ? fn(path, flags, mode)
              : static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, flags, mode));
  return AfterOpen(call, AT_FDCWD, path, fd);
}

int DoOpenat(std::atomic<OpenatFn>& slot, const char* name, int dirfd, const char* path, int flags,
             mode_t mode) {
  OpenatFn fn = Real(slot, name);
  IoCall call;
  int fd = fn ? fn(dirfd, path, flags, mode)
              : static_cast<int>(::syscall(SYS_openat, dirfd, path, flags, mode));
  return AfterOpen(call, dirfd, path, fd);
}

FILE* DoFopen(std::atomic<FopenFn>& slot, const char* name, const char* path, const char* mode) {
  FopenFn fn = Real(slot, name);
  if (!fn) {
    errno = ENOSYS;
    return nullptr;
  }
  IoCall call;
  FILE* f = fn(path, mode);
  const int saved_errno = errno;
  AfterOpen(call, AT_FDCWD, path, f ? fileno(f) : -1);
  errno = saved_errno;
  return f;
}

int DoFcntl(std::atomic<FcntlFn>& slot, const char* name, int fd, int cmd, void* arg) {
  FcntlFn fn = Real(slot, name);
  const int r = fn ? fn(fd, cmd, arg) : static_cast<int>(::syscall(SYS_fcntl, fd, cmd, arg));
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) CopyFdPath(fd, r);
  return r;
}

[[noreturn]] void DoExit(std::atomic<ExitFn>& slot, const char* name, int status) {
  // Forked DataLoader workers end here: their trace is finished before the process is gone.
  if (Collector* c = Collector::Active()) c->Finish("_exit");
  if (ExitFn fn = Real(slot, name)) fn(status);
  ::syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

}  // namespace
}  // namespace teye::collector

using namespace teye::collector;

TEYE_EXPORT ssize_t read(int fd, void* buf, size_t n) {
  return DoRead(fd, buf, n);
}
TEYE_EXPORT ssize_t __read_chk(int fd, void* buf, size_t n, size_t /*buflen*/) {
  return DoRead(fd, buf, n);
}
TEYE_EXPORT ssize_t pread(int fd, void* buf, size_t n, off_t off) {
  return DoPread(r_pread, "pread", fd, buf, n, off);
}
TEYE_EXPORT ssize_t pread64(int fd, void* buf, size_t n, off_t off) {
  return DoPread(r_pread64, "pread64", fd, buf, n, off);
}
TEYE_EXPORT ssize_t __pread_chk(int fd, void* buf, size_t n, off_t off, size_t) {
  return DoPread(r_pread, "pread", fd, buf, n, off);
}
TEYE_EXPORT ssize_t __pread64_chk(int fd, void* buf, size_t n, off_t off, size_t) {
  return DoPread(r_pread64, "pread64", fd, buf, n, off);
}
TEYE_EXPORT ssize_t readv(int fd, const struct iovec* iov, int count) {
  ReadvFn fn = Real(r_readv, "readv");
  IoCall call;
  ssize_t r = fn ? fn(fd, iov, count) : ::syscall(SYS_readv, fd, iov, count);
  if (call.c) RecordIo(call, IoOp::kReadv, fd, r, FdPath(fd));
  return r;
}
TEYE_EXPORT ssize_t preadv(int fd, const struct iovec* iov, int count, off_t off) {
  return DoPreadv(r_preadv, "preadv", fd, iov, count, off);
}
TEYE_EXPORT ssize_t preadv64(int fd, const struct iovec* iov, int count, off_t off) {
  return DoPreadv(r_preadv64, "preadv64", fd, iov, count, off);
}
TEYE_EXPORT ssize_t recv(int fd, void* buf, size_t n, int flags) {
  return DoRecv(fd, buf, n, flags);
}
TEYE_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t n, size_t, int flags) {
  return DoRecv(fd, buf, n, flags);
}
TEYE_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* addr,
                             socklen_t* len) {
  return DoRecvfrom(fd, buf, n, flags, addr, len);
}
TEYE_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t, int flags,
                                   struct sockaddr* addr, socklen_t* len) {
  return DoRecvfrom(fd, buf, n, flags, addr, len);
}
TEYE_EXPORT size_t fread(void* buf, size_t size, size_t n, FILE* f) {
  return DoFread(buf, size, n, f);
}
TEYE_EXPORT size_t __fread_chk(void* buf, size_t, size_t size, size_t n, FILE* f) {
  return DoFread(buf, size, n, f);
}

TEYE_EXPORT int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (NeedsMode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return DoOpen(r_open, "open", path, flags, mode);
}
TEYE_EXPORT int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (NeedsMode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return DoOpen(r_open64, "open64", path, flags, mode);
}
TEYE_EXPORT int __open_2(const char* path, int flags) {
  return DoOpen(r_open, "open", path, flags, 0);
}
TEYE_EXPORT int __open64_2(const char* path, int flags) {
  return DoOpen(r_open64, "open64", path, flags, 0);
}
TEYE_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (NeedsMode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return DoOpenat(r_openat, "openat", dirfd, path, flags, mode);
}
TEYE_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (NeedsMode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return DoOpenat(r_openat64, "openat64", dirfd, path, flags, mode);
}
TEYE_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return DoOpenat(r_openat, "openat", dirfd, path, flags, 0);
}
TEYE_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return DoOpenat(r_openat64, "openat64", dirfd, path, flags, 0);
}
TEYE_EXPORT FILE* fopen(const char* path, const char* mode) {
  return DoFopen(r_fopen, "fopen", path, mode);
}
TEYE_EXPORT FILE* fopen64(const char* path, const char* mode) {
  return DoFopen(r_fopen64, "fopen64", path, mode);
}

TEYE_EXPORT int close(int fd) {
  SetFdPath(fd, 0);
  CloseFn fn = Real(r_close, "close");
  return fn ? fn(fd) : static_cast<int>(::syscall(SYS_close, fd));
}
TEYE_EXPORT int fclose(FILE* f) {
  if (f) SetFdPath(fileno(f), 0);
  FcloseFn fn = Real(r_fclose, "fclose");
  if (!fn) {
    errno = ENOSYS;
    return EOF;
  }
  return fn(f);
}

TEYE_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  CloseRangeFn fn = Real(r_close_range, "close_range");
  const int r = fn ? fn(first, last, flags)
                   : static_cast<int>(::syscall(SYS_close_range, first, last, flags));
  if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
    for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(kMaxFds); ++fd)
      SetFdPath(static_cast<int>(fd), 0);
  return r;
}

TEYE_EXPORT int dup(int fd) {
  DupFn fn = Real(r_dup, "dup");
  const int r = fn ? fn(fd) : static_cast<int>(::syscall(SYS_dup, fd));
  CopyFdPath(fd, r);
  return r;
}
TEYE_EXPORT int dup2(int fd, int to) {
  Dup2Fn fn = Real(r_dup2, "dup2");
  const int r = fn ? fn(fd, to) : static_cast<int>(::syscall(SYS_dup2, fd, to));
  CopyFdPath(fd, r);
  return r;
}
TEYE_EXPORT int dup3(int fd, int to, int flags) {
  Dup3Fn fn = Real(r_dup3, "dup3");
  const int r = fn ? fn(fd, to, flags) : static_cast<int>(::syscall(SYS_dup3, fd, to, flags));
  CopyFdPath(fd, r);
  return r;
}
// The third argument is an int or a pointer, depending on cmd; passed on as glibc does.
TEYE_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return DoFcntl(r_fcntl, "fcntl", fd, cmd, arg);
}
TEYE_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return DoFcntl(r_fcntl64, "fcntl64", fd, cmd, arg);
}

TEYE_EXPORT void _exit(int status) {
  DoExit(r_exit, "_exit", status);
}
TEYE_EXPORT void _Exit(int status) {
  DoExit(r_Exit, "_Exit", status);
}
