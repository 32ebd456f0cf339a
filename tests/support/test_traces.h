// Helpers for writing tiny inline traces in tests.
#pragma once

#include <string>
#include <string_view>

#include "teye/import/read_trace.h"

namespace teye::test {

// Wraps event objects (comma-separated JSON text) as {"traceEvents": [...]}.
inline std::string Wrap(std::string_view events, std::string_view extra = {}) {
  std::string s = "{\"traceEvents\": [" + std::string(events) + "]";
  if (!extra.empty()) s += ", " + std::string(extra);
  return s + "}";
}

// Reads text with small chunks so the parallel fast path runs on tiny inputs too.
inline Result<Trace> Read(std::string_view text, size_t chunk_bytes = 1 << 20,
                          unsigned threads = 2) {
  ReadOptions o;
  o.chunk_bytes = chunk_bytes;
  o.threads = threads;
  return ReadTraceBytes("test.json", text, o);
}

}  // namespace teye::test
