// The trace file's last top-level keys: deviceProperties, distributedInfo and teye's own footer
// (process, end reason, counts, drops). Field by field: docs/trace-format.md.
#pragma once

#include <cstdint>

#include "json_out.h"
#include "trace_writer.h"

namespace teye::collector {

// Appends the keys that follow the event array (",\"deviceProperties\":..." up to the closing
// brace of the top-level object).
void AppendFooter(JsonOut& tail, const Footer& f, const ProcessIdentity& id,
                  const WrittenCounts& counts);

}  // namespace teye::collector
