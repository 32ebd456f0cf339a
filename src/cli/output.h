// Where a verb's document goes: stdout, or a file.
#pragma once

#include <string>

namespace teye::cli {

// Writes `text` to `path`, or to stdout when `path` is empty. Returns the exit code: kExitOk,
// or kExitBadInput (with one line on stderr) when the file cannot be written.
int WriteOutput(const std::string& path, const std::string& text);

// Columns the text report may use: the terminal's width when stdout is one, else $COLUMNS when
// set, else 100 (DESIGN.md §6); never below 60.
int TextColumns(bool to_tty);

}  // namespace teye::cli
