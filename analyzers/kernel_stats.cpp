#include "teye/analyzers/kernel_stats.h"

#include <algorithm>
#include <unordered_map>

namespace teye {

KernelSummary SummarizeKernels(const Trace& trace, const std::vector<KernelClass>& classes,
                               const StepWindows& windows, size_t top_n) {
  KernelSummary out;
  const GpuOpTable& g = trace.gpu_ops();
  std::unordered_map<StringId, KernelStat> by_name;
  std::array<ClassStat, kKernelClassCount> by_class{};
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kKernel || !windows.Contains(g.start_ns[i])) continue;
    const TimeNs d = g.duration(i);
    KernelStat& k = by_name[g.name[i]];
    if (k.count == 0) {
      k.cls = classes[i];
      k.min_ns = d;
      k.max_ns = d;
    }
    ++k.count;
    k.total_ns += d;
    k.min_ns = std::min(k.min_ns, d);
    k.max_ns = std::max(k.max_ns, d);
    ClassStat& c = by_class[static_cast<size_t>(classes[i])];
    c.cls = classes[i];
    ++c.count;
    c.total_ns += d;
    ++out.count;
    out.total_ns += d;
  }
  for (auto& c : by_class) {
    if (c.count == 0) continue;
    c.share = out.total_ns ? static_cast<double>(c.total_ns) / out.total_ns : 0.0;
    out.classes.push_back(c);
  }
  std::sort(out.classes.begin(), out.classes.end(),
            [](const ClassStat& a, const ClassStat& b) { return a.total_ns > b.total_ns; });

  std::vector<KernelStat> all;
  all.reserve(by_name.size());
  for (auto& [id, k] : by_name) {
    k.name = std::string(trace.str(id));
    all.push_back(std::move(k));
  }
  auto by_total = [](const KernelStat& a, const KernelStat& b) {
    return a.total_ns > b.total_ns || (a.total_ns == b.total_ns && a.name < b.name);
  };
  std::sort(all.begin(), all.end(), by_total);
  for (const KernelStat& k : all) {
    if (out.top.size() < top_n) out.top.push_back(k);
    if (k.cls == KernelClass::kOther && out.top_other.size() < 5) out.top_other.push_back(k);
  }
  return out;
}

}  // namespace teye
