// Kernel classes by (demangled) kernel name: a table of ordered name patterns, first match wins,
// which a user file can extend or override (`--kernel-classes FILE`).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teye/model/result.h"
#include "teye/model/trace.h"

namespace teye {

enum class KernelClass : uint8_t {
  kGemmTensorCore,  // GEMM / convolution on Tensor Cores (or AMD matrix cores)
  kGemmSimt,        // GEMM / convolution on FP32 SIMT cores
  kAttention,       // flash / fused attention
  kElementwise,
  kReduction,      // reductions, norms, softmax, losses
  kCopy,           // copies, transposes, layout changes, gathers
  kOptimizer,      // multi-tensor / fused optimizer kernels
  kCommunication,  // NCCL / RCCL collectives
  kOther,
  kCount,
};
inline constexpr size_t kKernelClassCount = static_cast<size_t>(KernelClass::kCount);

// What a kernel class is for the breakdown (DESIGN.md §5): compute-bound, memory-bound or
// communication. `other` counts as compute: unknown kernels are taken as useful GPU work.
enum class KernelRole : uint8_t { kCompute, kMemory, kCommunication };

std::string_view ToString(KernelClass c);     // "gemm_tensor_core", ...
std::string_view DisplayName(KernelClass c);  // "GEMM/conv (Tensor Core)", ...
bool ParseKernelClass(std::string_view text, KernelClass* out);
KernelRole RoleOf(KernelClass c);

class KernelClassifier {
 public:
  // The built-in table.
  KernelClassifier();
  ~KernelClassifier();
  KernelClassifier(KernelClassifier&&) noexcept;
  KernelClassifier& operator=(KernelClassifier&&) noexcept;

  // Adds rules from a user file, tried before the built-in ones. One rule per line:
  // `<class> <regex>` (RE2 syntax, case-insensitive, searched anywhere in the name); `#` starts
  // a comment. Errors name the line.
  [[nodiscard]] Result<bool> AddRulesFromFile(const std::string& path);
  [[nodiscard]] Result<bool> AddRulesFromText(std::string_view text, const std::string& origin);

  KernelClass Classify(std::string_view kernel_name) const;

  // Classifies every kernel of a trace, indexed by GpuOpTable row (non-kernels get kOther).
  std::vector<KernelClass> ClassifyTrace(const Trace& trace) const;

 private:
  struct Rule;
  std::vector<Rule> rules_;
};

}  // namespace teye
