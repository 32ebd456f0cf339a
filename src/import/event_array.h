// The event array of a Chrome trace, read in parallel chunks (see event_array.cpp).
#pragma once

#include <cstddef>

#include "teye/import/read_trace.h"

#include "input_buffer.h"

namespace teye::import {

struct ArrayResult {
  bool closed = false;
  size_t end = 0;  // just past ']' when closed
};

// Reads the event array whose '[' is at `open` into `builder`, the parses as tasks on
// options.executor. The input may still be arriving (InputBuffer::Prefix).
ArrayResult ParseEventArray(const InputBuffer& input, size_t open, TraceBuilder& builder,
                            const ReadOptions& options);

}  // namespace teye::import
