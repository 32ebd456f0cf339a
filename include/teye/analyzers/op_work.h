// FLOPs and bytes of one operator call from its recorded arguments (op_arguments.h), for the ops
// with a known formula: GEMMs (mm, addmm, bmm, baddbmm, matmul, linear, _scaled_mm),
// convolutions forward and backward, scaled-dot-product / flash / memory-efficient attention
// forward and backward, layer/batch/group/RMS norm, softmax, elementwise and copy ops, embedding
// and index_select, and the multi-tensor (_foreach_*, fused Adam/AdamW/SGD) optimizer ops.
// docs/metrics.md ("Micro-architecture") states every formula.
//
// Bytes are the compulsory traffic: each input read once, each output written once. FLOPs count
// one per multiply and one per add (a fused multiply-add is two).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "teye/analyzers/op_arguments.h"

namespace teye {

enum class OpKind : uint8_t {
  kGemm,
  kConvolution,
  kAttention,
  kNorm,
  kSoftmax,
  kElementwise,
  kCopy,
  kEmbedding,
  kOptimizer,
};
std::string_view ToString(OpKind kind);  // "gemm", "convolution", ...

struct OpWork {
  OpKind kind = OpKind::kElementwise;
  double flops = 0;
  double bytes = 0;
  DataType dtype = DataType::kUnknown;  // of the math (a GEMM's inputs, a norm's input)
  bool matrix = false;                  // GEMM, convolution, attention: runs on matrix units
  std::string shape;                    // short description, e.g. "141x512 · 512x512"
  bool assumed_dtype = false;           // a tensor list's elements were taken as 4 bytes
};

// The work of one call of `op_name` (as the trace names it, "aten::addmm"), or nullopt when the
// op has no formula or its arguments do not fit it (missing shapes, a varlen attention layout).
std::optional<OpWork> EstimateOpWork(std::string_view op_name, const OpArguments& args);

// Whether `op_name` has a formula at all (its arguments may still not fit it).
bool HasWorkFormula(std::string_view op_name);

namespace op_work {
// The families, one file each (op_work_matrix.cpp, op_work_memory.cpp). Each returns nullopt
// for names it does not know.
std::optional<OpWork> Matrix(std::string_view name, const OpArguments& args, bool* known);
std::optional<OpWork> Memory(std::string_view name, const OpArguments& args, bool* known);
}  // namespace op_work

}  // namespace teye
