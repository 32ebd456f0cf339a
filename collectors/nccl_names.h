// NCCL vocabulary in the spellings the PyTorch profiler writes, so teye, HTA and Perfetto read the
// collector's NCCL events like Kineto's: collective names ("allreduce"), dtypes ("Float",
// "BFloat16"), annotation names ("nccl:all_reduce"), and what an NCCL kernel name tells.
#pragma once

#include <cstdint>
#include <string_view>

namespace teye::collector {

// "AllReduce", "ncclAllReduce", "allreduce" → "allreduce"; "AllGather" → "allgather";
// "ReduceScatter" → "reduce_scatter"; "AllToAll" → "all_to_all"; "Broadcast", "Reduce",
// "Send", "Recv", "SendRecv" likewise. Empty when unknown.
std::string_view TorchCollectiveName(std::string_view nccl_func);
// "AllReduce" → "nccl:all_reduce" (PyTorch's record_function names). Empty when unknown.
std::string_view NcclAnnotationName(std::string_view nccl_func);
// "ncclFloat32"/"f32"/"float" → "Float"; "ncclBfloat16"/"bf16" → "BFloat16"; empty when unknown.
std::string_view TorchDtypeName(std::string_view nccl_or_kernel_dtype);
// ncclRedOp_t → "Sum", "Prod", "Max", "Min", "Avg"; "PreMulSum" for user-defined ops.
std::string_view NcclRedOpName(int op);

// Whether a collective's `count` is per rank on the input side (AllGather) or output side
// (ReduceScatter): In/Out msg nelems as PyTorch reports them.
void NcclMessageElements(std::string_view nccl_func, uint64_t count, int nranks, int64_t& in_elems,
                         int64_t& out_elems);

// What an NCCL kernel's name says: ncclDevKernel_AllReduce_Sum_f32_RING_LL (NCCL >= 2.19),
// ncclKernel_AllReduce_RING_LL_Sum_float (older). Fields not in the name stay empty.
struct NcclKernelInfo {
  std::string_view collective;  // Torch spelling
  std::string_view dtype;       // Torch spelling
  std::string_view algorithm;   // "RING", "TREE", ...
  std::string_view protocol;    // "LL", "LL128", "SIMPLE"
};
bool ParseNcclKernelName(std::string_view name, NcclKernelInfo& info);

}  // namespace teye::collector
