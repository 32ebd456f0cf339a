// NCCL's extended NVTX payloads. NCCL (>= 2.24) attaches one nvtxPayloadData_t to each API
// range: a struct whose first field is the communicator hash; collectives continue with the
// message size in bytes, then the reduction op or root; p2p with bytes and peer;
// ncclCommInitRank* with nranks, myrank, cudaDev. The layouts are read by the range's name,
// which is stable across NCCL versions, rather than by schema id, which is not.
#pragma once

#include <cstdint>
#include <string_view>

#include "nvtx_abi.h"
#include "records.h"

namespace teye::collector {

class Collector;

namespace nvtx_impl {

// What one NCCL range says about its communicator and message.
struct NcclRangeInfo {
  NcclPayloadKind kind = NcclPayloadKind::kNone;
  uint64_t comm = 0;
  int64_t bytes = 0;
  int32_t aux = -1;  // reduction op, root, peer or CUDA device (see nccl_names.h)
  int32_t rank = -1;
  int32_t nranks = 0;
};

// Decodes the payload of an NCCL-domain range named `name` into `info` (unchanged when the
// range carries none). Communicator initialisation also tells `c` the process's rank.
void DecodeNcclPayload(Collector& c, const nvtx::EventAttributes* a, std::string_view name,
                       NcclRangeInfo& info);

// fork(): holds the communicator table's lock across fork.
void LockNcclCommsForFork(bool lock);

}  // namespace nvtx_impl
}  // namespace teye::collector
