// Formulas of the ops that stream memory: norms, softmax, elementwise and copy, embedding and
// the multi-tensor optimizer (docs/metrics.md, "FLOPs and bytes per op").
#include <algorithm>

#include <fmt/format.h>

#include "teye/analyzers/op_work.h"

#include "op_work_operands.h"

namespace teye::op_work {
namespace {

// Norms and softmax: `reads` and `writes` tensors the size of the main operand, plus the
// parameter tensors (weight, bias, running statistics) read once — and written once more by a
// backward, which produces their gradients.
struct StreamLayout {
  std::string_view name;
  OpKind kind;
  size_t main;
  double flops_per_element;
  int reads, writes;
  int params[4];  // operand indexes, -1 for none
  bool backward;
};
constexpr StreamLayout kStreamLayouts[] = {
    {"native_layer_norm", OpKind::kNorm, 0, 7, 1, 1, {2, 3, -1, -1}, false},
    {"layer_norm", OpKind::kNorm, 0, 7, 1, 1, {2, 3, -1, -1}, false},
    {"native_layer_norm_backward", OpKind::kNorm, 1, 14, 2, 1, {5, 6, -1, -1}, true},
    {"native_batch_norm", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"_native_batch_norm_legit", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"_native_batch_norm_legit_no_training", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"batch_norm", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"_batch_norm_impl_index", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"cudnn_batch_norm", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"miopen_batch_norm", OpKind::kNorm, 0, 7, 1, 1, {1, 2, 3, 4}, false},
    {"native_batch_norm_backward", OpKind::kNorm, 1, 14, 2, 1, {2, -1, -1, -1}, true},
    {"cudnn_batch_norm_backward", OpKind::kNorm, 0, 14, 2, 1, {2, -1, -1, -1}, true},
    {"miopen_batch_norm_backward", OpKind::kNorm, 0, 14, 2, 1, {2, -1, -1, -1}, true},
    {"native_group_norm", OpKind::kNorm, 0, 7, 1, 1, {1, 2, -1, -1}, false},
    {"native_group_norm_backward", OpKind::kNorm, 1, 14, 2, 1, {4, -1, -1, -1}, true},
    {"rms_norm", OpKind::kNorm, 0, 4, 1, 1, {2, -1, -1, -1}, false},
    {"_fused_rms_norm", OpKind::kNorm, 0, 4, 1, 1, {2, -1, -1, -1}, false},
    {"_fused_rms_norm_backward", OpKind::kNorm, 1, 8, 2, 1, {4, -1, -1, -1}, true},
    // vLLM's custom ops: rms_norm(out, input, weight, eps); fused_add_rms_norm(input, residual,
    // weight, eps) adds the residual in place, then normalises in place.
    {"_C::rms_norm", OpKind::kNorm, 1, 4, 1, 1, {2, -1, -1, -1}, false},
    {"_C::fused_add_rms_norm", OpKind::kNorm, 0, 5, 2, 2, {2, -1, -1, -1}, false},
    {"_softmax", OpKind::kSoftmax, 0, 5, 1, 1, {-1, -1, -1, -1}, false},
    {"softmax", OpKind::kSoftmax, 0, 5, 1, 1, {-1, -1, -1, -1}, false},
    {"_log_softmax", OpKind::kSoftmax, 0, 5, 1, 1, {-1, -1, -1, -1}, false},
    {"log_softmax", OpKind::kSoftmax, 0, 5, 1, 1, {-1, -1, -1, -1}, false},
    {"_softmax_backward_data", OpKind::kSoftmax, 0, 4, 2, 1, {-1, -1, -1, -1}, true},
    {"_log_softmax_backward_data", OpKind::kSoftmax, 0, 4, 2, 1, {-1, -1, -1, -1}, true},
};

std::optional<OpWork> Stream(const StreamLayout& l, const OpArguments& args) {
  const OpOperand* x = Tensor(args, l.main);
  if (!x) return std::nullopt;
  const double n = D(x->numel());
  OpWork w;
  w.kind = l.kind;
  w.dtype = DataTypeOf(x->type);
  w.flops = l.flops_per_element * n;
  w.bytes = (l.reads + l.writes) * n * ElementBytes(x->type);
  for (int p : l.params)
    if (p >= 0) w.bytes += Bytes(Tensor(args, static_cast<size_t>(p))) * (l.backward ? 2 : 1);
  w.shape = DimsText(x->dims);
  return w;
}

// Arithmetic operations per output element, from each op's definition, and the number of
// arguments of its functional form: tensors recorded after those are `out=` destinations.
struct ElementwiseEntry {
  std::string_view name;
  double flops;
  size_t arity;
};
constexpr ElementwiseEntry kElementwise[] = {
    {"add", 1, 3},  // self, other, alpha
    {"sub", 1, 3},
    {"rsub", 1, 3},
    {"mul", 1, 2},
    {"div", 1, 3},  // self, other[, rounding_mode]
    {"neg", 1, 1},
    {"abs", 1, 1},
    {"reciprocal", 1, 1},
    {"exp", 1, 1},
    {"exp2", 1, 1},
    {"expm1", 1, 1},
    {"log", 1, 1},
    {"log2", 1, 1},
    {"log10", 1, 1},
    {"log1p", 1, 1},
    {"sqrt", 1, 1},
    {"rsqrt", 1, 1},
    {"pow", 1, 2},
    {"square", 1, 1},
    {"sin", 1, 1},
    {"cos", 1, 1},
    {"tanh", 1, 1},
    {"sigmoid", 1, 1},
    {"relu", 1, 1},
    {"gelu", 1, 2},  // self, approximate
    {"silu", 1, 1},
    {"mish", 1, 1},
    {"hardswish", 1, 1},
    {"hardsigmoid", 1, 1},
    {"hardtanh", 1, 3},
    {"leaky_relu", 1, 2},
    {"elu", 1, 4},
    {"softplus", 1, 3},
    {"erf", 1, 1},
    {"sign", 1, 1},
    {"floor", 1, 1},
    {"ceil", 1, 1},
    {"round", 1, 1},
    {"trunc", 1, 1},
    {"clamp", 1, 3},
    {"clamp_min", 1, 2},
    {"clamp_max", 1, 2},
    {"maximum", 1, 2},
    {"minimum", 1, 2},
    {"where", 1, 3},
    {"masked_fill", 1, 3},
    {"threshold", 1, 3},
    {"threshold_backward", 1, 3},
    {"gelu_backward", 1, 3},
    {"silu_backward", 1, 2},
    {"sigmoid_backward", 1, 2},
    {"tanh_backward", 1, 2},
    {"eq", 1, 2},
    {"ne", 1, 2},
    {"lt", 1, 2},
    {"le", 1, 2},
    {"gt", 1, 2},
    {"ge", 1, 2},
    {"logical_and", 1, 2},
    {"logical_or", 1, 2},
    {"logical_not", 1, 1},
    {"bitwise_and", 1, 2},
    {"bitwise_or", 1, 2},
    {"bitwise_xor", 1, 2},
    {"bitwise_not", 1, 1},
    {"nan_to_num", 1, 4},
    // self + value·t1·t2, self + value·t1/t2, self + weight·(end − self)
    {"addcmul", 3, 4},
    {"addcdiv", 3, 4},
    {"lerp", 3, 3},
    // Writes only.
    {"fill", 0, 2},
    {"zero", 0, 1},
};

const ElementwiseEntry* FindElementwise(std::string_view base) {
  for (const ElementwiseEntry& e : kElementwise)
    if (e.name == base) return &e;
  return nullptr;
}

std::string_view WithoutTrailingUnderscore(std::string_view name) {
  if (name.size() > 1 && name.back() == '_') name.remove_suffix(1);
  return name;
}

// The broadcast shape of every tensor operand.
Dims BroadcastShape(const OpArguments& args) {
  Dims out;
  for (const OpOperand& op : args.operands) {
    if (!op.is_tensor()) continue;
    const Dims& d = op.dims;
    if (d.size() > out.size()) out.insert(out.begin(), d.size() - out.size(), 1);
    for (size_t i = 0; i < d.size(); ++i) {
      int64_t& o = out[out.size() - d.size() + i];
      o = std::max(o, d[i]);
    }
  }
  return out;
}

// Every input tensor read once, the result written once: into self for in-place ops, into the
// `out=` tensor when one was passed, else a new tensor of the inputs' broadcast shape.
std::optional<OpWork> Elementwise(const ElementwiseEntry& e, const OpArguments& args) {
  OpArguments inputs;
  const OpOperand* out = nullptr;
  for (size_t i = 0; i < args.operands.size(); ++i) {
    const OpOperand& op = args.operands[i];
    if (i >= e.arity && op.is_tensor())
      out = &op;
    else
      inputs.operands.push_back(op);
  }
  const OpOperand* first = nullptr;
  for (const OpOperand& op : inputs.operands)
    if (op.is_tensor()) {
      first = &op;
      break;
    }
  if (!first) return std::nullopt;
  const Dims shape = out ? out->dims : BroadcastShape(inputs);
  const double n = D(Numel(shape));
  OpWork w;
  w.kind = OpKind::kElementwise;
  w.dtype = DataTypeOf(first->type);
  w.flops = e.flops * n;
  w.bytes = n * ElementBytes(out ? out->type : first->type);
  const bool writes_only = e.flops == 0;  // fill_, zero_: self is not read
  if (!writes_only)
    for (const OpOperand& op : inputs.operands)
      if (op.is_tensor()) w.bytes += Bytes(&op);
  w.shape = DimsText(shape);
  return w;
}

// copy_(self, src): src read, self written.
std::optional<OpWork> Copy(const OpArguments& args) {
  const OpOperand* self = Tensor(args, 0);
  const OpOperand* src = Tensor(args, 1);
  if (!self || !src) return std::nullopt;
  OpWork w;
  w.kind = OpKind::kCopy;
  w.dtype = DataTypeOf(src->type);
  w.bytes = Bytes(self) + Bytes(src);
  w.shape = DimsText(self->dims);
  return w;
}

// native_dropout(input, p, train): the input read, the output and a one-byte mask written; a
// comparison and a scaling multiply per element.
std::optional<OpWork> Dropout(const OpArguments& args) {
  const OpOperand* x = Tensor(args, 0);
  if (!x) return std::nullopt;
  OpWork w;
  w.kind = OpKind::kElementwise;
  w.dtype = DataTypeOf(x->type);
  w.flops = 2 * D(x->numel());
  w.bytes = 2 * Bytes(x) + D(x->numel());
  w.shape = DimsText(x->dims);
  return w;
}

// embedding(weight[V, D], indices): each index reads one row of D and writes it.
std::optional<OpWork> Embedding(const OpArguments& args) {
  const OpOperand* table = Tensor(args, 0);
  const OpOperand* idx = Tensor(args, 1);
  if (!table || !idx || table->dims.size() != 2) return std::nullopt;
  const double rows = D(idx->numel()), width = D(table->dims[1]);
  OpWork w;
  w.kind = OpKind::kEmbedding;
  w.dtype = DataTypeOf(table->type);
  w.bytes = 2 * rows * width * ElementBytes(table->type) + Bytes(idx);
  w.shape = fmt::format("{} rows of {}", rows, DimsText(table->dims));
  return w;
}

// index_select(self, dim, index): numel(index) slices of self along dim, read and written.
std::optional<OpWork> IndexSelect(const OpArguments& args) {
  const OpOperand* self = Tensor(args, 0);
  const OpOperand* idx = Tensor(args, 2);
  if (!self || !idx || self->dims.empty()) return std::nullopt;
  int64_t dim = 0;
  if (const OpOperand* d = args.at(1)) {
    auto v = d->concrete_ints();
    if (v.size() == 1) dim = v[0];
  }
  if (dim < 0) dim += static_cast<int64_t>(self->dims.size());
  if (dim < 0 || dim >= static_cast<int64_t>(self->dims.size()) || self->dims[dim] <= 0)
    return std::nullopt;
  const double slice = D(self->numel()) / D(self->dims[static_cast<size_t>(dim)]);
  const double out = D(idx->numel()) * slice;
  OpWork w;
  w.kind = OpKind::kEmbedding;
  w.dtype = DataTypeOf(self->type);
  w.bytes = 2 * out * ElementBytes(self->type) + Bytes(idx);
  w.shape = fmt::format("{} slices of {}", idx->numel(), DimsText(self->dims));
  return w;
}

// embedding_dense_backward(grad_output, indices, num_weights, ...): the gradient and indices
// read, a num_weights x D gradient written; one add per gradient element.
std::optional<OpWork> EmbeddingBackward(const OpArguments& args) {
  const OpOperand* grad = Tensor(args, 0);
  const OpOperand* idx = Tensor(args, 1);
  const OpOperand* count = args.at(2);
  if (!grad || !idx || !count || grad->dims.empty()) return std::nullopt;
  auto v = count->concrete_ints();
  if (v.size() != 1 || v[0] <= 0) return std::nullopt;
  OpWork w;
  w.kind = OpKind::kEmbedding;
  w.dtype = DataTypeOf(grad->type);
  w.flops = D(grad->numel());
  w.bytes = Bytes(grad) + Bytes(idx) + D(v[0]) * D(grad->dims.back()) * ElementBytes(grad->type);
  w.shape = fmt::format("{} rows of {}", v[0], grad->dims.back());
  return w;
}

// Tensor lists record no element type: their elements are taken as 4 bytes (fp32 master
// weights and optimizer state, the usual case), and the work says so.
constexpr int kAssumedListElementBytes = 4;

// _foreach_<op>(list, list|scalar, ...): the elementwise op over every element of the lists.
std::optional<OpWork> Foreach(std::string_view base, const OpArguments& args) {
  const ElementwiseEntry* e = FindElementwise(WithoutTrailingUnderscore(base));
  const bool copy = WithoutTrailingUnderscore(base) == "copy";
  if (!e && !copy) return std::nullopt;
  const OpOperand* self = args.at(0);
  if (!self || !self->is_list) return std::nullopt;
  const double n = D(self->numel());
  double read = 0;
  for (const OpOperand& op : args.operands)
    if (op.is_list) read += D(op.numel());
  OpWork w;
  w.kind = OpKind::kOptimizer;
  w.dtype = DataType::kFp32;
  w.assumed_dtype = true;
  const bool writes_only = e && e->flops == 0;
  w.flops = e ? e->flops * n : 0.0;
  if (copy) read -= n;  // _foreach_copy_(self, src): self only written
  w.bytes = ((writes_only ? 0.0 : read) + n) * kAssumedListElementBytes;
  w.shape = fmt::format("{} tensors, {} elements", self->list.size(), self->numel());
  return w;
}

// _fused_adam_/_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, ...):
// per element m = β1·m + (1−β1)·g (3), v = β2·v + (1−β2)·g² (4), denom = √v/√bc2 + ε (3),
// p −= (lr/bc1)·m/denom (3): 13 FLOPs, 15 with AdamW's decoupled decay p −= lr·λ·p; params,
// exp_avgs and exp_avg_sqs read and written, grads read (and max_exp_avg_sqs with amsgrad).
// _fused_sgd_(params, grads, momentum_buffers, ...): p −= lr·g (2), with momentum
// buf = μ·buf + g first (2 more) and buf read and written.
std::optional<OpWork> FusedOptimizer(std::string_view name, const OpArguments& args) {
  const OpOperand* params = args.at(0);
  if (!params || !params->is_list) return std::nullopt;
  const double n = D(params->numel());
  double flops_per = 0, accesses = 0;
  if (name == "_fused_adam_" || name == "_fused_adamw_") {
    flops_per = name == "_fused_adamw_" ? 15 : 13;
    accesses = 7;
    if (const OpOperand* max_sq = args.at(4); max_sq && max_sq->is_list && max_sq->numel() > 0)
      accesses += 2;
  } else {
    const OpOperand* buffers = args.at(2);
    const bool momentum = buffers && buffers->is_list && buffers->numel() > 0;
    flops_per = momentum ? 4 : 2;
    accesses = momentum ? 5 : 3;
  }
  OpWork w;
  w.kind = OpKind::kOptimizer;
  w.dtype = DataType::kFp32;
  w.assumed_dtype = true;
  w.flops = flops_per * n;
  w.bytes = accesses * n * kAssumedListElementBytes;
  w.shape = fmt::format("{} tensors, {} elements", params->list.size(), params->numel());
  return w;
}

}  // namespace

std::optional<OpWork> Memory(std::string_view name, const OpArguments& args, bool* known) {
  *known = true;
  for (const StreamLayout& l : kStreamLayouts)
    if (name == l.name) return Stream(l, args);
  if (name == "copy_") return Copy(args);
  if (name == "native_dropout") return Dropout(args);
  if (name == "embedding") return Embedding(args);
  if (name == "index_select") return IndexSelect(args);
  if (name == "embedding_dense_backward") return EmbeddingBackward(args);
  if (name == "_fused_adam_" || name == "_fused_adamw_" || name == "_fused_sgd_")
    return FusedOptimizer(name, args);
  if (name.starts_with("_foreach_")) {
    if (auto w = Foreach(name.substr(9), args)) return w;
    *known = FindElementwise(WithoutTrailingUnderscore(name.substr(9))) != nullptr ||
             WithoutTrailingUnderscore(name.substr(9)) == "copy";
    return std::nullopt;
  }
  if (const ElementwiseEntry* e = FindElementwise(WithoutTrailingUnderscore(name)))
    return Elementwise(*e, args);
  *known = false;
  return std::nullopt;
}

}  // namespace teye::op_work
