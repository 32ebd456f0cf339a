#include "trace_file.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_io.h"

namespace teye::collector {
namespace {

constexpr int kMaxNames = 1000;
constexpr std::string_view kSuffix = ".pt.trace.json";

// Renames without replacing: 0, or -1 with errno (EEXIST when the name is taken).
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A file system without renameat2 flags: link() fails with EEXIST just the same.
  if (::syscall(SYS_linkat, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0) == 0) {
    ::syscall(SYS_unlinkat, AT_FDCWD, from.c_str(), 0);
    return 0;
  }
  if (errno == EEXIST) return -1;
  return raw::Rename(from.c_str(), to.c_str());  // no hard links either (some FUSE mounts)
}

}  // namespace

std::string NumberedTraceName(const std::string& name, int n) {
  if (n <= 1) return name;
  const std::string number = "." + std::to_string(n);
  if (name.size() > kSuffix.size() &&
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return name.substr(0, name.size() - kSuffix.size()) + number + std::string(kSuffix);
  return name + number;
}

TraceFile::~TraceFile() {
  if (fd_ >= 0 && !sink_) raw::Close(fd_);
}

bool TraceFile::Create(const std::string& dir, const std::string& name) {
  dir_ = dir;
  if (!raw::MakeDirs(dir, &error_)) return false;
  for (int n = 1; n <= kMaxNames; ++n) {
    partial_path_ = dir + "/" + NumberedTraceName(name, n) + ".partial";
    fd_ = raw::Open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (fd_ >= 0) return true;
    error_ = errno;
    if (error_ != EEXIST) break;
  }
  partial_path_.clear();
  return false;
}

void TraceFile::UseSink(int fd) {
  fd_ = fd;
  sink_ = true;
  partial_path_.clear();
}

bool TraceFile::Write(const char* data, size_t size) {
  if (fd_ < 0) return false;
  if (raw::WriteAll(fd_, data, size)) return true;
  error_ = errno;
  return false;
}

bool TraceFile::Commit(const std::string& final_name, std::string* final_path) {
  if (fd_ < 0) return false;
  if (sink_) return true;
  ::fsync(fd_);
  raw::Close(fd_);
  fd_ = -1;
  for (int n = 1; n <= kMaxNames; ++n) {
    const std::string path = dir_ + "/" + NumberedTraceName(final_name, n);
    if (RenameNoReplace(partial_path_, path) == 0) {
      if (final_path) *final_path = path;
      return true;
    }
    error_ = errno;
    if (error_ != EEXIST) return false;
  }
  return false;
}

void TraceFile::Abandon() {
  if (fd_ >= 0 && !sink_) raw::Close(fd_);
  fd_ = -1;
  sink_ = false;
  partial_path_.clear();
}

}  // namespace teye::collector
