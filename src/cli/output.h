// Where a verb's document goes: stdout, or a file.
#pragma once

#include <string>

namespace teye::cli {

// Writes `text` to `path`, or to stdout when `path` is empty. Returns the exit code: kExitOk,
// or kExitBadInput (with one line on stderr) when the file cannot be written.
int WriteOutput(const std::string& path, const std::string& text);

}  // namespace teye::cli
