#include "teye/analyzers/op_work.h"

namespace teye {
namespace {

// ATen ops are matched without their namespace; others (vLLM's "_C::rms_norm") as written.
std::string_view BaseName(std::string_view op_name) {
  if (op_name.starts_with("aten::")) op_name.remove_prefix(6);
  return op_name;
}

}  // namespace

std::string_view ToString(OpKind kind) {
  switch (kind) {
    case OpKind::kGemm:
      return "gemm";
    case OpKind::kConvolution:
      return "convolution";
    case OpKind::kAttention:
      return "attention";
    case OpKind::kNorm:
      return "norm";
    case OpKind::kSoftmax:
      return "softmax";
    case OpKind::kElementwise:
      return "elementwise";
    case OpKind::kCopy:
      return "copy";
    case OpKind::kEmbedding:
      return "embedding";
    case OpKind::kOptimizer:
      return "optimizer";
  }
  return "?";
}

std::optional<OpWork> EstimateOpWork(std::string_view op_name, const OpArguments& args) {
  const std::string_view name = BaseName(op_name);
  bool known = false;
  if (auto w = op_work::Matrix(name, args, &known)) return w;
  if (known) return std::nullopt;
  return op_work::Memory(name, args, &known);
}

bool HasWorkFormula(std::string_view op_name) {
  const std::string_view name = BaseName(op_name);
  const OpArguments none;
  bool known = false;
  op_work::Matrix(name, none, &known);
  if (known) return true;
  op_work::Memory(name, none, &known);
  return known;
}

}  // namespace teye
