// Large traces of real content for the reader and analyze benchmarks: a real PyTorch profiler
// trace (by default the A100 DDP rank in ../shared/traces/hta/tests/data/trace_diff/control)
// repeated in time until it reaches the size asked for. Copy k of the events has its timestamps
// shifted by k × (the trace's span + 1 ms), its correlation, External id and flow ids by k ×
// (largest id + 1) and its ProfilerStep#N numbers by k × (steps in the trace), so every copy's
// launches, flows and steps stay distinct. Each event keeps its text as the profiler wrote it
// (its args, its whitespace); metadata events (`ph: M`) and the header appear once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace teye::bench {

struct RealTile {
  std::string path;
  int64_t bytes = 0;       // on disk
  int64_t json_bytes = 0;  // the JSON (inflated) size
  int64_t events = 0;
};

// The JSON of the trace at `path` (plain or gzip); empty when it cannot be read.
std::string ReadSourceTrace(const std::string& path);

// Writes `<dir>/<name>` (plain JSON): as many copies of the events of `source_json` as come
// closest to `target_mb` MB, at least one. An empty path when the file cannot be written.
RealTile WriteRealTile(const std::string& dir, const std::string& name,
                       std::string_view source_json, int target_mb);

// `plain` compressed into `<plain.path>.gz`, one gzip member as Kineto writes; an empty path when
// it cannot be written.
RealTile GzipRealTile(const RealTile& plain);

}  // namespace teye::bench
