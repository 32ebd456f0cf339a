// Peak rates of the GPUs the simulator models (public spec-sheet figures, dense math).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace teye::synth {

struct GpuSpec {
  std::string_view key;
  std::string_view name;
  double fp32_tflops;  // SIMT FP32
  double tf32_tflops;  // Tensor Core TF32 (0: not supported, falls back to FP32)
  double bf16_tflops;  // Tensor Core BF16/FP16
  double mem_gbps;     // HBM bandwidth
  double h2d_pinned_gbps;
  double h2d_pageable_gbps;
  int64_t total_mem;
  int compute_major, compute_minor, num_sms;
  std::string_view sgemm, tf32_gemm, bf16_gemm;  // cuBLAS kernel names this GPU runs
};

const GpuSpec& FindGpu(std::string_view key);  // unknown keys give the A100

}  // namespace teye::synth
