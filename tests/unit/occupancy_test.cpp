// Theoretical occupancy against worked examples of the CUDA occupancy calculator, done by hand
// from the limits in the CUDA C++ Programming Guide (registers allocated per warp in units of
// 256 from four quarters of the 64 K register file; shared memory per block plus the 1 KiB the
// driver reserves from sm_80 on, in 128-byte units; 256-byte units and no reserve on sm_7x).
// Where the CUDA toolkit is installed, the same configurations are also checked against NVIDIA's
// own calculator, cuda_occupancy.h, over a sweep.
#include "teye/analyzers/occupancy.h"

#include <gtest/gtest.h>

#ifdef TEYE_HAVE_CUDA_OCCUPANCY_H
#include <cuda_occupancy.h>
#endif

namespace teye {
namespace {

DeviceInfo A100() {
  DeviceInfo d;  // as Kineto writes deviceProperties for an A100
  d.name = "NVIDIA A100-SXM4-40GB";
  d.compute_major = 8;
  d.compute_minor = 0;
  d.num_sms = 108;
  d.max_threads_per_sm = 2048;
  d.warp_size = 32;
  d.regs_per_block = 65536;
  d.regs_per_sm = 65536;
  d.shared_mem_per_sm = 167936;
  d.shared_mem_per_block_optin = 166912;
  d.vendor = GpuVendor::kNvidia;
  return d;
}

DeviceInfo V100() {
  DeviceInfo d;  // no register or shared-memory fields: the architecture's limits apply
  d.name = "Tesla V100-SXM2-16GB";
  d.compute_major = 7;
  d.compute_minor = 0;
  d.num_sms = 80;
  d.max_threads_per_sm = 2048;
  d.warp_size = 32;
  d.vendor = GpuVendor::kNvidia;
  return d;
}

DeviceInfo H100() {
  DeviceInfo d = A100();
  d.name = "NVIDIA H100 80GB HBM3";
  d.compute_major = 9;
  d.num_sms = 132;
  d.shared_mem_per_sm = 233472;
  d.shared_mem_per_block_optin = 232448;
  return d;
}

struct Case {
  const char* what;
  DeviceInfo device;
  int threads, registers, smem;
  int blocks;  // worked by hand
  double occupancy;
  OccupancyLimiter limiter;
};

TEST(OccupancyTest, WorkedExamples) {
  const Case cases[] = {
      // 8 warps per block; 64 warps per SM allow 8 blocks; 32 regs → 1,024 per warp, 16 warps
      // per quarter, 64 per SM, also 8 blocks; 1 KiB reserved smem allows 164: 8 blocks, 100%.
      {"256 threads, 32 regs", A100(), 256, 32, 0, 8, 1.0, OccupancyLimiter::kWarps},
      // 64 regs → 2,048 per warp: 16,384 / 2,048 = 8 warps per quarter, 32 per SM → 4 blocks.
      {"256 threads, 64 regs", A100(), 256, 64, 0, 4, 0.5, OccupancyLimiter::kRegisters},
      // 255 regs → 8,160 rounded to 8,192 per warp: 2 warps per quarter, 8 per SM → 2 blocks of
      // 4 warps: 8 / 64 = 12.5%.
      {"128 threads, 255 regs", A100(), 128, 255, 0, 2, 0.125, OccupancyLimiter::kRegisters},
      // 48 KiB + 1 KiB reserved = 50,176 B per block: 167,936 / 50,176 = 3 blocks of 4 warps.
      {"128 threads, 48 KiB smem", A100(), 128, 32, 49152, 3, 0.1875,
       OccupancyLimiter::kSharedMemory},
      // 32 warps per block, 64 regs: 2,048 · 32 = 65,536 fits the block limit; 32 warps per SM
      // → 1 block, 50%.
      {"1024 threads, 64 regs", A100(), 1024, 64, 0, 1, 0.5, OccupancyLimiter::kRegisters},
      // 65 regs → 2,080 rounded to 2,304 per warp · 32 warps = 73,728 > 65,536: cannot launch.
      {"1024 threads, 65 regs", A100(), 1024, 65, 0, 0, 0.0, OccupancyLimiter::kLaunch},
      // V100: 20,000 B rounded up to 256-byte units = 20,224 (no reserve): 98,304 / 20,224 = 4
      // blocks of 4 warps = 25%.
      {"V100 128 threads, 20000 B smem", V100(), 128, 32, 20000, 4, 0.25,
       OccupancyLimiter::kSharedMemory},
      // H100 cuBLAS sm90 kernel from a real trace: 384 threads (12 warps), 168 regs → 5,376 per
      // warp: 3 warps per quarter, 12 per SM → 1 block; 231,424 + 1,024 B smem also 1: 18.75%.
      {"H100 384 threads, 168 regs, 226 KiB", H100(), 384, 168, 231424, 1, 0.1875,
       OccupancyLimiter::kRegisters},
  };
  for (const Case& c : cases) {
    const Occupancy o = TheoreticalOccupancy(SmLimitsOf(c.device), c.threads, c.registers, c.smem);
    EXPECT_EQ(o.blocks_per_sm, c.blocks) << c.what;
    EXPECT_DOUBLE_EQ(o.theoretical, c.occupancy) << c.what;
    EXPECT_EQ(o.limiter, c.limiter) << c.what;
  }
}

TEST(OccupancyTest, UnknownArchitecturesAndAmdHaveNoTheoreticalOccupancy) {
  DeviceInfo d = A100();
  d.compute_major = 6;  // Pascal: not in teye's table
  EXPECT_FALSE(SmLimitsOf(d).known);
  EXPECT_EQ(TheoreticalOccupancy(SmLimitsOf(d), 256, 32, 0).blocks_per_sm, 0);
  d = A100();
  d.vendor = GpuVendor::kAmd;
  EXPECT_FALSE(SmLimitsOf(d).known);
}

#ifdef TEYE_HAVE_CUDA_OCCUPANCY_H
// NVIDIA's calculator over a sweep of launch shapes, on each architecture's limits.
TEST(OccupancyTest, AgreesWithCudaOccupancyCalculator) {
  for (const DeviceInfo& d : {A100(), H100(), V100()}) {
    const SmLimits sm = SmLimitsOf(d);
    cudaOccDeviceProp prop;
    prop.computeMajor = d.compute_major;
    prop.computeMinor = d.compute_minor;
    prop.maxThreadsPerBlock = 1024;
    prop.maxThreadsPerMultiprocessor = sm.max_warps_per_sm * sm.warp_size;
    prop.regsPerBlock = sm.regs_per_block;
    prop.regsPerMultiprocessor = sm.regs_per_sm;
    prop.warpSize = sm.warp_size;
    prop.sharedMemPerBlock = 48 * 1024;
    prop.sharedMemPerMultiprocessor = static_cast<size_t>(sm.smem_per_sm);
    prop.numSms = d.num_sms;
    prop.sharedMemPerBlockOptin = static_cast<size_t>(sm.smem_per_block);
    prop.reservedSharedMemPerBlock = static_cast<size_t>(sm.smem_reserved_per_block);
    int compared = 0;
    for (int threads : {32, 64, 96, 128, 192, 256, 384, 512, 640, 768, 1024})
      for (int regs : {0, 16, 24, 32, 40, 48, 56, 64, 72, 88, 96, 128, 168, 200, 255})
        for (int smem : {0, 24, 4096, 12000, 33792, 49152, 98304, 147456}) {
          if (smem > sm.smem_per_block) continue;
          cudaOccFuncAttributes attr;
          attr.maxThreadsPerBlock = 1024;
          attr.numRegs = regs;
          attr.sharedSizeBytes = 0;
          attr.partitionedGCConfig = PARTITIONED_GC_OFF;
          attr.shmemLimitConfig = FUNC_SHMEM_LIMIT_OPTIN;
          attr.maxDynamicSharedSizeBytes = static_cast<size_t>(sm.smem_per_block);
          cudaOccDeviceState state;
          cudaOccResult result;
          ASSERT_EQ(cudaOccMaxActiveBlocksPerMultiprocessor(&result, &prop, &attr, &state, threads,
                                                            static_cast<size_t>(smem)),
                    CUDA_OCC_SUCCESS);
          const Occupancy o = TheoreticalOccupancy(sm, threads, regs, smem);
          EXPECT_EQ(o.blocks_per_sm, result.activeBlocksPerMultiprocessor)
              << d.name << ": " << threads << " threads, " << regs << " regs, " << smem
              << " B shared";
          ++compared;
        }
    EXPECT_GT(compared, 1000);
  }
}
#endif

}  // namespace
}  // namespace teye
