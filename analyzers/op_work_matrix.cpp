// GEMM, convolution and attention formulas (docs/metrics.md, "FLOPs and bytes per op").
#include <algorithm>

#include <fmt/format.h>

#include "teye/analyzers/op_work.h"

#include "op_work_operands.h"

namespace teye::op_work {
namespace {

OpWork Gemm(double batch, double m, double n, double k, const OpOperand& a) {
  OpWork w;
  w.kind = OpKind::kGemm;
  w.matrix = true;
  w.dtype = DataTypeOf(a.type);
  w.flops = 2 * batch * m * n * k;
  const int e = ElementBytes(a.type);
  w.bytes = e * batch * (m * k + k * n + m * n);
  w.shape = batch > 1 ? fmt::format("{}x({}x{} · {}x{})", batch, m, k, k, n)
                      : fmt::format("{}x{} · {}x{}", m, k, k, n);
  return w;
}

// mm(A[M,K], B[K,N]); _scaled_mm(A, B, ...) the same with FP8 inputs.
std::optional<OpWork> Mm(const OpArguments& args, size_t a_index) {
  const OpOperand* a = Tensor(args, a_index);
  const OpOperand* b = Tensor(args, a_index + 1);
  if (!a || !b || a->dims.size() != 2 || b->dims.size() != 2 || a->dims[1] != b->dims[0])
    return std::nullopt;
  OpWork w = Gemm(1, D(a->dims[0]), D(b->dims[1]), D(a->dims[1]), *a);
  // B may have another element type (fp8 x fp8 -> bf16 keeps A's): its bytes as recorded.
  w.bytes += D(b->numel()) * (ElementBytes(b->type) - ElementBytes(a->type));
  return w;
}

// addmm(C, A, B, beta, alpha): alpha·A·B + beta·C, the bias add M·N more FLOPs unless beta is 0.
std::optional<OpWork> Addmm(const OpArguments& args, bool batched) {
  const size_t rank = batched ? 3 : 2;
  const OpOperand* c = Tensor(args, 0);
  const OpOperand* a = Tensor(args, 1);
  const OpOperand* b = Tensor(args, 2);
  if (!a || !b || a->dims.size() != rank || b->dims.size() != rank) return std::nullopt;
  const size_t k_at = rank - 1;
  if (a->dims[k_at] != b->dims[rank - 2]) return std::nullopt;
  if (batched && a->dims[0] != b->dims[0]) return std::nullopt;
  const double batch = batched ? D(a->dims[0]) : 1.0;
  const double m = D(a->dims[rank - 2]), n = D(b->dims[k_at]), k = D(a->dims[k_at]);
  OpWork w = Gemm(batch, m, n, k, *a);
  const OpOperand* beta = args.at(3);
  const bool uses_c = c && !(beta && beta->concrete == "0");
  if (uses_c) {
    w.flops += batch * m * n;
    w.bytes += Bytes(c);
  }
  return w;
}

// bmm(A[b,M,K], B[b,K,N]).
std::optional<OpWork> Bmm(const OpArguments& args) {
  const OpOperand* a = Tensor(args, 0);
  const OpOperand* b = Tensor(args, 1);
  if (!a || !b || a->dims.size() != 3 || b->dims.size() != 3 || a->dims[0] != b->dims[0] ||
      a->dims[2] != b->dims[1])
    return std::nullopt;
  return Gemm(D(a->dims[0]), D(a->dims[1]), D(b->dims[2]), D(a->dims[2]), *a);
}

// matmul(A, B) with torch.matmul's rules: 1-D operands gain a dimension of 1, leading
// dimensions broadcast into a batch.
std::optional<OpWork> Matmul(const OpArguments& args) {
  const OpOperand* a = Tensor(args, 0);
  const OpOperand* b = Tensor(args, 1);
  if (!a || !b || a->dims.empty() || b->dims.empty()) return std::nullopt;
  Dims da = a->dims, db = b->dims;
  if (da.size() == 1) da.insert(da.begin(), 1);
  if (db.size() == 1) db.push_back(1);
  const int64_t m = da[da.size() - 2], k = da.back(), n = db.back();
  if (db[db.size() - 2] != k) return std::nullopt;
  Dims ba(da.begin(), da.end() - 2), bb(db.begin(), db.end() - 2);
  Dims batch(std::max(ba.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    const int64_t x = i < ba.size() ? ba[ba.size() - 1 - i] : 1;
    const int64_t y = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    batch[batch.size() - 1 - i] = std::max(x, y);
  }
  const double nb = D(Numel(batch));
  OpWork w = Gemm(nb, D(m), D(n), D(k), *a);
  w.bytes = Bytes(a) + Bytes(b) + nb * D(m) * D(n) * ElementBytes(a->type);
  return w;
}

// linear(X[..., K], W[N, K], bias[N]?): X·Wᵀ (+ bias).
std::optional<OpWork> Linear(const OpArguments& args) {
  const OpOperand* x = Tensor(args, 0);
  const OpOperand* wt = Tensor(args, 1);
  if (!x || !wt || x->dims.empty() || wt->dims.size() != 2 || x->dims.back() != wt->dims[1])
    return std::nullopt;
  const double k = D(x->dims.back()), n = D(wt->dims[0]);
  const double m = D(x->numel()) / k;
  OpWork w = Gemm(1, m, n, k, *x);
  w.bytes = Bytes(x) + Bytes(wt) + m * n * ElementBytes(x->type);
  if (const OpOperand* bias = Tensor(args, 2)) {
    w.flops += m * n;
    w.bytes += Bytes(bias);
  }
  return w;
}

// Where a convolution op keeps its arguments.
struct ConvLayout {
  std::string_view name;
  int bias, stride, padding, dilation, transposed, output_padding, groups;  // -1: not an argument
  bool always_transposed;
};
constexpr ConvLayout kConvLayouts[] = {
    {"conv1d", 2, 3, 4, 5, -1, -1, 6, false},
    {"conv2d", 2, 3, 4, 5, -1, -1, 6, false},
    {"conv3d", 2, 3, 4, 5, -1, -1, 6, false},
    {"convolution", 2, 3, 4, 5, 6, 7, 8, false},
    {"_convolution", 2, 3, 4, 5, 6, 7, 8, false},
    {"cudnn_convolution", -1, 3, 2, 4, -1, -1, 5, false},
    {"cudnn_convolution_relu", 2, 3, 4, 5, -1, -1, 6, false},
    {"miopen_convolution", 2, 4, 3, 5, -1, -1, 6, false},
    {"mkldnn_convolution", 2, 4, 3, 5, -1, -1, 6, false},
    {"cudnn_convolution_transpose", -1, 4, 2, 5, -1, 3, 6, true},
    {"conv_transpose1d", 2, 3, 4, 7, -1, 5, 6, true},
    {"conv_transpose2d", 2, 3, 4, 7, -1, 5, 6, true},
    {"conv_transpose3d", 2, 3, 4, 7, -1, 5, 6, true},
};

// One spatial parameter per dimension: [s] broadcasts; a missing argument is `fallback`.
Dims Spatial(const OpArguments& args, int index, size_t n, int64_t fallback) {
  Dims out(n, fallback);
  if (index < 0) return out;
  const OpOperand* op = args.at(static_cast<size_t>(index));
  if (!op) return out;
  Dims v = op->concrete_ints();
  if (v.size() == 1) return Dims(n, v[0]);
  if (v.size() == n) return v;
  return out;
}

// Forward FLOPs of a convolution from its input (non-transposed: output) spatial size: each
// output (input, when transposed) element takes a dot product with Cin/groups·Πk weights per
// output channel, i.e. 2·N·Π(spatial)·numel(W) in all.
double ConvFlops(const Dims& x_or_y, const OpOperand& weight) {
  double spatial = 1;
  for (size_t i = 2; i < x_or_y.size(); ++i)
    spatial *= D(x_or_y[i]);
  return 2 * D(x_or_y[0]) * spatial * D(weight.numel());
}

std::optional<OpWork> Convolution(const ConvLayout& l, const OpArguments& args) {
  const OpOperand* x = Tensor(args, 0);
  const OpOperand* wt = Tensor(args, 1);
  if (!x || !wt || x->dims.size() < 3 || wt->dims.size() != x->dims.size()) return std::nullopt;
  const size_t n = x->dims.size() - 2;
  bool transposed = l.always_transposed;
  if (l.transposed >= 0)
    if (const OpOperand* t = args.at(static_cast<size_t>(l.transposed)))
      transposed = t->concrete_bool(transposed);
  // Without concrete strides/padding the output size is unknown, except in the common case the
  // op cannot tell (stride 1, no padding) — so do not guess: no concrete inputs, no formula.
  if (!args.has_concrete) return std::nullopt;
  const Dims stride = Spatial(args, l.stride, n, 1);
  const Dims dilation = Spatial(args, l.dilation, n, 1);
  const Dims out_pad = Spatial(args, l.output_padding, n, 0);
  Dims padding = Spatial(args, l.padding, n, 0);
  bool same = false;
  if (l.padding >= 0)
    if (const OpOperand* p = args.at(static_cast<size_t>(l.padding))) same = p->concrete == "same";
  int64_t groups = 1;
  if (l.groups >= 0)
    if (const OpOperand* g = args.at(static_cast<size_t>(l.groups))) {
      auto v = g->concrete_ints();
      if (v.size() == 1 && v[0] > 0) groups = v[0];
    }
  // Weights are [Cout, Cin/groups, k...], or [Cin, Cout/groups, k...] when transposed.
  Dims y = {x->dims[0], transposed ? wt->dims[1] * groups : wt->dims[0]};
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = x->dims[2 + i], k = wt->dims[2 + i];
    int64_t out;
    if (transposed)
      out = (in - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + out_pad[i] + 1;
    else if (same)
      out = in;
    else
      out = (in + 2 * padding[i] - dilation[i] * (k - 1) - 1) / std::max<int64_t>(stride[i], 1) + 1;
    if (out <= 0) return std::nullopt;
    y.push_back(out);
  }
  OpWork w;
  w.kind = OpKind::kConvolution;
  w.matrix = true;
  w.dtype = DataTypeOf(x->type);
  w.flops = ConvFlops(transposed ? x->dims : y, *wt);
  const int e = ElementBytes(x->type);
  w.bytes = Bytes(x) + Bytes(wt) + D(Numel(y)) * e;
  if (l.bias >= 0)
    if (const OpOperand* bias = Tensor(args, static_cast<size_t>(l.bias))) {
      w.flops += D(Numel(y));
      w.bytes += Bytes(bias);
    }
  w.shape = fmt::format("{} * {} -> {}", DimsText(x->dims), DimsText(wt->dims), DimsText(y));
  return w;
}

// convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation,
// transposed, output_padding, groups, output_mask), and PyTorch 1.x's
// cudnn_convolution_backward(input, grad_output, weight, ..., output_mask): the gradients named
// by output_mask each cost the forward's FLOPs; the bias gradient one add per grad_output element.
std::optional<OpWork> ConvolutionBackward(const OpArguments& args, size_t grad_at, size_t input_at,
                                          int transposed_at, size_t mask_at) {
  const OpOperand* gy = Tensor(args, grad_at);
  const OpOperand* x = Tensor(args, input_at);
  const OpOperand* wt = Tensor(args, 2);
  if (!gy || !x || !wt || gy->dims.size() < 3 || x->dims.size() != gy->dims.size())
    return std::nullopt;
  bool transposed = false;
  if (transposed_at >= 0)
    if (const OpOperand* t = args.at(static_cast<size_t>(transposed_at)))
      transposed = t->concrete_bool(false);
  bool mask[3] = {true, true, false};  // when output_mask was not recorded
  if (const OpOperand* m = args.at(mask_at); m && !m->concrete.empty()) {
    // "[True, True, False]"
    size_t found = 0;
    for (size_t pos = 0; found < 3 && pos < m->concrete.size();) {
      if (m->concrete.compare(pos, 4, "True") == 0) {
        mask[found++] = true;
        pos += 4;
      } else if (m->concrete.compare(pos, 5, "False") == 0) {
        mask[found++] = false;
        pos += 5;
      } else {
        ++pos;
      }
    }
  }
  OpWork w;
  w.kind = OpKind::kConvolution;
  w.matrix = true;
  w.dtype = DataTypeOf(gy->type);
  const double forward = ConvFlops(transposed ? x->dims : gy->dims, *wt);
  w.flops = forward * (mask[0] + mask[1]) + (mask[2] ? D(gy->numel()) : 0.0);
  w.bytes = Bytes(gy) + Bytes(x) + Bytes(wt) + (mask[0] ? Bytes(x) : 0.0) +
            (mask[1] ? Bytes(wt) : 0.0) + (mask[2] ? D(gy->dims[1]) * ElementBytes(gy->type) : 0.0);
  w.shape = fmt::format("backward of {} * {} -> {}", DimsText(x->dims), DimsText(wt->dims),
                        DimsText(gy->dims));
  return w;
}

// Where an attention op keeps q, k, v and its causal flag, and how q is laid out.
struct AttentionLayout {
  std::string_view name;
  size_t q;    // index of q; k and v follow
  int causal;  // index of is_causal (or custom_mask_type, nonzero = causal); -1 none
  bool bshd;   // q is [batch, seq, heads, dim] rather than [batch, heads, seq, dim]
  bool backward;
};
constexpr AttentionLayout kAttentionLayouts[] = {
    {"scaled_dot_product_attention", 0, 5, false, false},
    {"_scaled_dot_product_flash_attention", 0, 4, false, false},
    {"_scaled_dot_product_efficient_attention", 0, 6, false, false},
    {"_scaled_dot_product_cudnn_attention", 0, 6, false, false},
    {"_flash_attention_forward", 0, 8, true, false},
    {"_efficient_attention_forward", 0, 9, true, false},
    {"_scaled_dot_product_flash_attention_backward", 1, 11, false, true},
    {"_scaled_dot_product_efficient_attention_backward", 1, 11, false, true},
    {"_scaled_dot_product_cudnn_attention_backward", 1, 14, false, true},
    {"_flash_attention_backward", 1, 11, true, true},
    {"_efficient_attention_backward", 1, 14, true, true},
};

// Forward: S = QKᵀ is 2·B·H·Lq·Lk·D FLOPs and O = PV 2·B·H·Lq·Lk·Dv; a causal mask halves both.
// Backward: 2.5 times the forward (five matrix products instead of two), FlashAttention's count.
std::optional<OpWork> Attention(const AttentionLayout& l, const OpArguments& args) {
  const OpOperand* q = Tensor(args, l.q);
  const OpOperand* k = Tensor(args, l.q + 1);
  const OpOperand* v = Tensor(args, l.q + 2);
  if (!q || !k || !v) return std::nullopt;
  double b, h, lq, lk;
  if (l.bshd) {
    // [batch, seq, heads, dim]; a 3-D q is the varlen layout, whose lengths are not recorded.
    if (q->dims.size() != 4 || k->dims.size() != 4 || v->dims.size() != 4) return std::nullopt;
    b = D(q->dims[0]);
    h = D(q->dims[2]);
    lq = D(q->dims[1]);
    lk = D(k->dims[1]);
  } else {
    // [..., seq, dim]: every leading dimension (batch, heads) is a batch of products.
    if (q->dims.size() < 2 || k->dims.size() < 2 || v->dims.size() < 2) return std::nullopt;
    b = 1;
    for (size_t i = 0; i + 2 < q->dims.size(); ++i)
      b *= D(q->dims[i]);
    h = 1;
    lq = D(q->dims[q->dims.size() - 2]);
    lk = D(k->dims[k->dims.size() - 2]);
  }
  const double d = D(q->dims.back()), dv = D(v->dims.back());
  bool causal = false;
  if (l.causal >= 0)
    if (const OpOperand* c = args.at(static_cast<size_t>(l.causal))) {
      auto ints = c->concrete_ints();
      causal = ints.size() == 1 ? ints[0] != 0 : c->concrete_bool(false);
    }
  OpWork w;
  w.kind = OpKind::kAttention;
  w.matrix = true;
  w.dtype = DataTypeOf(q->type);
  const double forward = 2 * b * h * lq * lk * (d + dv) * (causal ? 0.5 : 1.0);
  w.flops = l.backward ? 2.5 * forward : forward;
  const double out = b * h * lq * dv * ElementBytes(q->type);
  const double qkv = Bytes(q) + Bytes(k) + Bytes(v);
  w.bytes = l.backward ? 2 * qkv + 2 * out : qkv + out;
  w.shape = fmt::format("B·H={} Lq={} Lk={} D={}{}{}", b * h, lq, lk, d, causal ? " causal" : "",
                        l.backward ? " backward" : "");
  return w;
}

}  // namespace

std::optional<OpWork> Matrix(std::string_view name, const OpArguments& args, bool* known) {
  *known = true;
  if (name == "mm") return Mm(args, 0);
  if (name == "_scaled_mm") return Mm(args, 0);
  if (name == "addmm" || name == "_addmm_activation") return Addmm(args, false);
  if (name == "bmm") return Bmm(args);
  if (name == "baddbmm") return Addmm(args, true);
  if (name == "matmul") return Matmul(args);
  if (name == "linear") return Linear(args);
  for (const ConvLayout& l : kConvLayouts)
    if (name == l.name) return Convolution(l, args);
  if (name == "convolution_backward") return ConvolutionBackward(args, 0, 1, 7, 10);
  if (name == "cudnn_convolution_backward") return ConvolutionBackward(args, 1, 0, -1, 10);
  for (const AttentionLayout& l : kAttentionLayouts)
    if (name == l.name) return Attention(l, args);
  *known = false;
  return std::nullopt;
}

}  // namespace teye::op_work
