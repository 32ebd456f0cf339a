#include "raw_io.h"

#include <cerrno>
#include <sys/stat.h>

namespace teye::collector::raw {

bool WriteAll(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = Write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadSmallFile(const char* path, std::string& out, size_t max_bytes) {
  out.clear();
  int fd = Open(path, O_RDONLY);
  if (fd < 0) return false;
  char buf[4096];
  while (out.size() < max_bytes) {
    ssize_t r = Read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  Close(fd);
  if (out.size() > max_bytes) out.resize(max_bytes);
  return true;
}

bool MakeDirs(const std::string& path, int* error) {
  if (path.empty()) {
    if (error) *error = ENOENT;
    return false;
  }
  int failed = 0;
  std::string partial;
  partial.reserve(path.size());
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      partial.assign(path, 0, i);
      // EEXIST and races with sibling processes are fine; the last other failure is the reason.
      if (MkDir(partial.c_str(), 0755) != 0 && errno != EEXIST) failed = errno;
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
  if (error) *error = failed ? failed : ENOTDIR;
  return false;
}

}  // namespace teye::collector::raw
