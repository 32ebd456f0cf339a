#include "teye/analyzers/op_arguments.h"

#include <charconv>
#include <limits>

namespace teye {
namespace {

struct TypeEntry {
  std::string_view name;
  DataType type;
  int bytes;
};

// The names the profiler writes: caffe2::TypeMeta names in recent versions ("float",
// "c10::Half", "long int"), ScalarType names in older ones ("Float", "Half", "Long").
constexpr TypeEntry kTypes[] = {
    {"float", DataType::kFp32, 4},
    {"Float", DataType::kFp32, 4},
    {"double", DataType::kFp64, 8},
    {"Double", DataType::kFp64, 8},
    {"c10::Half", DataType::kFp16, 2},
    {"Half", DataType::kFp16, 2},
    {"c10::BFloat16", DataType::kBf16, 2},
    {"BFloat16", DataType::kBf16, 2},
    {"c10::Float8_e4m3fn", DataType::kFp8, 1},
    {"c10::Float8_e5m2", DataType::kFp8, 1},
    {"c10::Float8_e4m3fnuz", DataType::kFp8, 1},
    {"c10::Float8_e5m2fnuz", DataType::kFp8, 1},
    {"Float8_e4m3fn", DataType::kFp8, 1},
    {"Float8_e5m2", DataType::kFp8, 1},
    {"signed char", DataType::kInt8, 1},
    {"Char", DataType::kInt8, 1},
    {"unsigned char", DataType::kInt8, 1},
    {"Byte", DataType::kInt8, 1},
    {"long int", DataType::kInt, 8},
    {"long", DataType::kInt, 8},
    {"Long", DataType::kInt, 8},
    {"int", DataType::kInt, 4},
    {"Int", DataType::kInt, 4},
    {"short int", DataType::kInt, 2},
    {"short", DataType::kInt, 2},
    {"Short", DataType::kInt, 2},
    {"bool", DataType::kBool, 1},
    {"Bool", DataType::kBool, 1},
    {"c10::complex<float>", DataType::kFp32, 8},
    {"c10::complex<double>", DataType::kFp64, 16},
    {"c10::complex<c10::Half>", DataType::kFp16, 4},
};

const TypeEntry* FindType(std::string_view name) {
  for (const TypeEntry& e : kTypes)
    if (e.name == name) return &e;
  return nullptr;
}

// A reader for the small JSON subset the profiler writes in these lists: arrays, integers,
// strings (no escapes other than \" and \\ matter here) and, rarely, other scalars.
class ListReader {
 public:
  explicit ListReader(std::string_view text) : s_(text) {}

  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool done() const { return pos_ >= s_.size(); }

  bool Integer(int64_t& out) {
    const char* begin = s_.data() + pos_;
    const char* end = s_.data() + s_.size();
    auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec != std::errc()) return false;
    pos_ += static_cast<size_t>(ptr - begin);
    return true;
  }
  bool String(std::string& out) {
    out.clear();
    if (!Eat('"')) return false;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    return Eat('"');
  }
  // Skips one value of any kind (an unexpected element).
  void Skip() {
    int depth = 0;
    bool in_string = false;
    for (; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (in_string) {
        if (c == '\\')
          ++pos_;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"')
        in_string = true;
      else if (c == '[' || c == '{')
        ++depth;
      else if (c == ']' || c == '}') {
        if (depth == 0) return;
        if (--depth == 0) {
          ++pos_;
          return;
        }
      } else if (c == ',' && depth == 0) {
        return;
      }
    }
  }
  // [int, int, ...]
  bool IntList(std::vector<int64_t>& out) {
    out.clear();
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    do {
      int64_t v = 0;
      if (!Integer(v)) return false;
      out.push_back(v);
    } while (Eat(','));
    return Eat(']');
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

void DecodeDims(std::string_view text, std::vector<OpOperand>& operands) {
  ListReader r(text);
  if (!r.Eat('[')) return;
  size_t i = 0;
  while (!r.done() && !r.Peek(']')) {
    if (operands.size() <= i) operands.resize(i + 1);
    OpOperand& op = operands[i];
    if (r.Peek('[')) {
      // A shape [..] or a list of shapes [[..], [..]].
      r.Eat('[');
      if (r.Peek('[')) {
        op.is_list = true;
        do {
          std::vector<int64_t> dims;
          if (!r.IntList(dims)) return;
          op.list.push_back(std::move(dims));
        } while (r.Eat(','));
        if (!r.Eat(']')) return;
      } else if (!r.Eat(']')) {
        do {
          int64_t v = 0;
          if (!r.Integer(v)) return;
          op.dims.push_back(v);
        } while (r.Eat(','));
        if (!r.Eat(']')) return;
      }
    } else {
      r.Skip();
    }
    ++i;
    if (!r.Eat(',')) break;
  }
}

void DecodeStrings(std::string_view text, std::vector<OpOperand>& operands, bool types) {
  ListReader r(text);
  if (!r.Eat('[')) return;
  size_t i = 0;
  std::string value;
  while (!r.done() && !r.Peek(']')) {
    if (operands.size() <= i) operands.resize(i + 1);
    if (r.Peek('"')) {
      if (!r.String(value)) return;
      (types ? operands[i].type : operands[i].concrete) = value;
    } else {
      r.Skip();
    }
    ++i;
    if (!r.Eat(',')) break;
  }
}

}  // namespace

std::string_view ToString(DataType t) {
  switch (t) {
    case DataType::kFp64:
      return "fp64";
    case DataType::kFp32:
      return "fp32";
    case DataType::kFp16:
      return "fp16";
    case DataType::kBf16:
      return "bf16";
    case DataType::kFp8:
      return "fp8";
    case DataType::kInt8:
      return "int8";
    case DataType::kInt:
      return "int";
    case DataType::kBool:
      return "bool";
    case DataType::kUnknown:
      break;
  }
  return "unknown";
}

DataType DataTypeOf(std::string_view recorded_type) {
  const TypeEntry* e = FindType(recorded_type);
  return e ? e->type : DataType::kUnknown;
}

int ElementBytes(std::string_view recorded_type) {
  const TypeEntry* e = FindType(recorded_type);
  return e ? e->bytes : 0;
}

int64_t Numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) return 0;
    if (n > std::numeric_limits<int64_t>::max() / d) return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

int64_t OpOperand::numel() const {
  if (is_list) {
    int64_t n = 0;
    for (const auto& shape : list)
      n += Numel(shape);
    return n;
  }
  return is_tensor() ? Numel(dims) : 0;
}

std::vector<int64_t> OpOperand::concrete_ints() const {
  std::vector<int64_t> out;
  std::string_view s = concrete;
  size_t pos = 0;
  auto skip = [&] {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '[' || s[pos] == ']' || s[pos] == ','))
      ++pos;
  };
  skip();
  while (pos < s.size()) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), v);
    if (ec != std::errc()) return {};
    out.push_back(v);
    pos = static_cast<size_t>(ptr - s.data());
    skip();
  }
  return out;
}

bool OpOperand::concrete_bool(bool fallback) const {
  if (concrete == "True" || concrete == "true" || concrete == "1") return true;
  if (concrete == "False" || concrete == "false" || concrete == "0") return false;
  return fallback;
}

OpArguments DecodeOpArguments(std::string_view input_dims, std::string_view input_types,
                              std::string_view concrete_inputs) {
  OpArguments a;
  DecodeDims(input_dims, a.operands);
  DecodeStrings(input_types, a.operands, true);
  DecodeStrings(concrete_inputs, a.operands, false);
  a.has_concrete = !concrete_inputs.empty();
  return a;
}

OpArguments DecodeOpArguments(const Trace& trace, RowIndex row) {
  const OpShapeTable& t = trace.op_shapes();
  if (row < 0 || static_cast<size_t>(row) >= t.size()) return {};
  const auto r = static_cast<size_t>(row);
  return DecodeOpArguments(trace.str(t.input_dims[r]), trace.str(t.input_types[r]),
                           trace.str(t.concrete_inputs[r]));
}

}  // namespace teye
