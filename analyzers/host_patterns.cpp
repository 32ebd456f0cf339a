#include "teye/analyzers/host_patterns.h"

#include <algorithm>
#include <cctype>

namespace teye {
namespace {

// ASCII only, inline: libc's locale-aware tolower per character showed up in profiles.
char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (LowerAscii(hay[i]) != needle[0]) continue;
    size_t j = 1;
    while (j < needle.size() && LowerAscii(hay[i + j]) == needle[j])
      ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

bool StartsWithAny(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes)
    if (s.starts_with(p)) return true;
  return false;
}

bool EqualsAny(std::string_view s, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (s == n) return true;
  return false;
}

// Strip the `_v2`, `_ptds`, `_ptsz` suffixes driver/runtime entry points carry.
std::string_view BaseApiName(std::string_view name) {
  for (std::string_view suffix : {"_v2", "_v3", "_ptds", "_ptsz"})
    if (name.ends_with(suffix)) name.remove_suffix(suffix.size());
  if (name.ends_with("_v2")) name.remove_suffix(3);
  return name;
}

}  // namespace

bool IsDataLoaderNext(const Trace& trace, RowIndex slice) {
  const HostSliceTable& h = trace.host_slices();
  if (h.kind[slice] == HostSliceKind::kDataLoader) return true;
  std::string_view name = trace.str(h.name[slice]);
  return name.starts_with("enumerate(DataLoader)");
}

LoaderMode LoaderModeOf(const Trace& trace, RowIndex slice) {
  const HostSliceTable& h = trace.host_slices();
  const std::string_view name = trace.str(h.name[slice]);
  if (ContainsNoCase(name, "singleprocessdataloaderiter")) return LoaderMode::kInline;
  if (ContainsNoCase(name, "multiprocessingdataloaderiter")) return LoaderMode::kWorkers;
  // Any other loader: inline when loading work recorded inside it covers most of it. Rows of a
  // thread are sorted by start with parents first, so its descendants follow it.
  const TimeNs end = h.end_ns[slice];
  TimeNs covered = 0, covered_until = h.start_ns[slice];
  for (auto r = static_cast<size_t>(slice) + 1;
       r < h.size() && h.thread[r] == h.thread[slice] && h.start_ns[r] < end; ++r) {
    if (h.kind[r] != HostSliceKind::kCpuOp && h.kind[r] != HostSliceKind::kIo) continue;
    const TimeNs from = std::max(h.start_ns[r], covered_until);
    const TimeNs to = std::min(h.end_ns[r], end);
    if (to > from) covered += to - from;
    covered_until = std::max(covered_until, to);
  }
  return 2 * covered >= h.duration(static_cast<size_t>(slice)) && covered > 0
             ? LoaderMode::kInline
             : LoaderMode::kWorkers;
}

bool IsInputSlice(const Trace& trace, RowIndex slice) {
  const HostSliceTable& h = trace.host_slices();
  HostSliceKind kind = h.kind[slice];
  if (kind == HostSliceKind::kDataLoader || kind == HostSliceKind::kIo) return true;
  std::string_view name = trace.str(h.name[slice]);
  // PyTorch's own name, whatever category the profiler version filed it under (none at all in
  // the autograd profiler's export).
  if (name.starts_with("enumerate(DataLoader)")) return true;
  if (kind != HostSliceKind::kUserAnnotation && kind != HostSliceKind::kCpuOp &&
      kind != HostSliceKind::kPythonFunction)
    return false;
  if (kind == HostSliceKind::kPythonFunction)
    return ContainsNoCase(name, "torch/utils/data/dataloader.py");
  for (std::string_view word :
       {"dataloader", "data_load", "dataload", "load_batch", "wait_for_batch", "next_batch",
        "get_batch", "fetch_batch", "batch_to_gpu", "input_pipeline"})
    if (ContainsNoCase(name, word)) return true;
  return false;
}

bool IsCollectiveSlice(const Trace& trace, RowIndex slice) {
  const HostSliceTable& h = trace.host_slices();
  if (h.collective[slice] != kNoRow) return true;
  const std::string_view name = trace.str(h.name[slice]);
  return StartsWithAny(name, {"nccl:", "gloo:", "mpi:", "ucc:", "record_param_comms",
                              "c10d::allreduce", "c10d::allgather", "c10d::reduce_scatter",
                              "c10d::broadcast", "c10d::alltoall", "c10d::barrier"});
}

bool IsPreprocessingName(std::string_view name) {
  for (std::string_view word : {"transform", "preprocess", "tokeniz", "collate", "decode",
                                "augment", "normalize", "resize", "image_processing"})
    if (ContainsNoCase(name, word)) return true;
  return false;
}

bool IsSyncCall(std::string_view name, HostSliceKind kind) {
  if (kind == HostSliceKind::kCpuOp) {
    return EqualsAny(
        name, {"aten::item", "aten::_local_scalar_dense", "aten::nonzero", "aten::is_nonzero",
               "aten::equal", "aten::masked_select", "aten::_unique2", "aten::unique_consecutive"});
  }
  if (kind != HostSliceKind::kRuntime && kind != HostSliceKind::kDriver) return false;
  std::string_view n = BaseApiName(name);
  if (n.ends_with("Synchronize")) return true;  // cuda/hip Device/Stream/Event/Ctx Synchronize
  return EqualsAny(n, {"cudaMemcpy",
                       "cudaMemcpy2D",
                       "cudaMemcpy3D",
                       "cudaMemcpyToSymbol",
                       "cudaMemcpyFromSymbol",
                       "cudaMemset",
                       "cudaMemset2D",
                       "cudaFree",
                       "cudaFreeHost",
                       "cudaHostUnregister",
                       "cuMemcpyDtoH",
                       "cuMemcpyHtoD",
                       "cuMemcpyDtoD",
                       "cuMemcpy",
                       "cuMemFree",
                       "cuMemFreeHost",
                       "hipMemcpy",
                       "hipMemcpyWithStream",
                       "hipMemset",
                       "hipFree",
                       "hipMemcpyDtoH",
                       "hipMemcpyHtoD"});
}

bool IsLaunchCall(std::string_view name) {
  return StartsWithAny(name,
                       {"cudaLaunch", "cuLaunch", "hipLaunch", "hipExtLaunch", "hipModuleLaunch",
                        "hipExtModuleLaunch", "cudaGraphLaunch", "cuGraphLaunch", "hipGraphLaunch",
                        "cudaMemcpyAsync", "cudaMemsetAsync", "cuMemcpyAsync", "cuMemcpyHtoDAsync",
                        "cuMemcpyDtoHAsync", "cuMemsetD", "hipMemcpyAsync", "hipMemsetAsync"});
}

}  // namespace teye
