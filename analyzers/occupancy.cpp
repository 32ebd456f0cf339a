#include "teye/analyzers/occupancy.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

namespace teye {
namespace {

// Per compute capability, from the CUDA C++ Programming Guide's table of technical
// specifications: resident warps and blocks per SM, shared memory per SM (bytes).
struct ArchRow {
  int major, minor;
  int max_warps, max_blocks, smem_per_sm, smem_per_block;
};
constexpr ArchRow kArch[] = {
    {7, 0, 64, 32, 96 * 1024, 96 * 1024},    {7, 2, 64, 32, 96 * 1024, 96 * 1024},
    {7, 5, 32, 16, 64 * 1024, 64 * 1024},    {8, 0, 64, 32, 164 * 1024, 163 * 1024},
    {8, 6, 48, 16, 100 * 1024, 99 * 1024},   {8, 7, 48, 16, 164 * 1024, 163 * 1024},
    {8, 9, 48, 24, 100 * 1024, 99 * 1024},   {9, 0, 64, 32, 228 * 1024, 227 * 1024},
    {10, 0, 64, 32, 228 * 1024, 227 * 1024}, {12, 0, 48, 32, 100 * 1024, 99 * 1024},
};

int RoundUp(int64_t v, int unit) {
  return static_cast<int>((v + unit - 1) / unit * unit);
}

}  // namespace

std::string_view ToString(OccupancyLimiter l) {
  switch (l) {
    case OccupancyLimiter::kWarps:
      return "warps";
    case OccupancyLimiter::kRegisters:
      return "registers";
    case OccupancyLimiter::kSharedMemory:
      return "shared memory";
    case OccupancyLimiter::kBlocks:
      return "blocks";
    case OccupancyLimiter::kLaunch:
      return "does not fit";
  }
  return "?";
}

SmLimits SmLimitsOf(const DeviceInfo& d) {
  SmLimits s;
  if (d.vendor == GpuVendor::kAmd) return s;  // wavefronts of 64 and CUs: another model
  const ArchRow* arch = nullptr;
  for (const ArchRow& a : kArch)
    if (a.major == d.compute_major && a.minor == d.compute_minor) arch = &a;
  if (!arch) return s;
  s.known = true;
  if (d.warp_size > 0) s.warp_size = d.warp_size;
  s.max_warps_per_sm =
      d.max_threads_per_sm > 0 ? d.max_threads_per_sm / s.warp_size : arch->max_warps;
  s.max_blocks_per_sm = d.max_blocks_per_sm > 0 ? d.max_blocks_per_sm : arch->max_blocks;
  if (d.regs_per_sm > 0) s.regs_per_sm = d.regs_per_sm;
  if (d.regs_per_block > 0) s.regs_per_block = d.regs_per_block;
  s.smem_per_sm = d.shared_mem_per_sm > 0 ? d.shared_mem_per_sm : arch->smem_per_sm;
  s.smem_per_block =
      d.shared_mem_per_block_optin > 0 ? d.shared_mem_per_block_optin : arch->smem_per_block;
  s.smem_alloc_unit = d.compute_major >= 8 ? 128 : 256;
  s.smem_reserved_per_block = d.compute_major >= 8 ? 1024 : 0;
  return s;
}

Occupancy TheoreticalOccupancy(const SmLimits& sm, int block_threads, int registers,
                               int shared_memory) {
  Occupancy o;
  if (!sm.known || block_threads <= 0 || sm.max_warps_per_sm <= 0) {
    o.limiter = OccupancyLimiter::kLaunch;
    return o;
  }
  const int warps = (block_threads + sm.warp_size - 1) / sm.warp_size;
  o.warps_per_block = warps;
  const int by_warps = sm.max_warps_per_sm / warps;
  const int by_blocks = sm.max_blocks_per_sm;

  int by_regs = by_blocks;
  if (registers > 0) {
    const int per_warp = RoundUp(static_cast<int64_t>(registers) * sm.warp_size, sm.reg_alloc_unit);
    // The launch check assumes the block's warps spread over every sub-partition.
    const int per_block = per_warp * RoundUp(warps, sm.sub_partitions);
    if (registers > sm.max_regs_per_thread || per_block > sm.regs_per_block) {
      by_regs = 0;
    } else {
      const int warps_per_partition = (sm.regs_per_sm / sm.sub_partitions) / per_warp;
      by_regs = warps_per_partition * sm.sub_partitions / warps;
    }
  }

  int by_smem = by_blocks;
  const int64_t smem = static_cast<int64_t>(shared_memory) + sm.smem_reserved_per_block;
  if (shared_memory > sm.smem_per_block) {
    by_smem = 0;
  } else if (smem > 0) {
    by_smem = sm.smem_per_sm / RoundUp(smem, sm.smem_alloc_unit);
  }

  o.blocks_per_sm = std::min({by_warps, by_regs, by_smem, by_blocks});
  if (o.blocks_per_sm <= 0) {
    o.blocks_per_sm = 0;
    o.limiter = OccupancyLimiter::kLaunch;
    return o;
  }
  o.limiter = o.blocks_per_sm == by_warps  ? OccupancyLimiter::kWarps
              : o.blocks_per_sm == by_regs ? OccupancyLimiter::kRegisters
              : o.blocks_per_sm == by_smem ? OccupancyLimiter::kSharedMemory
                                           : OccupancyLimiter::kBlocks;
  o.theoretical = static_cast<double>(o.blocks_per_sm * warps) / sm.max_warps_per_sm;
  return o;
}

OccupancyResult AnalyzeOccupancy(const Trace& trace, const StepsResult& steps,
                                 const std::vector<KernelClass>& classes, int device) {
  OccupancyResult r;
  r.device = device;
  const DeviceInfo* info = trace.FindDevice(device);
  if (!info) return r;
  r.limits = SmLimitsOf(*info);
  r.num_sms = info->num_sms;
  const GpuOpTable& g = trace.gpu_ops();

  using Key = std::tuple<StringId, int, int, int>;
  struct Acc {
    KernelOccupancy k;
    TimeNs longest = -1;
    double sm_weighted = 0, achieved_weighted = 0;
    TimeNs achieved_ns = 0;
  };
  std::map<Key, Acc> by_shape;
  double sm_weighted = 0, theoretical_weighted = 0, achieved_weighted = 0;
  TimeNs achieved_ns = 0, config_ns = 0;

  for (const Step& step : steps.steps) {
    if (!step.complete) continue;
    // GPU ops are sorted by start: the step's kernels are one contiguous run.
    const auto first = std::lower_bound(g.start_ns.begin(), g.start_ns.end(), step.start());
    double step_weighted = 0;
    TimeNs step_ns = 0;
    for (size_t i = static_cast<size_t>(first - g.start_ns.begin());
         i < g.size() && g.start_ns[i] < step.end(); ++i) {
      // Collectives use few blocks by design and wait on the network: not SM work to fill.
      if (g.kind[i] != GpuOpKind::kKernel || g.device[i] != device || g.grid_blocks[i] <= 0 ||
          classes[i] == KernelClass::kCommunication)
        continue;
      const TimeNs d = g.duration(i);
      const double sm_eff =
          r.num_sms > 0 ? std::min(1.0, static_cast<double>(g.grid_blocks[i]) / r.num_sms) : 0;
      step_weighted += sm_eff * d;
      step_ns += d;
      if (sm_eff <= 0.5) r.small_grid_ns += d;
      Acc& a = by_shape[{g.name[i], g.block_threads[i], g.registers[i], g.shared_memory[i]}];
      if (a.k.calls == 0) {
        a.k.name = std::string(trace.str(g.name[i]));
        a.k.cls = classes[i];
        a.k.block_threads = g.block_threads[i];
        a.k.registers = g.registers[i];
        a.k.shared_memory = g.shared_memory[i];
        a.k.occupancy =
            TheoreticalOccupancy(r.limits, a.k.block_threads, a.k.registers, a.k.shared_memory);
      }
      ++a.k.calls;
      a.k.gpu_ns += d;
      if (d > a.longest) {
        a.longest = d;
        a.k.grid_blocks = g.grid_blocks[i];
      }
      a.sm_weighted += sm_eff * d;
      // Kineto writes 0 where its occupancy calculator call failed (kernels with more than
      // 48 KiB of dynamic shared memory): a 0 the launch shape contradicts is not a measurement.
      bool recorded = g.est_occupancy_pct[i] >= 0;
      if (recorded && g.est_occupancy_pct[i] == 0 && r.limits.known &&
          a.k.occupancy.blocks_per_sm > 0) {
        const double blocks = std::min(static_cast<double>(g.grid_blocks[i]) / r.num_sms,
                                       static_cast<double>(a.k.occupancy.blocks_per_sm));
        recorded = blocks * a.k.occupancy.warps_per_block / r.limits.max_warps_per_sm < 0.005;
      }
      if (recorded) {
        a.achieved_weighted += g.est_occupancy_pct[i] / 100.0 * d;
        a.achieved_ns += d;
        achieved_weighted += g.est_occupancy_pct[i] / 100.0 * d;
        achieved_ns += d;
      }
      if (g.block_threads[i] > 0) {
        theoretical_weighted += a.k.occupancy.theoretical * d;
        config_ns += d;
      }
    }
    r.step_sm_efficiency.push_back(step_ns > 0 ? step_weighted / step_ns : 0.0);
    sm_weighted += step_weighted;
    r.kernel_ns += step_ns;
  }
  if (r.kernel_ns <= 0 || r.num_sms <= 0) {
    r.step_sm_efficiency.clear();
    return r;
  }
  r.valid = true;
  r.sm_efficiency = sm_weighted / r.kernel_ns;
  r.theoretical = config_ns > 0 ? theoretical_weighted / config_ns : 0;
  if (achieved_ns > 0) r.achieved = achieved_weighted / achieved_ns;
  for (auto& [key, a] : by_shape) {
    a.k.sm_efficiency = a.k.gpu_ns > 0 ? a.sm_weighted / a.k.gpu_ns : 0;
    if (a.achieved_ns > 0) a.k.achieved = a.achieved_weighted / a.achieved_ns;
    r.kernels.push_back(std::move(a.k));
  }
  std::sort(r.kernels.begin(), r.kernels.end(),
            [](const KernelOccupancy& a, const KernelOccupancy& b) {
              return a.gpu_ns > b.gpu_ns || (a.gpu_ns == b.gpu_ns && a.name < b.name);
            });
  if (!r.limits.known)
    r.notes.push_back(fmt::format(
        "theoretical occupancy needs the SM limits of {} (compute capability {}.{}): not shown",
        info->name.empty() ? std::string("this device") : info->name, info->compute_major,
        info->compute_minor));
  return r;
}

}  // namespace teye
