#include "gpu_specs.h"

namespace teye::synth {
namespace {

constexpr GpuSpec kGpus[] = {
    {"A100", "NVIDIA A100-SXM4-80GB", 19.5, 156, 312, 2039, 22, 9, 85899345920, 8, 0, 108,
     "ampere_sgemm_128x64_tn",
     "sm80_xmma_gemm_tf32f32_tf32f32_f32_tn_n_tilesize128x128x16_stage4_warpsize2x2x1_tensor16x8x8_"
     "kernel",
     "ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_stages_64x3_tn"},
    {"H100", "NVIDIA H100 80GB HBM3", 67, 495, 989, 3350, 50, 12, 85520809984, 9, 0, 132,
     "sm90_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_ffma_execute_"
     "kernel__5x_cublas",
     "sm90_xmma_gemm_tf32f32_tf32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_execute_"
     "segment_k_off_kernel__5x_cublas",
     "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_"
     "segment_k_off_kernel__5x_cublas"},
    {"V100", "Tesla V100-SXM2-32GB", 15.7, 0, 125, 900, 11, 6, 34089730048, 7, 0, 80,
     "volta_sgemm_128x64_tn", "volta_sgemm_128x64_tn", "volta_h884gemm_128x128_ldg8_tn"},
};

}  // namespace

const GpuSpec& FindGpu(std::string_view key) {
  for (const auto& g : kGpus)
    if (g.key == key) return g;
  return kGpus[0];
}

}  // namespace teye::synth
