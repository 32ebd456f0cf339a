#include "teye/analyzers/transfer_stats.h"

#include <algorithm>
#include <map>

namespace teye {

MemcpySummary SummarizeMemcpy(const Trace& trace, const StepWindows& windows) {
  MemcpySummary out;
  const GpuOpTable& g = trace.gpu_ops();
  std::map<std::pair<CopyKind, MemoryKind>, CopyStat> rows;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!windows.Contains(g.start_ns[i])) continue;
    if (g.kind[i] == GpuOpKind::kMemset) {
      ++out.memset_count;
      out.memset_bytes += g.bytes[i];
      out.memset_ns += g.duration(i);
      continue;
    }
    if (g.kind[i] != GpuOpKind::kMemcpy) continue;
    MemoryKind host = g.copy_kind[i] == CopyKind::kHtoD   ? g.src_memory[i]
                      : g.copy_kind[i] == CopyKind::kDtoH ? g.dst_memory[i]
                                                          : MemoryKind::kUnknown;
    CopyStat& c = rows[{g.copy_kind[i], host}];
    c.kind = g.copy_kind[i];
    c.host_memory = host;
    ++c.count;
    c.bytes += g.bytes[i];
    c.total_ns += g.duration(i);
  }
  for (auto& [key, c] : rows)
    out.copies.push_back(c);
  std::sort(out.copies.begin(), out.copies.end(),
            [](const CopyStat& a, const CopyStat& b) { return a.total_ns > b.total_ns; });
  return out;
}

std::string CollectiveFromKernelName(std::string_view name) {
  std::string_view n = name.substr(0, name.find('('));
  for (std::string_view prefix : {"ncclDevKernel_", "ncclKernel_", "rcclKernel_"}) {
    if (n.starts_with(prefix)) {
      n.remove_prefix(prefix.size());
      return std::string(n.substr(0, n.find('_')));
    }
  }
  if (n.starts_with("void ")) n.remove_prefix(5);
  return std::string(n.substr(0, 60));
}

CommSummary SummarizeCommunication(const Trace& trace, const std::vector<KernelClass>& classes,
                                   const StepWindows& windows) {
  CommSummary out;
  const GpuOpTable& g = trace.gpu_ops();
  const CollectiveTable& coll = trace.collectives();
  std::map<std::string, CollectiveStat> by_op;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kKernel || classes[i] != KernelClass::kCommunication) continue;
    if (!windows.Contains(g.start_ns[i])) continue;
    ++out.kernel_count;
    out.kernel_ns += g.duration(i);
    std::string op;
    int64_t bytes = 0;
    if (g.collective[i] != kNoRow) {
      op = std::string(trace.str(coll.op[g.collective[i]]));
      bytes = coll.in_bytes[g.collective[i]];
    }
    if (op.empty()) op = CollectiveFromKernelName(trace.str(g.name[i]));
    CollectiveStat& c = by_op[op];
    c.op = op;
    ++c.count;
    c.total_ns += g.duration(i);
    c.bytes += bytes;
  }
  for (auto& [op, c] : by_op)
    out.collectives.push_back(c);
  std::sort(
      out.collectives.begin(), out.collectives.end(),
      [](const CollectiveStat& a, const CollectiveStat& b) { return a.total_ns > b.total_ns; });
  return out;
}

}  // namespace teye
