#include "kineto_dialect.h"

#include <cctype>

namespace teye::import {
namespace {

// `b` is lower case. ASCII only and inline: this runs for every event's category, and libc's
// locale-aware tolower per character was 5% of a read.
bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + ('a' - 'A')) : a[i];
    if (c != b[i]) return false;
  }
  return true;
}

struct CategoryEntry {
  std::string_view name;  // lower case
  CategoryInfo info;
};

// Every spelling seen across Kineto versions (old: Operator/Kernel/Runtime/Memcpy/Memset),
// other backends (xpu/privateuse1/mtia runtimes) and teye's collector (io, dataloader, nvtx).
constexpr CategoryEntry kCategories[] = {
    {"kernel", {EventClass::kGpuKernel, HostSliceKind::kOther}},
    {"gpu_memcpy", {EventClass::kGpuMemcpy, HostSliceKind::kOther}},
    {"memcpy", {EventClass::kGpuMemcpy, HostSliceKind::kOther}},
    {"gpu_memset", {EventClass::kGpuMemset, HostSliceKind::kOther}},
    {"memset", {EventClass::kGpuMemset, HostSliceKind::kOther}},
    {"cuda_sync", {EventClass::kGpuSync, HostSliceKind::kOther}},
    {"gpu_user_annotation", {EventClass::kGpuAnnotation, HostSliceKind::kOther}},
    {"cpu_op", {EventClass::kHost, HostSliceKind::kCpuOp}},
    {"operator", {EventClass::kHost, HostSliceKind::kCpuOp}},
    {"user_annotation", {EventClass::kHost, HostSliceKind::kUserAnnotation}},
    {"user annotation", {EventClass::kHost, HostSliceKind::kUserAnnotation}},
    {"nvtx", {EventClass::kHost, HostSliceKind::kUserAnnotation}},
    {"python_function", {EventClass::kHost, HostSliceKind::kPythonFunction}},
    {"cuda_runtime", {EventClass::kHost, HostSliceKind::kRuntime}},
    {"runtime", {EventClass::kHost, HostSliceKind::kRuntime}},
    {"xpu_runtime", {EventClass::kHost, HostSliceKind::kRuntime}},
    {"privateuse1_runtime", {EventClass::kHost, HostSliceKind::kRuntime}},
    {"mtia_runtime", {EventClass::kHost, HostSliceKind::kRuntime}},
    {"cuda_driver", {EventClass::kHost, HostSliceKind::kDriver}},
    {"driver", {EventClass::kHost, HostSliceKind::kDriver}},
    {"privateuse1_driver", {EventClass::kHost, HostSliceKind::kDriver}},
    {"overhead", {EventClass::kHost, HostSliceKind::kOverhead}},
    {"trace", {EventClass::kHost, HostSliceKind::kProfilerSpan}},
    {"cpu_instant_event", {EventClass::kMemoryInstant, HostSliceKind::kOther}},
    {"dataloader", {EventClass::kHost, HostSliceKind::kDataLoader}},
    {"io", {EventClass::kHost, HostSliceKind::kIo}},
    {kCounterRangeCategory, {EventClass::kKernelCounters, HostSliceKind::kOther}},
};

}  // namespace

CategoryInfo ClassifyCategory(std::string_view category) {
  for (const auto& e : kCategories)
    if (EqualsNoCase(category, e.name)) return e.info;
  return CategoryInfo{};
}

CategoryInfo ClassifyUncategorized(std::string_view name) {
  for (std::string_view prefix :
       {"aten::", "prim::", "autograd::", "c10d::", "torchvision::", "quantized::"})
    if (name.starts_with(prefix)) return {EventClass::kHost, HostSliceKind::kCpuOp};
  for (std::string_view prefix : {"ProfilerStep#", "enumerate(DataLoader)", "Optimizer."})
    if (name.starts_with(prefix)) return {EventClass::kHost, HostSliceKind::kUserAnnotation};
  return CategoryInfo{};
}

CopyKind ParseCopyKind(std::string_view t) {
  if (EqualsNoCase(t, "htod") || t == "1") return CopyKind::kHtoD;
  if (EqualsNoCase(t, "dtoh") || t == "2") return CopyKind::kDtoH;
  if (EqualsNoCase(t, "dtod") || t == "8") return CopyKind::kDtoD;
  if (EqualsNoCase(t, "htoh") || t == "9") return CopyKind::kHtoH;
  if (EqualsNoCase(t, "ptop") || t == "10") return CopyKind::kPtoP;
  return CopyKind::kUnknown;
}

MemoryKind ParseMemoryKind(std::string_view t) {
  if (EqualsNoCase(t, "pageable")) return MemoryKind::kPageable;
  if (EqualsNoCase(t, "pinned")) return MemoryKind::kPinned;
  if (EqualsNoCase(t, "device")) return MemoryKind::kDevice;
  if (EqualsNoCase(t, "managed")) return MemoryKind::kManaged;
  return MemoryKind::kUnknown;
}

CopyDescription ParseMemcpyName(std::string_view name) {
  CopyDescription d;
  // "Memcpy HtoD (Pageable -> Device)"
  size_t sp = name.find(' ');
  if (sp == std::string_view::npos) return d;
  std::string_view rest = name.substr(sp + 1);
  size_t sp2 = rest.find(' ');
  d.kind = ParseCopyKind(rest.substr(0, sp2));
  size_t open = rest.find('(');
  size_t arrow = rest.find(" -> ");
  size_t close = rest.find(')');
  if (open != std::string_view::npos && arrow != std::string_view::npos &&
      close != std::string_view::npos && open < arrow && arrow < close) {
    d.src = ParseMemoryKind(rest.substr(open + 1, arrow - open - 1));
    d.dst = ParseMemoryKind(rest.substr(arrow + 4, close - arrow - 4));
  }
  return d;
}

}  // namespace teye::import
