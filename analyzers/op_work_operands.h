// Helpers the work formulas share (op_work_matrix.cpp, op_work_memory.cpp): an op's tensor
// operands, their bytes and their shapes as text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "teye/analyzers/op_work.h"

namespace teye::op_work {

using Dims = std::vector<int64_t>;

inline double D(int64_t v) {
  return static_cast<double>(v);
}

// The i-th argument when it is a tensor, else nullptr.
inline const OpOperand* Tensor(const OpArguments& a, size_t i) {
  const OpOperand* op = a.at(i);
  return op && op->is_tensor() ? op : nullptr;
}

// numel × element size; 0 for a missing operand.
inline double Bytes(const OpOperand* op) {
  return op ? D(op->numel()) * ElementBytes(op->type) : 0.0;
}

// "256x64x56x56"; "scalar" for no dimensions.
inline std::string DimsText(const Dims& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i)
    s += fmt::format("{}{}", i ? "x" : "", d[i]);
  return s.empty() ? "scalar" : s;
}

}  // namespace teye::op_work
