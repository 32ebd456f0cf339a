// The NCCL profiler plugin (ncclProfiler_v5 / ncclProfiler_v4, see nccl_abi.h).
#pragma once

#include "nccl_abi.h"

namespace teye::collector {

// Makes this copy of the library forward every plugin call to another copy's plugin tables
// (the one that owns the process's collector).
void NcclForwardTo(const nccl::ProfilerV5* v5, const nccl::ProfilerV4* v4);

}  // namespace teye::collector
