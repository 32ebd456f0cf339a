#include "teye/analyzers/gpu_timeline.h"

#include <map>
#include <unordered_map>

namespace teye {

std::vector<DeviceTimeline> BuildDeviceTimelines(const Trace& trace,
                                                 const std::vector<KernelClass>& classes,
                                                 const std::vector<int8_t>* memory_bound) {
  struct Raw {
    std::vector<Interval> compute, memory, comm, memcpy, memcpy_h2d, memset;
    std::vector<RowIndex> ops;
    std::unordered_map<ThreadIndex, int64_t> launches;
    int64_t kernels = 0;
  };
  std::map<int, Raw> raw;
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] == GpuOpKind::kSync) continue;
    Raw& r = raw[g.device[i]];
    Interval iv{g.start_ns[i], g.end_ns[i]};
    switch (g.kind[i]) {
      case GpuOpKind::kKernel: {
        ++r.kernels;
        KernelRole role = RoleOf(classes[i]);
        if (memory_bound && role != KernelRole::kCommunication && (*memory_bound)[i] >= 0)
          role = (*memory_bound)[i] ? KernelRole::kMemory : KernelRole::kCompute;
        switch (role) {
          case KernelRole::kCompute:
            r.compute.push_back(iv);
            break;
          case KernelRole::kMemory:
            r.memory.push_back(iv);
            break;
          case KernelRole::kCommunication:
            r.comm.push_back(iv);
            break;
        }
        break;
      }
      case GpuOpKind::kMemcpy:
        r.memcpy.push_back(iv);
        if (g.copy_kind[i] == CopyKind::kHtoD) r.memcpy_h2d.push_back(iv);
        break;
      case GpuOpKind::kMemset:
        r.memset.push_back(iv);
        break;
      case GpuOpKind::kSync:
        break;
    }
    r.ops.push_back(static_cast<RowIndex>(i));
    if (g.launch[i] != kNoRow) ++r.launches[h.thread[g.launch[i]]];
  }
  std::vector<DeviceTimeline> out;
  for (auto& [device, r] : raw) {
    DeviceTimeline t;
    t.device = device;
    t.compute = IntervalSet::Union(std::move(r.compute));
    t.memory_bound = IntervalSet::Union(std::move(r.memory));
    t.communication = IntervalSet::Union(std::move(r.comm));
    t.memcpy = IntervalSet::Union(std::move(r.memcpy));
    t.memcpy_h2d = IntervalSet::Union(std::move(r.memcpy_h2d));
    t.memset = IntervalSet::Union(std::move(r.memset));
    t.kernels = t.compute.Unite(t.memory_bound).Unite(t.communication);
    t.busy = t.kernels.Unite(t.memcpy).Unite(t.memset);
    t.ops = std::move(r.ops);
    t.kernel_count = r.kernels;
    int64_t best = 0;
    for (auto [thread, n] : r.launches) {
      if (n > best || (n == best && thread < t.main_launch_thread)) {
        best = n;
        t.main_launch_thread = thread;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace teye
