// File and process primitives for the collector's own use, as raw system calls.
//
// The collector interposes open/read/close for the job; its own file work must neither be
// recorded as the job's I/O nor re-enter its interposers, so it never calls those libc symbols.
// Every function here is async-signal-safe and sets no errno the job could observe (callers save
// and restore errno around collector work).
#pragma once

#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace teye::collector::raw {

inline int Open(const char* path, int flags, int mode = 0644) {
  return static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode));
}
inline ssize_t Read(int fd, void* buf, size_t n) {
  return ::syscall(SYS_read, fd, buf, n);
}
inline ssize_t Write(int fd, const void* buf, size_t n) {
  return ::syscall(SYS_write, fd, buf, n);
}
inline int Close(int fd) {
  return static_cast<int>(::syscall(SYS_close, fd));
}
inline int Rename(const char* from, const char* to) {
  return static_cast<int>(::syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to));
}
inline int MkDir(const char* path, int mode) {
  return static_cast<int>(::syscall(SYS_mkdirat, AT_FDCWD, path, mode));
}
inline pid_t GetPid() {
  return static_cast<pid_t>(::syscall(SYS_getpid));
}
inline pid_t GetTid() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

// Writes all of buf, retrying short writes and EINTR. False on error.
bool WriteAll(int fd, const char* buf, size_t n);

// Reads a small file (under /proc, usually) into out, at most max_bytes. False if unreadable.
bool ReadSmallFile(const char* path, std::string& out, size_t max_bytes = 1 << 16);

// mkdir -p. False when the directory does not exist afterwards; then *error (when given) is the
// errno of the mkdir that failed (EACCES, EROFS, ...), or ENOTDIR when something else is there.
bool MakeDirs(const std::string& path, int* error = nullptr);

}  // namespace teye::collector::raw
