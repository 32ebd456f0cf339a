// Real-content benchmarks for teye_bench (see real_content_bench.cpp).
#pragma once

#include <string>

namespace teye::bench {

// Registers the benchmarks on tiles of the real trace `default_source` (TEYE_BENCH_REAL_SOURCE
// overrides it). When the trace cannot be read (../shared/traces absent) it says so on stderr and
// registers none: the synthetic benchmarks still run.
void RegisterRealContentBenchmarks(const std::string& default_source);

// After the benchmarks ran: the four targets with their figures, the --timings split of the
// largest tile, the machine's load; then the tiles are deleted.
void FinishRealContentBenchmarks();

}  // namespace teye::bench
