#include "log.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>

#include "raw_io.h"

namespace teye::collector {
namespace {
std::atomic<bool> g_quiet{false};
}

void SetQuiet(bool quiet) {
  g_quiet.store(quiet, std::memory_order_relaxed);
}

void Log(const char* format, ...) {
  if (g_quiet.load(std::memory_order_relaxed)) return;
  const int saved_errno = errno;
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "teye[%d]: ", static_cast<int>(raw::GetPid()));
  if (n < 0) n = 0;
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, format, args);
  va_end(args);
  size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof buf - 2) len = sizeof buf - 2;
  buf[len++] = '\n';
  raw::WriteAll(2, buf, len);
  errno = saved_errno;
}

}  // namespace teye::collector
