// The arguments of one operator as the PyTorch profiler recorded them (record_shapes=True):
// `Input Dims`, `Input type`, `Input Strides` and `Concrete Inputs`, decoded from the model's
// OpShapeTable into one operand per argument.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "teye/model/trace.h"

namespace teye {

// Element types that have their own peak rates (device_peaks.h).
enum class DataType : uint8_t { kUnknown, kFp64, kFp32, kFp16, kBf16, kFp8, kInt8, kInt, kBool };
std::string_view ToString(DataType t);  // "fp32", "bf16", ...

// The element type of a recorded type name: "float" and "Float" are kFp32, "c10::BFloat16"
// kBf16, "long int" kInt, ...; kUnknown for "Scalar", "TensorList", "" and anything else.
DataType DataTypeOf(std::string_view recorded_type);
// Bytes per element of a recorded type name; 0 when it is not a tensor element type.
int ElementBytes(std::string_view recorded_type);

struct OpOperand {
  std::vector<int64_t> dims;               // a tensor's shape ([] for a 0-d tensor)
  std::vector<std::vector<int64_t>> list;  // a TensorList's shapes
  std::string type;                        // as recorded: "float", "Scalar", "TensorList", ""
  std::string concrete;                    // `Concrete Inputs` value ("1", "[1, 1]", "False")
  bool is_list = false;                    // dims were a list of shapes (TensorList)

  // A tensor: an element type was recorded for it.
  bool is_tensor() const { return ElementBytes(type) > 0; }
  // Elements of the tensor (1 for a 0-d tensor), or of every tensor of a list; 0 otherwise.
  int64_t numel() const;
  // The concrete value as integers: "3" → {3}, "[1, 2]" → {1, 2}; empty when not integers.
  std::vector<int64_t> concrete_ints() const;
  // The concrete value as a boolean; `fallback` when it is neither "True" nor "False".
  bool concrete_bool(bool fallback) const;
};

struct OpArguments {
  std::vector<OpOperand> operands;
  bool has_concrete = false;  // the trace recorded `Concrete Inputs`
  const OpOperand* at(size_t i) const { return i < operands.size() ? &operands[i] : nullptr; }
};

// Decodes the recorded argument lists (each a JSON array as OpShapeTable holds it). Text that is
// not what the profiler writes yields fewer or emptier operands, never an error.
OpArguments DecodeOpArguments(std::string_view input_dims, std::string_view input_types,
                              std::string_view concrete_inputs);
// The arguments recorded for an OpShapeTable row.
OpArguments DecodeOpArguments(const Trace& trace, RowIndex shapes_row);

// Product of dims (1 for []), saturating instead of overflowing.
int64_t Numel(const std::vector<int64_t>& dims);

}  // namespace teye
