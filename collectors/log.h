// The collector's messages to the job's stderr. A guest speaks rarely: each message is one line
// prefixed "teye[pid]: ", written with one write(2), and most are said once per process.
#pragma once

#include <atomic>

namespace teye::collector {

// Silences every message (TEYE_QUIET=1).
void SetQuiet(bool quiet);

// printf-style; never allocates, truncates at 1 KiB, async-signal-safe apart from vsnprintf.
void Log(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Says a message at most once per flag per process (flags are reset in forked children only if
// the caller resets them).
#define TEYE_LOG_ONCE(...)                                               \
  do {                                                                   \
    static std::atomic<bool> teye_said_{false};                          \
    if (!teye_said_.exchange(true)) ::teye::collector::Log(__VA_ARGS__); \
  } while (0)

}  // namespace teye::collector
