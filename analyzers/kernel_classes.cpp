#include "teye/analyzers/kernel_classes.h"

#include <fstream>
#include <memory>
#include <re2/re2.h>
#include <sstream>
#include <unordered_map>

namespace teye {

struct KernelClassifier::Rule {
  KernelClass cls;
  std::unique_ptr<RE2> pattern;
  std::string text;
};

namespace {

struct ClassNames {
  KernelClass cls;
  std::string_view id;
  std::string_view display;
};
constexpr ClassNames kNames[] = {
    {KernelClass::kGemmTensorCore, "gemm_tensor_core", "GEMM/conv (Tensor Core)"},
    {KernelClass::kGemmSimt, "gemm_simt", "GEMM/conv (FP32 SIMT)"},
    {KernelClass::kAttention, "attention", "attention"},
    {KernelClass::kElementwise, "elementwise", "elementwise"},
    {KernelClass::kReduction, "reduction", "reduction/norm/softmax"},
    {KernelClass::kCopy, "copy", "copy/transpose/gather"},
    {KernelClass::kOptimizer, "optimizer", "optimizer (multi-tensor)"},
    {KernelClass::kCommunication, "communication", "communication (NCCL/RCCL)"},
    {KernelClass::kOther, "other", "other"},
};

// The built-in table, tried in order; first match wins. Patterns are searched anywhere in the
// demangled name, case-insensitively. Order matters: communication and attention names can
// contain "reduce" or "gemm"; PyTorch copy kernels are instances of elementwise_kernel; the
// Tensor Core markers must be tried before the generic GEMM words.
struct BuiltinRule {
  KernelClass cls;
  const char* pattern;
};
constexpr BuiltinRule kBuiltinRules[] = {
    // NCCL (ncclKernel_*, ncclDevKernel_* since 2.19), RCCL, MSCCL, and custom collectives.
    {KernelClass::kCommunication,
     R"(^nccl|nccl(dev)?kernel|rccl|msccl|all_?reduce|all_?gather|reduce_?scatter|all_?to_?all|)"
     R"(cross_device_reduce|multimem|sendrecv|userbuffers)"},
    // FlashAttention, cuDNN/TRT fused MHA (fmha*), xformers, PyTorch SDPA, paged attention.
    {KernelClass::kAttention,
     R"(flash|fmha|attention|attn_|_attn|mha_|_mha|sdpa|xformers|paged_?kv|fused_multi_head|)"
     R"(flash_fwd|flash_bwd)"},
    // Multi-tensor / fused optimizers (apex, PyTorch foreach & fused, fbgemm TBE fused updates).
    {KernelClass::kOptimizer,
     R"(multi_tensor|fused_?adam|adam_?functor|adamw|_adam|adam_|lamb_|lambstage|adagrad|)"
     R"(rmsprop|_sgd|sgd_|foreach|amp_update_scale|_lion|lion_)"},
    // Copies, casts, layout changes, concatenation, gathers/scatters, embedding lookups.
    {KernelClass::kCopy,
     R"(direct_copy|copy_kernel|batchedcopy|catarray|_copy_|copy_async|_copy|transpose|permute|)"
     R"(nchwtonhwc|nhwctonchw|nchw2nhwc|nhwc2nchw|gather|scatter|index_?select|indexfunc|)"
     R"(index_elementwise|indexing|index_put|index_copy|embedding|concat|memcpy)"},
    // Reductions, norms, softmax, losses, pooling, scans and sorts; Triton reductions.
    {KernelClass::kReduction,
     R"(reduce|reduction|softmax|norm|welford|moments|gammabeta|bn_fw|bn_bw|batch_?norm|)"
     R"(cross_?entropy|nll_?loss|logsumexp|argmax|argmin|topk|radixsort|devicescan|)"
     R"(devicereduce|deviceselect|devicecompact|histogram|pool|cumsum|triton_red_|triton_per_)"},
    // Names that say SIMT outright (FFMA mainloops, sgemm/dgemm, scudnn, CUTLASS simt), even
    // when they also carry an architecture prefix like sm90_xmma.
    {KernelClass::kGemmSimt, R"(ffma|sgemm|dgemm|scudnn|simt_|_simt|gemv)"},
    // Tensor Core GEMM/conv: cuBLAS/cuDNN arch markers (Volta h884/s884, Turing/Ampere
    // 1688/16816, wmma 161616), xmma/hmma/imma/wgmma, Hopper/Blackwell sm9x/sm10x kernels,
    // cuBLASLt nvjet, CUTLASS tensorop, low-precision GEMM names, Triton templates, AMD
    // Tensile/hipBLASLt kernels using MFMA (`_MI<m>x<n>`).
    {KernelClass::kGemmTensorCore,
     R"([hsi](884|1688|16816|161616)(gemm|cudnn)|884gemm|1688gemm|16816gemm|hmma|xmma|wgmma|)"
     R"(imma|tensorop|wmma|nvjet|sm(70|75|80|86|89|90|100|103|110|120)a?_|tcgen05|umma|)"
     R"(gemm.*(bf16|bfloat16|fp16|f16|half|e4m3|e5m2|e2m1|fp8|int8|tf32)|)"
     R"((bf16|bfloat16|fp16|e4m3|e5m2|e2m1|fp8|tf32).*gemm|^bmm_|^cijk_.*_mi[0-9]+x|triton_tem_)"},
    // Everything else that is a GEMM or convolution runs on SIMT cores (FP32 sgemm, scudnn,
    // winograd, cuDNN dgrad/wgrad engines, rocBLAS without MFMA).
    {KernelClass::kGemmSimt,
     R"(gemm|gemv|scudnn|convolve|conv2d|conv3d|convolution|winograd|dgrad|wgrad|fprop|)"
     R"(implicit_?gemm|^cijk_|matmul)"},
    {KernelClass::kElementwise,
     R"(elementwise|pointwise|triton_poi_|activation|relu|gelu|silu|swiglu|sigmoid|tanh|)"
     R"(dropout|fill|addcmul|addcdiv|upsample|quantize|fp8|clamp|where_kernel|masked_fill|)"
     R"(bias_?add|rotary|rope)"},
};

// Case-insensitive RE2: linear time whatever the input, so hostile names cannot hang or
// overflow the stack.
std::unique_ptr<RE2> Compile(const std::string& pattern) {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

}  // namespace

std::string_view ToString(KernelClass c) {
  for (const auto& n : kNames)
    if (n.cls == c) return n.id;
  return "other";
}

std::string_view DisplayName(KernelClass c) {
  for (const auto& n : kNames)
    if (n.cls == c) return n.display;
  return "other";
}

bool ParseKernelClass(std::string_view text, KernelClass* out) {
  for (const auto& n : kNames) {
    if (n.id == text) {
      *out = n.cls;
      return true;
    }
  }
  return false;
}

KernelRole RoleOf(KernelClass c) {
  switch (c) {
    case KernelClass::kElementwise:
    case KernelClass::kReduction:
    case KernelClass::kCopy:
    case KernelClass::kOptimizer:
      return KernelRole::kMemory;
    case KernelClass::kCommunication:
      return KernelRole::kCommunication;
    default:
      return KernelRole::kCompute;
  }
}

KernelClassifier::KernelClassifier() {
  for (const auto& r : kBuiltinRules)
    rules_.push_back({r.cls, Compile(r.pattern), r.pattern});
}
KernelClassifier::~KernelClassifier() = default;
KernelClassifier::KernelClassifier(KernelClassifier&&) noexcept = default;
KernelClassifier& KernelClassifier::operator=(KernelClassifier&&) noexcept = default;

Result<bool> KernelClassifier::AddRulesFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot open kernel class file", path, -1};
  std::stringstream ss;
  ss << in.rdbuf();
  return AddRulesFromText(ss.str(), path);
}

Result<bool> KernelClassifier::AddRulesFromText(std::string_view text, const std::string& origin) {
  std::vector<Rule> added;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t sep = line.find_first_of(" \t", b);
    std::string cls_text = line.substr(b, sep == std::string::npos ? std::string::npos : sep - b);
    size_t p = sep == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", sep);
    auto where = origin + ":" + std::to_string(number);
    KernelClass cls;
    if (!ParseKernelClass(cls_text, &cls))
      return Error{"unknown kernel class '" + cls_text +
                       "' (expected gemm_tensor_core, gemm_simt, attention, elementwise, "
                       "reduction, copy, optimizer, communication or other)",
                   where, -1};
    if (p == std::string::npos) return Error{"missing pattern after the class", where, -1};
    std::string pattern = line.substr(p);
    while (!pattern.empty() && (pattern.back() == ' ' || pattern.back() == '\r'))
      pattern.pop_back();
    auto compiled = Compile(pattern);
    if (!compiled->ok())
      return Error{"bad regular expression '" + pattern + "': " + compiled->error(), where, -1};
    added.push_back({cls, std::move(compiled), pattern});
  }
  rules_.insert(rules_.begin(), std::make_move_iterator(added.begin()),
                std::make_move_iterator(added.end()));
  return true;
}

KernelClass KernelClassifier::Classify(std::string_view name) const {
  // Kernel names can be kilobytes of template arguments; the class is decided by the start.
  const std::string_view head = name.substr(0, 4096);
  for (const auto& r : rules_)
    if (RE2::PartialMatch(head, *r.pattern)) return r.cls;
  return KernelClass::kOther;
}

std::vector<KernelClass> KernelClassifier::ClassifyTrace(const Trace& trace) const {
  const GpuOpTable& ops = trace.gpu_ops();
  std::vector<KernelClass> out(ops.size(), KernelClass::kOther);
  std::unordered_map<StringId, KernelClass> by_name;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops.kind[i] != GpuOpKind::kKernel) continue;
    auto [it, inserted] = by_name.emplace(ops.name[i], KernelClass::kOther);
    if (inserted) {
      // A kernel with collective arguments is communication whatever its name says.
      it->second = Classify(trace.str(ops.name[i]));
    }
    out[i] = ops.collective[i] != kNoRow ? KernelClass::kCommunication : it->second;
  }
  return out;
}

}  // namespace teye
