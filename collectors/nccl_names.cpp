#include "nccl_names.h"

#include <cctype>

namespace teye::collector {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view StripNccl(std::string_view s) {
  if (s.size() > 4 && EqualsNoCase(s.substr(0, 4), "nccl")) s.remove_prefix(4);
  return s;
}

struct FuncName {
  std::string_view nccl;
  std::string_view torch;
  std::string_view annotation;
};
constexpr FuncName kFuncs[] = {
    {"AllReduce", "allreduce", "nccl:all_reduce"},
    {"AllGather", "allgather", "nccl:all_gather"},
    {"ReduceScatter", "reduce_scatter", "nccl:reduce_scatter"},
    {"Broadcast", "broadcast", "nccl:broadcast"},
    {"Reduce", "reduce", "nccl:reduce"},
    {"AllToAll", "all_to_all", "nccl:all_to_all"},
    {"AlltoAll", "all_to_all", "nccl:all_to_all"},
    {"SendRecv", "send_recv", "nccl:send_recv"},
    {"Send", "send", "nccl:send"},
    {"Recv", "recv", "nccl:recv"},
    {"Gather", "gather", "nccl:gather"},
    {"Scatter", "scatter", "nccl:scatter"},
};

const FuncName* FindFunc(std::string_view func) {
  func = StripNccl(func);
  for (const auto& f : kFuncs)
    if (EqualsNoCase(func, f.nccl)) return &f;
  return nullptr;
}

struct DtypeName {
  std::string_view spelling;
  std::string_view torch;
};
// NCCL's ncclDatatypeToString names (without "nccl"), kernel-name suffixes and C type names.
constexpr DtypeName kDtypes[] = {
    {"float32", "Float"},
    {"f32", "Float"},
    {"float", "Float"},
    {"float16", "Half"},
    {"f16", "Half"},
    {"half", "Half"},
    {"bfloat16", "BFloat16"},
    {"bf16", "BFloat16"},
    {"__nv_bfloat16", "BFloat16"},
    {"float64", "Double"},
    {"f64", "Double"},
    {"double", "Double"},
    {"int8", "Char"},
    {"i8", "Char"},
    {"int8_t", "Char"},
    {"char", "Char"},
    {"uint8", "Byte"},
    {"u8", "Byte"},
    {"uint8_t", "Byte"},
    {"int32", "Int"},
    {"i32", "Int"},
    {"int32_t", "Int"},
    {"int", "Int"},
    {"uint32", "UInt32"},
    {"u32", "UInt32"},
    {"uint32_t", "UInt32"},
    {"int64", "Long"},
    {"i64", "Long"},
    {"int64_t", "Long"},
    {"uint64", "UInt64"},
    {"u64", "UInt64"},
    {"uint64_t", "UInt64"},
    {"float8e4m3", "Float8_e4m3fn"},
    {"f8e4m3", "Float8_e4m3fn"},
    {"__nv_fp8_e4m3", "Float8_e4m3fn"},
    {"float8e5m2", "Float8_e5m2"},
    {"f8e5m2", "Float8_e5m2"},
    {"__nv_fp8_e5m2", "Float8_e5m2"},
};

bool IsAlgorithm(std::string_view s) {
  for (std::string_view a :
       {"RING", "TREE", "COLLNET_DIRECT", "COLLNET_CHAIN", "NVLS", "NVLS_TREE", "PAT", "COLLNET"})
    if (s == a) return true;
  return false;
}
bool IsProtocol(std::string_view s) {
  return s == "LL" || s == "LL128" || s == "SIMPLE";
}

}  // namespace

std::string_view TorchCollectiveName(std::string_view func) {
  const FuncName* f = FindFunc(func);
  return f ? f->torch : std::string_view{};
}

std::string_view NcclAnnotationName(std::string_view func) {
  const FuncName* f = FindFunc(func);
  return f ? f->annotation : std::string_view{};
}

std::string_view TorchDtypeName(std::string_view dtype) {
  dtype = StripNccl(dtype);
  for (const auto& d : kDtypes)
    if (EqualsNoCase(dtype, d.spelling)) return d.torch;
  return {};
}

std::string_view NcclRedOpName(int op) {
  switch (op) {
    case 0:
      return "Sum";
    case 1:
      return "Prod";
    case 2:
      return "Max";
    case 3:
      return "Min";
    case 4:
      return "Avg";
    default:
      return op > 4 ? "PreMulSum" : "";
  }
}

void NcclMessageElements(std::string_view func, uint64_t count, int nranks, int64_t& in_elems,
                         int64_t& out_elems) {
  const auto c = static_cast<int64_t>(count);
  const int64_t n = nranks > 0 ? nranks : 1;
  in_elems = out_elems = c;
  const FuncName* f = FindFunc(func);
  if (!f) return;
  if (f->torch == "allgather") out_elems = c * n;
  if (f->torch == "reduce_scatter") in_elems = c * n;
}

bool ParseNcclKernelName(std::string_view name, NcclKernelInfo& info) {
  info = {};
  std::string_view rest;
  if (name.rfind("ncclDevKernel_", 0) == 0)
    rest = name.substr(14);
  else if (name.rfind("ncclKernel_", 0) == 0)
    rest = name.substr(11);
  else if (name.rfind("void ncclKernel_", 0) == 0)
    rest = name.substr(16);
  else
    return false;
  if (size_t paren = rest.find('('); paren != std::string_view::npos) rest = rest.substr(0, paren);
  // Split on '_' but keep multi-part tokens (NVLS_TREE, COLLNET_DIRECT) together by checking
  // pairs first.
  std::string_view tokens[16];
  size_t count = 0;
  while (!rest.empty() && count < 16) {
    size_t us = rest.find('_');
    tokens[count++] = rest.substr(0, us);
    rest = us == std::string_view::npos ? std::string_view{} : rest.substr(us + 1);
  }
  if (count == 0) return false;
  if (const FuncName* f = FindFunc(tokens[0])) info.collective = f->torch;
  for (size_t i = 1; i < count; ++i) {
    std::string_view t = tokens[i];
    if (i + 1 < count) {
      // Two-token algorithms: look them up in the original name to get one contiguous view.
      const char* start = t.data();
      const size_t len = static_cast<size_t>(tokens[i + 1].data() + tokens[i + 1].size() - start);
      std::string_view pair(start, len);
      if (IsAlgorithm(pair)) {
        info.algorithm = pair;
        ++i;
        continue;
      }
    }
    if (IsAlgorithm(t)) {
      info.algorithm = t;
    } else if (IsProtocol(t)) {
      info.protocol = t;
    } else if (std::string_view d = TorchDtypeName(t); !d.empty() && info.dtype.empty()) {
      info.dtype = d;
    }
  }
  return true;
}

}  // namespace teye::collector
