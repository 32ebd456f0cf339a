// Reader for Chrome Trace Event JSON (object and array forms), the format PyTorch's profiler,
// Kineto and teye's collector write.
#pragma once

#include <string>

#include "teye/import/read_trace.h"

#include "input_buffer.h"

namespace teye::import {

// `input` must start (after whitespace) with '{' or '['.
Result<Trace> ReadChromeJson(const InputBuffer& input, const std::string& name,
                             const ReadOptions& options);

}  // namespace teye::import
