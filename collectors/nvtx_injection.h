// NVTX injection: the collector is the NVTX tool of the process (NVTX_INJECTION64_PATH, set by
// `teye record` and by the preloaded library itself). Every NVTX instance in the process (the
// job's, libtorch's, NCCL's — NVTX 3 is header-only, so each library has its own) calls
// InitializeInjectionNvtx2 once with its own slot tables; each gets the same callbacks.
//
// Ranges: push/pop (per thread, per domain) and start/end (may cross threads; written on
// "NVTX start/end" tracks), marks, domains, registered strings, thread names. NCCL's ranges carry
// extended payloads (communicator, bytes, op, rank) which are decoded. Another NVTX tool named by
// TEYE_NVTX_CHAIN still receives every call.
#pragma once

#include "nvtx_abi.h"

namespace teye::collector {

class Collector;
struct ThreadState;

// InitializeInjectionNvtx2's body: installs the callbacks in one NVTX instance. Returns 1.
int NvtxInitialize(nvtx::GetExportTableFn get_export_table);

// Registers the NVTX source with a collector, once (closing ranges at the end, fork handling).
void NvtxAttach(Collector& c);

// Writes the thread's open push/pop ranges as unclosed and forgets them.
void NvtxCloseThread(Collector& c, ThreadState* ts, bool at_exit);

// fork(): the start/end table's lock.
void NvtxLockForFork(bool lock);

}  // namespace teye::collector
