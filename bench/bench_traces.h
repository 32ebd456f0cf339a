// Large, realistic Kineto traces for the reader and analyze benchmarks, written by teye's own
// training simulator (src/synth): a data-parallel job with NCCL all-reduces and their args,
// launch → kernel flows, three GPU streams, the main and autograd host threads, memcpy with
// bandwidth args, ~220 bytes per event like PyTorch's profiler writes.
#pragma once

#include <cstdint>
#include <string>

namespace teye::bench {

struct BenchTrace {
  std::string path;
  int64_t bytes = 0;   // on disk
  int64_t events = 0;  // trace events written
};

// The trace of about `target_mb` MB (plain JSON, or gzip-compressed when `gzip`) in `dir`,
// written once and reused while its name matches.
BenchTrace EnsureBenchTrace(const std::string& dir, int target_mb, bool gzip);

}  // namespace teye::bench
