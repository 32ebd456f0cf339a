#include "nvtx_nccl_payload.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "collector.h"

namespace teye::collector::nvtx_impl {

using namespace nvtx;

namespace {

struct CommRank {
  uint64_t comm = 0;
  int32_t rank = -1;
  int32_t nranks = 0;
};
constexpr int kMaxComms = 64;
CommRank g_comms[kMaxComms];
std::atomic<int> g_comm_count{0};
std::mutex g_comm_mutex;

void RememberComm(uint64_t comm, int rank, int nranks) {
  std::lock_guard<std::mutex> lock(g_comm_mutex);
  const int n = g_comm_count.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i)
    if (g_comms[i].comm == comm) {
      g_comms[i].rank = rank;
      g_comms[i].nranks = nranks;
      return;
    }
  if (n < kMaxComms) {
    g_comms[n] = CommRank{comm, rank, nranks};
    g_comm_count.store(n + 1, std::memory_order_release);
  }
}

const CommRank* FindComm(uint64_t comm) {
  const int n = g_comm_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    if (g_comms[i].comm == comm) return &g_comms[i];
  return nullptr;
}

template <typename T>
T Field(const uint8_t* p, size_t offset) {
  T v;
  std::memcpy(&v, p + offset, sizeof v);
  return v;
}

}  // namespace

void DecodeNcclPayload(Collector& c, const EventAttributes* a, std::string_view name,
                       NcclRangeInfo& r) {
  if (a->payload_type != kPayloadTypeExt || a->reserved0 < 1 || !a->payload.ull_value) return;
  const auto* data = reinterpret_cast<const PayloadData*>(a->payload.ull_value);
  if (!data->payload || data->size < 8) return;
  const auto* p = static_cast<const uint8_t*>(data->payload);
  const size_t size = data->size;
  if (name.rfind("nccl", 0) == 0) name.remove_prefix(4);
  r.comm = Field<uint64_t>(p, 0);
  r.aux = -1;
  if (name.rfind("CommInitRank", 0) == 0 || name == "CommDestroy" || name == "CommAbort") {
    if (size < 20) return;
    r.kind = NcclPayloadKind::kCommInit;
    r.nranks = Field<int32_t>(p, 8);
    r.rank = Field<int32_t>(p, 12);
    r.aux = Field<int32_t>(p, 16);  // CUDA device
    if (name.rfind("CommInitRank", 0) == 0) {
      RememberComm(r.comm, r.rank, r.nranks);
      c.NoteRank(r.rank, r.nranks, "nccl");
    }
    return;
  }
  if (name == "CommSplit") {
    if (size < 28) return;
    r.kind = NcclPayloadKind::kCommInit;
    r.nranks = Field<int32_t>(p, 16);
    r.rank = Field<int32_t>(p, 20);
    r.aux = Field<int32_t>(p, 24);
    RememberComm(r.comm, r.rank, r.nranks);
    return;
  }
  const bool p2p = name == "Send" || name == "Recv";
  const bool coll = name == "AllReduce" || name == "AllGather" || name == "ReduceScatter" ||
                    name == "Broadcast" || name == "Reduce" || name == "AllToAll" ||
                    name == "AlltoAll" || name == "Gather" || name == "Scatter";
  if ((!p2p && !coll) || size < 16) return;
  r.kind = p2p ? NcclPayloadKind::kP2p : NcclPayloadKind::kCollective;
  r.bytes = static_cast<int64_t>(Field<uint64_t>(p, 8));
  if (size >= 20) {
    if (name == "Reduce")
      r.aux = size >= 24 ? Field<int32_t>(p, 20) : -1;  // op (root is at 16)
    else
      r.aux = Field<int32_t>(p, 16);  // op, root (Broadcast) or peer (Send/Recv)
  }
  if (const CommRank* cr = FindComm(r.comm)) {
    r.rank = cr->rank;
    r.nranks = cr->nranks;
  }
}

void LockNcclCommsForFork(bool lock) {
  if (lock)
    g_comm_mutex.lock();
  else
    g_comm_mutex.unlock();
}

}  // namespace teye::collector::nvtx_impl
