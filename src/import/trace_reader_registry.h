// Picks the reader for an input by sniffing its first bytes (STYLE.md 2). One entry per
// dialect; a new input format is a new reader here and nothing else changes.
#pragma once

#include <string>
#include <string_view>

#include "teye/import/read_trace.h"

#include "input_buffer.h"

namespace teye::import {

struct TraceReaderEntry {
  std::string_view name;
  // True when the (decompressed) bytes look like this format.
  bool (*sniff)(std::string_view head);
  // Every rank the input holds; nullptr for formats teye recognises but cannot read yet
  // (`hint` says what to do).
  Result<TraceSet> (*read)(const InputBuffer& input, const std::string& name,
                           const ReadOptions& options);
  std::string_view hint;
};

// Reads `input` with the first reader whose sniff accepts it.
Result<TraceSet> ReadWithRegistry(const InputBuffer& input, const std::string& name,
                                  const ReadOptions& options);

}  // namespace teye::import
