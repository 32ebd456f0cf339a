// Occupancy and SM efficiency (docs/metrics.md, "Occupancy"): how much of each SM a kernel's
// launch configuration can hold, and how many SMs its grid can keep busy.
//
// Theoretical occupancy follows the CUDA occupancy calculator: blocks per SM are limited by
// warps (max warps per SM / warps per block), by registers (allocated per warp in units of 256,
// each of the SM's 4 sub-partitions holding a quarter of the register file), by shared memory
// (per block, plus the 1 KiB the driver reserves from sm_80 on, in allocation units) and by the
// architecture's block limit; occupancy = blocks · warps per block / max warps per SM.
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/kernel_classes.h"
#include "teye/analyzers/steps.h"
#include "teye/model/trace.h"

namespace teye {

// An SM's limits: what deviceProperties records, the rest from the architecture.
struct SmLimits {
  bool known = false;  // an NVIDIA architecture teye knows (sm_70 … sm_120)
  int warp_size = 32;
  int max_warps_per_sm = 0;
  int max_blocks_per_sm = 0;
  int regs_per_sm = 65536;
  int regs_per_block = 65536;
  int max_regs_per_thread = 255;
  int reg_alloc_unit = 256;   // registers are allocated per warp in these units
  int sub_partitions = 4;     // register file quarters (warp schedulers)
  int smem_per_sm = 0;        // bytes
  int smem_per_block = 0;     // bytes, the opt-in maximum
  int smem_alloc_unit = 128;  // bytes
  int smem_reserved_per_block = 0;
};
SmLimits SmLimitsOf(const DeviceInfo& device);

enum class OccupancyLimiter : uint8_t { kWarps, kRegisters, kSharedMemory, kBlocks, kLaunch };
std::string_view ToString(OccupancyLimiter l);  // "warps", "registers", ...

struct Occupancy {
  int blocks_per_sm = 0;
  int warps_per_block = 0;
  double theoretical = 0;  // active warps / max warps per SM, 0..1
  OccupancyLimiter limiter = OccupancyLimiter::kWarps;
};
// kLaunch with 0 blocks: the block cannot run at all (too many registers or shared memory).
Occupancy TheoreticalOccupancy(const SmLimits& sm, int block_threads, int registers_per_thread,
                               int shared_memory_per_block);

struct KernelOccupancy {
  std::string name;
  KernelClass cls = KernelClass::kOther;
  int64_t calls = 0;
  TimeNs gpu_ns = 0;
  int64_t grid_blocks = 0;  // of the longest call
  int block_threads = 0;
  int registers = 0;
  int shared_memory = 0;
  Occupancy occupancy;
  double sm_efficiency = 0;  // duration-weighted min(1, blocks / SMs)
  double achieved = -1;      // duration-weighted "est. achieved occupancy %" / 100, -1 absent
};

struct OccupancyResult {
  bool valid = false;  // kernels with launch configurations on a device with known limits
  int device = -1;
  int num_sms = 0;
  SmLimits limits;
  // Over the kernels of the complete steps (not communication kernels), weighted by duration.
  double sm_efficiency = 0;
  double theoretical = 0;
  double achieved = -1;                    // -1 when the trace has no estimate
  std::vector<double> step_sm_efficiency;  // per complete step, in step order
  TimeNs kernel_ns = 0;
  TimeNs small_grid_ns = 0;              // kernels whose grid fills at most half the SMs
  std::vector<KernelOccupancy> kernels;  // by GPU time; one per name and launch shape
  std::vector<std::string> notes;
};

OccupancyResult AnalyzeOccupancy(const Trace& trace, const StepsResult& steps,
                                 const std::vector<KernelClass>& classes, int device);

}  // namespace teye
