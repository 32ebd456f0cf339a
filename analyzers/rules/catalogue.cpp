// The catalogue of recommendation rules (docs/metrics.md, "Recommendations", describes each).
#include "rule_functions.h"

namespace teye {

const std::vector<RuleInfo>& Rules() {
  static const std::vector<RuleInfo> kRules = {
      {"dataloader_workers", "more DataLoader workers, prefetch, persistent workers",
       rules::DataLoaderWorkers, /*needs_gpu=*/false},
      {"pin_memory", "pinned memory for pageable host-to-device copies", rules::PinMemory},
      {"overlap_input_copies", "input copies on a side stream with non_blocking=True",
       rules::OverlapInputCopies},
      {"remove_syncs", "synchronization points inside the step", rules::RemoveSyncs},
      {"amp", "AMP (bf16/fp16) or TF32 for FP32 GEMM and convolution time", rules::MixedPrecision},
      {"fuse_elementwise", "fuse elementwise chains (torch.compile, fused optimizers)",
       rules::FuseElementwise},
      {"channels_last", "channels_last when layout transposes are a visible share",
       rules::ChannelsLast},
      {"gradient_bucketing", "bucket many small all-reduces", rules::GradientBucketing},
      {"overlap_comm", "overlap communication with backward", rules::OverlapCommunication},
      {"balance_ranks", "exposed communication that may be waiting for slower ranks",
       rules::BalanceRanks},
      {"cuda_graphs", "CUDA graphs when launch-bound", rules::CudaGraphs},
      {"larger_batch", "a larger batch when the GPU is mostly idle with small kernels",
       rules::LargerBatch},
      {"move_cpu_work", "CPU work on the launching thread between GPU work", rules::MoveCpuWork,
       /*needs_gpu=*/false},
      {"memory_pressure", "activation checkpointing, AMP or a smaller micro-batch near OOM",
       rules::MemoryPressure},
      {"below_roofline", "ops far below their roofline: padding, batching, fusion",
       rules::BelowRoofline},
      {"small_grid", "kernels whose grids leave SMs idle on a busy GPU", rules::SmallGrid},
  };
  return kRules;
}

}  // namespace teye
