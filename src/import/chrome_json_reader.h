// Reader for Chrome Trace Event JSON (object and array forms), the format PyTorch's profiler,
// Kineto and teye's collector write.
#pragma once

#include <optional>
#include <string>

#include "teye/import/read_trace.h"

#include "input_buffer.h"

namespace teye::import {

// `input` must start (after whitespace) with '{' or '['.
Result<Trace> ReadChromeJson(const InputBuffer& input, const std::string& name,
                             const ReadOptions& options);

// The same, into a builder the caller builds (several files folded into one Trace). On error
// the builder holds part of the file and is to be dropped.
std::optional<Error> ParseChromeJson(const InputBuffer& input, const std::string& name,
                                     const ReadOptions& options, TraceBuilder& builder);

}  // namespace teye::import
