#include "teye/analyzers/kernel_counters.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace teye {
namespace {

// smsp__sass_thread_inst_executed_op_<p><op>_pred_on.sum for p in f, h, d and op in add, mul,
// fma; an FMA is two FLOPs.
double FlopWeight(std::string_view metric) {
  constexpr std::string_view kPrefix = "smsp__sass_thread_inst_executed_op_";
  constexpr std::string_view kSuffix = "_pred_on.sum";
  if (!metric.starts_with(kPrefix) || !metric.ends_with(kSuffix)) return 0;
  const std::string_view op =
      metric.substr(kPrefix.size(), metric.size() - kPrefix.size() - kSuffix.size());
  if (op.size() != 4 || (op[0] != 'f' && op[0] != 'h' && op[0] != 'd')) return 0;
  const std::string_view kind = op.substr(1);
  if (kind == "fma") return 2;
  if (kind == "add" || kind == "mul") return 1;
  return 0;
}

}  // namespace

bool IsKernelLaunchCall(std::string_view name) {
  for (std::string_view prefix :
       {"cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchCooperativeKernel",
        "cuLaunchCooperativeKernel", "hipLaunchKernel", "hipExtLaunchKernel",
        "hipModuleLaunchKernel", "hipExtModuleLaunchKernel", "hipLaunchCooperativeKernel"})
    if (name.starts_with(prefix)) return true;
  return false;
}

CounterWork CounterWorkOf(const Trace& trace, size_t row) {
  const KernelCounterTable& t = trace.kernel_counters();
  const KernelCounterValueTable& v = trace.kernel_counter_values();
  CounterWork w;
  double read = 0, write = 0, total = 0;
  bool has_read = false, has_write = false, has_total = false;
  const size_t begin = static_cast<size_t>(t.value_begin[row]);
  for (size_t i = begin; i < begin + t.value_count[row] && i < v.size(); ++i) {
    const std::string_view metric = trace.str(v.metric[i]);
    if (const double weight = FlopWeight(metric); weight > 0) {
      w.flops += weight * v.value[i];
      w.has_flops = true;
    } else if (metric == "dram__bytes_read.sum") {
      read = v.value[i];
      has_read = true;
    } else if (metric == "dram__bytes_write.sum") {
      write = v.value[i];
      has_write = true;
    } else if (metric == "dram__bytes.sum") {
      total = v.value[i];
      has_total = true;
    }
  }
  if (has_read && has_write) {
    w.dram_bytes = read + write;
    w.has_dram = true;
  } else if (has_total) {
    w.dram_bytes = total;
    w.has_dram = true;
  }
  return w;
}

CounterMapping MapCounterRanges(const Trace& trace) {
  const KernelCounterTable& t = trace.kernel_counters();
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  CounterMapping m;
  m.kernel.assign(t.size(), kNoRow);
  m.launch.assign(t.size(), kNoRow);
  if (t.size() == 0) return m;

  std::vector<RowIndex> kernels;
  for (size_t i = 0; i < g.size(); ++i)
    if (g.kind[i] == GpuOpKind::kKernel) kernels.push_back(static_cast<RowIndex>(i));

  bool all_correlated = true;
  for (size_t i = 0; i < t.size(); ++i)
    all_correlated &= t.correlation[i] != 0;
  if (all_correlated && !kernels.empty()) {
    std::unordered_map<int64_t, RowIndex> by_correlation;
    for (RowIndex k : kernels)
      if (g.correlation[k] != 0) by_correlation.emplace(g.correlation[k], k);
    for (size_t i = 0; i < t.size(); ++i)
      if (auto it = by_correlation.find(t.correlation[i]); it != by_correlation.end()) {
        m.kernel[i] = it->second;
        ++m.matched;
      }
    m.how = "correlation";
    return m;
  }

  if (!kernels.empty()) {
    // Launch order: by the launch call's start when known, else by the kernel's own start.
    auto launched_at = [&](RowIndex k) {
      return g.launch[k] != kNoRow ? h.start_ns[g.launch[k]] : g.start_ns[k];
    };
    std::stable_sort(kernels.begin(), kernels.end(),
                     [&](RowIndex a, RowIndex b) { return launched_at(a) < launched_at(b); });
    if (kernels.size() != t.size()) {
      m.how =
          fmt::format("not matched: {} counter ranges for {} kernels", t.size(), kernels.size());
      return m;
    }
    for (size_t i = 0; i < t.size(); ++i) {
      m.kernel[i] = kernels[i];
      const std::string_view range_name = trace.str(t.name[i]);
      if (range_name != "__missing__" && !range_name.empty() && t.name[i] != g.name[kernels[i]])
        ++m.name_mismatches;
    }
    m.matched = static_cast<int64_t>(t.size());
    m.how = "launch order";
    return m;
  }

  // No kernel activity: the launch calls, in time order. A driver call made inside a runtime
  // call for the same launch shares its correlation id and is the same launch.
  std::vector<RowIndex> launches;
  std::unordered_map<int64_t, bool> runtime_launch;
  for (size_t i = 0; i < h.size(); ++i)
    if (h.kind[i] == HostSliceKind::kRuntime && h.correlation[i] != 0 &&
        IsKernelLaunchCall(trace.str(h.name[i])))
      runtime_launch.emplace(h.correlation[i], true);
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] != HostSliceKind::kRuntime && h.kind[i] != HostSliceKind::kDriver) continue;
    if (!IsKernelLaunchCall(trace.str(h.name[i]))) continue;
    if (h.kind[i] == HostSliceKind::kDriver && runtime_launch.count(h.correlation[i])) continue;
    launches.push_back(static_cast<RowIndex>(i));
  }
  std::stable_sort(launches.begin(), launches.end(),
                   [&](RowIndex a, RowIndex b) { return h.start_ns[a] < h.start_ns[b]; });
  if (launches.size() != t.size()) {
    m.how = fmt::format("not matched: {} counter ranges for {} kernel launch calls", t.size(),
                        launches.size());
    return m;
  }
  for (size_t i = 0; i < t.size(); ++i)
    m.launch[i] = launches[i];
  m.matched = static_cast<int64_t>(t.size());
  m.how = "launch order";
  return m;
}

}  // namespace teye
