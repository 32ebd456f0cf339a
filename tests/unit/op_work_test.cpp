// FLOPs and bytes of every formula against hand-worked cases. Each expected number is worked out
// in the comment beside it from the op's definition (2·M·N·K for a GEMM, output size from the
// convolution arithmetic, ...), not from teye's code. Arguments are written as the PyTorch
// profiler records them (Input Dims / Input type / Concrete Inputs).
#include "teye/analyzers/op_work.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

std::optional<OpWork> Work(std::string_view op, std::string_view dims, std::string_view types,
                           std::string_view concrete = {}) {
  return EstimateOpWork(op, DecodeOpArguments(dims, types, concrete));
}

TEST(OpArgumentsTest, DecodesShapesListsTypesAndConcreteValues) {
  const OpArguments a = DecodeOpArguments(R"([[141,512],[],[[128,128],[128]],[]])",
                                          R"(["c10::BFloat16","Scalar","TensorList",""])",
                                          R"(["","1","","[16, 16]"])");
  ASSERT_EQ(a.operands.size(), 4u);
  EXPECT_EQ(a.operands[0].dims, (std::vector<int64_t>{141, 512}));
  EXPECT_EQ(a.operands[0].numel(), 72192);
  EXPECT_TRUE(a.operands[0].is_tensor());
  EXPECT_FALSE(a.operands[1].is_tensor());
  EXPECT_EQ(a.operands[1].concrete_ints(), (std::vector<int64_t>{1}));
  EXPECT_TRUE(a.operands[2].is_list);
  EXPECT_EQ(a.operands[2].numel(), 128 * 128 + 128);
  EXPECT_EQ(a.operands[3].concrete_ints(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(DataTypeOf("c10::BFloat16"), DataType::kBf16);
  EXPECT_EQ(ElementBytes("long int"), 8);
  EXPECT_EQ(ElementBytes("Float"), 4);  // PyTorch 1.x names
  // Broken text: fewer operands, never a crash.
  EXPECT_LE(DecodeOpArguments("[[1,2", "[\"float\"", "").operands.size(), 1u);
  EXPECT_TRUE(DecodeOpArguments("", "", "").operands.empty());
}

TEST(OpWorkTest, Gemms) {
  // mm: A[141,512]·B[512,512] bf16. FLOPs 2·141·512·512 = 73,924,608; bytes
  // 2·(141·512 + 512·512 + 141·512) = 813,056.
  auto mm = Work("aten::mm", "[[141,512],[512,512]]", R"(["c10::BFloat16","c10::BFloat16"])");
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->flops, 73924608);
  EXPECT_EQ(mm->bytes, 813056);
  EXPECT_EQ(mm->dtype, DataType::kBf16);
  EXPECT_TRUE(mm->matrix);
  // addmm adds the bias: + 141·512 FLOPs and its 512·2 bytes.
  auto addmm = Work("aten::addmm", "[[512],[141,512],[512,512],[],[]]",
                    R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16","Scalar","Scalar"])",
                    R"(["","","","1","1"])");
  ASSERT_TRUE(addmm);
  EXPECT_EQ(addmm->flops, 73924608 + 72192);
  EXPECT_EQ(addmm->bytes, 813056 + 1024);
  // beta = 0: C is neither read nor added.
  auto addmm0 = Work("aten::addmm", "[[512],[141,512],[512,512],[],[]]",
                     R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16","Scalar","Scalar"])",
                     R"(["","","","0","1"])");
  ASSERT_TRUE(addmm0);
  EXPECT_EQ(addmm0->flops, 73924608);
  // bmm [16,5185,64]·[16,64,5185] bf16: 2·16·5185·5185·64 = 55,058,892,800 FLOPs;
  // bytes 2·16·(5185·64 + 64·5185 + 5185·5185) = 881,532,960.
  auto bmm =
      Work("aten::bmm", "[[16,5185,64],[16,64,5185]]", R"(["c10::BFloat16","c10::BFloat16"])");
  ASSERT_TRUE(bmm);
  EXPECT_EQ(bmm->flops, 55058892800.0);
  EXPECT_EQ(bmm->bytes, 881532960.0);
  // baddbmm C[4,8,16] + A[4,8,32]·B[4,32,16] fp32: 2·4·8·16·32 + 4·8·16 = 33,280 FLOPs;
  // bytes 4·(4·8·32 + 4·32·16 + 4·8·16 + 4·8·16) = 16,384.
  auto baddbmm = Work("aten::baddbmm", "[[4,8,16],[4,8,32],[4,32,16],[],[]]",
                      R"(["float","float","float","Scalar","Scalar"])", R"(["","","","1","1"])");
  ASSERT_TRUE(baddbmm);
  EXPECT_EQ(baddbmm->flops, 33280);
  EXPECT_EQ(baddbmm->bytes, 16384);
  // matmul [3136,12,8,64]·[3136,12,64,8]: a batch of 3136·12 = 37,632 products 8x64·64x8:
  // 2·37632·8·8·64 = 308,281,344 FLOPs; bytes 2·(2·19,267,584 + 37632·64) = 81,887,232.
  auto matmul = Work("aten::matmul", "[[3136,12,8,64],[3136,12,64,8]]",
                     R"(["c10::BFloat16","c10::BFloat16"])");
  ASSERT_TRUE(matmul);
  EXPECT_EQ(matmul->flops, 308281344);
  EXPECT_EQ(matmul->bytes, 81887232);
  // matmul of a vector [2880] by [2880,25136]: M = 1, so 2·2880·25136 = 144,783,360.
  auto vm = Work("aten::matmul", "[[2880],[2880,25136]]", R"(["c10::BFloat16","c10::BFloat16"])");
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->flops, 144783360);
  // Broadcast batch: [2,1,3,4]·[5,4,6] → batch [2,5] = 10 products 3x4·4x6: 2·10·3·6·4 = 1,440.
  auto bc = Work("aten::matmul", "[[2,1,3,4],[5,4,6]]", R"(["float","float"])");
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->flops, 1440);
  // linear X[8,16,32]·W[64,32]ᵀ + b[64] fp32: M = 128, N = 64, K = 32:
  // 2·128·64·32 + 128·64 = 532,480 FLOPs; bytes 4·(4096 + 2048 + 8192 + 64) = 57,600.
  auto linear = Work("aten::linear", "[[8,16,32],[64,32],[64]]", R"(["float","float","float"])");
  ASSERT_TRUE(linear);
  EXPECT_EQ(linear->flops, 532480);
  EXPECT_EQ(linear->bytes, 57600);
  // Mismatched inner dimensions: no formula.
  EXPECT_FALSE(Work("aten::mm", "[[4,5],[6,7]]", R"(["float","float"])"));
}

TEST(OpWorkTest, Convolutions) {
  // cudnn_convolution(self, weight, padding, stride, dilation, groups, ...): ViT patch embedding
  // [128,3,224,224] * [768,3,16,16], stride 16: output 14x14 ((224 − 16)/16 + 1).
  // FLOPs 2·128·768·14·14·3·16·16 = 29,595,009,024;
  // bytes 2·(128·3·224·224 + 768·3·16·16 + 128·768·14·14) = 78,249,984.
  auto conv = Work(
      "aten::cudnn_convolution", "[[128,3,224,224],[768,3,16,16],[],[],[],[],[],[],[]]",
      R"(["c10::BFloat16","c10::BFloat16","ScalarList","ScalarList","ScalarList","Scalar","Scalar","Scalar","Scalar"])",
      R"(["","","[0, 0]","[16, 16]","[1, 1]","1","False","False","True"])");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->flops, 29595009024.0);
  EXPECT_EQ(conv->bytes, 78249984);
  EXPECT_EQ(conv->kind, OpKind::kConvolution);
  // conv2d(input[2,4,9,9], weight[6,2,3,3], bias[6], stride 2, padding 1, dilation 2, groups 2):
  // output (9 + 2·1 − 2·(3−1) − 1)/2 + 1 = 4, so 4x4. FLOPs 2·N·Cout·Ho·Wo·(Cin/g)·kh·kw
  // = 2·2·6·4·4·2·3·3 = 6,912, plus the bias add 2·6·4·4 = 192: 7,104.
  auto conv2d = Work("aten::conv2d", "[[2,4,9,9],[6,2,3,3],[6],[],[],[],[]]",
                     R"(["float","float","float","ScalarList","ScalarList","ScalarList","Scalar"])",
                     R"(["","","","[2, 2]","[1, 1]","[2, 2]","2"])");
  ASSERT_TRUE(conv2d);
  EXPECT_EQ(conv2d->flops, 7104);
  // conv_transpose2d(input[1,4,5,5], weight[4,3,3,3], stride 2, padding 1, output_padding 1):
  // every input element meets Cout/g·k·k = 27 weights: 2·1·4·5·5·3·3·3 = 5,400 FLOPs; output
  // (5−1)·2 − 2·1 + (3−1) + 1 + 1 = 10.
  auto convt =
      Work("aten::conv_transpose2d", "[[1,4,5,5],[4,3,3,3],[],[],[],[],[],[]]",
           R"(["float","float","","ScalarList","ScalarList","ScalarList","Scalar","ScalarList"])",
           R"(["","","","[2, 2]","[1, 1]","[1, 1]","1","[1, 1]"])");
  ASSERT_TRUE(convt);
  EXPECT_EQ(convt->flops, 5400);
  EXPECT_NE(convt->shape.find("1x3x10x10"), std::string::npos) << convt->shape;
  // convolution_backward of the conv2d above, all three gradients: the input and weight
  // gradients cost the forward's 6,912 each, the bias gradient one add per grad_output element
  // (2·6·4·4 = 192): 14,016.
  auto backward = Work(
      "aten::convolution_backward", "[[2,6,4,4],[2,4,9,9],[6,2,3,3],[],[],[],[],[],[],[],[]]",
      R"(["float","float","float","ScalarList","ScalarList","ScalarList","ScalarList","Scalar","ScalarList","Scalar","ScalarList"])",
      R"(["","","","[6]","[2, 2]","[1, 1]","[2, 2]","False","[0, 0]","2","[True, True, True]"])");
  ASSERT_TRUE(backward);
  EXPECT_EQ(backward->flops, 14016);
  // Without concrete strides and padding the output size is unknown: no formula.
  EXPECT_FALSE(Work("aten::cudnn_convolution", "[[1,3,8,8],[4,3,3,3]]", R"(["float","float"])"));
}

TEST(OpWorkTest, Attention) {
  // _flash_attention_forward q,k,v [1,141,8,64] ([batch, seq, heads, dim]), not causal:
  // QKᵀ 2·1·8·141·141·64 and PV as much: 2·8·141·141·128 = 40,716,288 FLOPs;
  // bytes q, k, v and out, 4 · 141·8·64 elements · 2 = 577,536.
  auto flash = Work(
      "aten::_flash_attention_forward",
      "[[1,141,8,64],[1,141,8,64],[1,141,8,64],[],[],[],[],[],[]]",
      R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16","","","Scalar","Scalar","Scalar","Scalar"])",
      R"(["","","","","","141","141","0.0","False"])");
  ASSERT_TRUE(flash);
  EXPECT_EQ(flash->flops, 40716288);
  EXPECT_EQ(flash->bytes, 577536);
  EXPECT_EQ(flash->kind, OpKind::kAttention);
  // scaled_dot_product_attention [2,4,128,32] ([batch, heads, seq, dim]), causal: half of
  // 2·8·128·128·64 = 8,388,608.
  auto sdpa = Work("aten::scaled_dot_product_attention",
                   "[[2,4,128,32],[2,4,128,32],[2,4,128,32],[],[],[],[],[]]",
                   R"(["float","float","float","","Scalar","Scalar","",""])",
                   R"(["","","","","0.0","True","",""])");
  ASSERT_TRUE(sdpa);
  EXPECT_EQ(sdpa->flops, 8388608);
  // Its flash backward, not causal: 2.5 · 2·8·128·128·64 = 41,943,040 FLOPs; bytes q, k, v, out,
  // grad_out read and dq, dk, dv written: 8 · 32,768 elements · 2 bytes = 524,288.
  auto bwd = Work(
      "aten::_scaled_dot_product_flash_attention_backward",
      "[[2,4,128,32],[2,4,128,32],[2,4,128,32],[2,4,128,32],[2,4,128,32],[2,4,128],[],[],[],[],[],["
      "]]",
      R"(["c10::Half","c10::Half","c10::Half","c10::Half","c10::Half","float","","","Scalar","Scalar","Scalar","Scalar"])",
      R"(["","","","","","","","","128","128","0.0","False"])");
  ASSERT_TRUE(bwd);
  EXPECT_EQ(bwd->flops, 41943040);
  EXPECT_EQ(bwd->bytes, 524288);
  // Varlen flash attention (3-D q): sequence lengths are not recorded, no formula.
  EXPECT_FALSE(Work("aten::_flash_attention_forward", "[[512,8,64],[512,8,64],[512,8,64]]",
                    R"(["c10::Half","c10::Half","c10::Half"])"));
}

TEST(OpWorkTest, MemoryBoundOps) {
  // native_layer_norm [1,141,512] bf16 with weight and bias [512]: 7 FLOPs per element
  // (7·72,192 = 505,344); input read and output written 2·72,192·2 bytes + 2·512·2 = 290,816.
  auto ln = Work("aten::native_layer_norm", "[[1,141,512],[],[512],[512],[]]",
                 R"(["c10::BFloat16","ScalarList","c10::BFloat16","c10::BFloat16","Scalar"])");
  ASSERT_TRUE(ln);
  EXPECT_EQ(ln->flops, 505344);
  EXPECT_EQ(ln->bytes, 290816);
  // _softmax [16,5185,5185] bf16: 5 FLOPs per element over 430,147,600 elements; read and write.
  auto sm =
      Work("aten::_softmax", "[[16,5185,5185],[],[]]", R"(["c10::BFloat16","Scalar","Scalar"])");
  ASSERT_TRUE(sm);
  EXPECT_EQ(sm->flops, 2150738000.0);
  EXPECT_EQ(sm->bytes, 1720590400.0);
  // add of two [1,141,512] bf16: one FLOP per element, two reads and a write (3·72,192·2).
  auto add = Work("aten::add", "[[1,141,512],[1,141,512],[]]",
                  R"(["c10::BFloat16","c10::BFloat16","Scalar"])");
  ASSERT_TRUE(add);
  EXPECT_EQ(add->flops, 72192);
  EXPECT_EQ(add->bytes, 433152);
  // Broadcast: [8,1,4] + [3,1] → [8,3,4] = 96 outputs; bytes 4·(32 + 3 + 96) = 524.
  auto bc = Work("aten::add", "[[8,1,4],[3,1],[]]", R"(["float","float","Scalar"])");
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->flops, 96);
  EXPECT_EQ(bc->bytes, 524);
  // mul.out(self [4,2798,2798] float, other a 0-d double, out): the out tensor is written, not
  // read: 4·31,315,216 + 8 + 4·31,315,216 = 250,521,736 bytes.
  auto mul = Work("aten::mul", "[[4,2798,2798],[],[4,2798,2798]]", R"(["float","double","float"])");
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul->flops, 31315216);
  EXPECT_EQ(mul->bytes, 250521736);
  // copy_(self [10,20] bf16, src [10,20] float): src read (800), self written (400).
  auto copy = Work("aten::copy_", "[[10,20],[10,20],[]]", R"(["c10::BFloat16","float","Scalar"])");
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->flops, 0);
  EXPECT_EQ(copy->bytes, 1200);
  // fill_ writes only: 100 floats.
  auto fill = Work("aten::fill_", "[[100],[]]", R"(["float","Scalar"])");
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->bytes, 400);
  // embedding(weight [30522,512] bf16, indices [1,141] long): 141 rows of 512 read and
  // written (2·141·512·2) plus the indices (141·8): 289,896; index_select moves the same.
  auto emb = Work("aten::embedding", "[[30522,512],[1,141],[],[],[]]",
                  R"(["c10::BFloat16","long int","Scalar","Scalar","Scalar"])");
  ASSERT_TRUE(emb);
  EXPECT_EQ(emb->bytes, 289896);
  auto sel = Work("aten::index_select", "[[30522,512],[],[141]]",
                  R"(["c10::BFloat16","Scalar","long int"])", R"(["","0",""])");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->bytes, 289896);
}

TEST(OpWorkTest, MultiTensorOptimizer) {
  // _foreach_add_(list, list, alpha) over [128,128] and [128] (16,512 elements): one FLOP each;
  // two lists read, one written, 4-byte elements assumed: 4·3·16,512 = 198,144 bytes.
  auto fa = Work("aten::_foreach_add_", "[[[128,128],[128]],[[128,128],[128]],[]]",
                 R"(["TensorList","TensorList","Scalar"])", R"(["","","-0.001"])");
  ASSERT_TRUE(fa);
  EXPECT_EQ(fa->flops, 16512);
  EXPECT_EQ(fa->bytes, 198144);
  EXPECT_TRUE(fa->assumed_dtype);
  // _fused_adamw_ over 1,024 parameters: 15 FLOPs each (15,360); params, exp_avg, exp_avg_sq
  // read and written and grads read: 7 accesses · 1,024 · 4 bytes = 28,672.
  auto adam = Work(
      "aten::_fused_adamw_", "[[[1000],[24]],[[1000],[24]],[[1000],[24]],[[1000],[24]],[],[[],[]]]",
      R"(["TensorList","TensorList","TensorList","TensorList","TensorList","TensorList"])");
  ASSERT_TRUE(adam);
  EXPECT_EQ(adam->flops, 15360);
  EXPECT_EQ(adam->bytes, 28672);
}

// Operand lists in the profiler's form: `n` arguments, tensors at the given positions, concrete
// values at others.
struct ArgList {
  std::vector<std::string> dims, types, concrete;
  explicit ArgList(size_t n) : dims(n, "[]"), types(n, "\"\""), concrete(n, "\"\"") {}
  ArgList& Tensor(size_t i, std::string shape, std::string type = "float") {
    dims[i] = std::move(shape);
    types[i] = "\"" + type + "\"";
    return *this;
  }
  ArgList& Value(size_t i, std::string value) {
    types[i] = "\"Scalar\"";
    concrete[i] = "\"" + value + "\"";
    return *this;
  }
  static std::string Join(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? "," : "") + v[i];
    return s + "]";
  }
  std::optional<OpWork> Work(std::string_view op) const {
    return teye::Work(op, Join(dims), Join(types), Join(concrete));
  }
};

TEST(OpWorkTest, EveryConvolutionLayout) {
  // The conv2d of the Convolutions test — input [2,4,9,9], weight [6,2,3,3], stride 2, padding
  // 1, dilation 2, groups 2, no bias: 6,912 FLOPs — through every op's argument positions.
  struct Layout {
    const char* op;
    size_t n, stride, padding, dilation, groups;
    int transposed;
  };
  const Layout layouts[] = {
      {"aten::conv2d", 7, 3, 4, 5, 6, -1},
      {"aten::convolution", 9, 3, 4, 5, 8, 6},
      {"aten::_convolution", 13, 3, 4, 5, 8, 6},
      {"aten::cudnn_convolution", 9, 3, 2, 4, 5, -1},
      {"aten::cudnn_convolution_relu", 7, 3, 4, 5, 6, -1},
      {"aten::miopen_convolution", 9, 4, 3, 5, 6, -1},
      {"aten::mkldnn_convolution", 7, 4, 3, 5, 6, -1},
  };
  for (const Layout& l : layouts) {
    ArgList a(l.n);
    a.Tensor(0, "[2,4,9,9]").Tensor(1, "[6,2,3,3]");
    a.Value(l.stride, "[2, 2]").Value(l.padding, "[1, 1]").Value(l.dilation, "[2, 2]");
    a.Value(l.groups, "2");
    if (l.transposed >= 0) a.Value(static_cast<size_t>(l.transposed), "False");
    auto w = a.Work(l.op);
    ASSERT_TRUE(w) << l.op;
    EXPECT_EQ(w->flops, 6912) << l.op;
  }
  // cudnn_convolution_transpose(self, weight, padding, output_padding, stride, dilation, groups):
  // the conv_transpose2d of the Convolutions test, 5,400 FLOPs.
  ArgList t(9);
  t.Tensor(0, "[1,4,5,5]").Tensor(1, "[4,3,3,3]").Value(2, "[1, 1]").Value(3, "[1, 1]");
  t.Value(4, "[2, 2]").Value(5, "[1, 1]").Value(6, "1");
  auto tw = t.Work("aten::cudnn_convolution_transpose");
  ASSERT_TRUE(tw);
  EXPECT_EQ(tw->flops, 5400);
}

TEST(OpWorkTest, EveryAttentionLayout) {
  // q, k, v of batch 2, 4 heads, 128 tokens, head dim 32: QKᵀ and PV are 2·8·128·128·32 each,
  // 16,777,216 FLOPs in all; causal halves it (8,388,608); a backward is 2.5 times its forward.
  struct Layout {
    const char* op;
    size_t n, q, causal;
    bool bshd, mask_type, backward;
  };
  const Layout layouts[] = {
      {"aten::scaled_dot_product_attention", 8, 0, 5, false, false, false},
      {"aten::_scaled_dot_product_flash_attention", 7, 0, 4, false, false, false},
      {"aten::_scaled_dot_product_efficient_attention", 8, 0, 6, false, false, false},
      {"aten::_scaled_dot_product_cudnn_attention", 9, 0, 6, false, false, false},
      {"aten::_flash_attention_forward", 15, 0, 8, true, false, false},
      {"aten::_efficient_attention_forward", 16, 0, 9, true, true, false},
      {"aten::_scaled_dot_product_flash_attention_backward", 15, 1, 11, false, false, true},
      {"aten::_scaled_dot_product_efficient_attention_backward", 13, 1, 11, false, false, true},
      {"aten::_scaled_dot_product_cudnn_attention_backward", 16, 1, 14, false, false, true},
      {"aten::_flash_attention_backward", 17, 1, 11, true, false, true},
      {"aten::_efficient_attention_backward", 20, 1, 14, true, true, true},
  };
  for (const Layout& l : layouts)
    for (bool causal : {false, true}) {
      ArgList a(l.n);
      const std::string shape = l.bshd ? "[2,128,4,32]" : "[2,4,128,32]";
      for (size_t i = 0; i < 3; ++i)
        a.Tensor(l.q + i, shape, "c10::BFloat16");
      a.Value(l.causal, l.mask_type ? (causal ? "1" : "0") : (causal ? "True" : "False"));
      auto w = a.Work(l.op);
      ASSERT_TRUE(w) << l.op;
      const double forward = causal ? 8388608 : 16777216;
      EXPECT_EQ(w->flops, l.backward ? 2.5 * forward : forward) << l.op << " causal " << causal;
    }
}

TEST(OpWorkTest, ScaledMmAndAddmmActivation) {
  // _scaled_mm(A[64,128] fp8, B[128,32] fp8, scales...): 2·64·32·128 = 524,288 FLOPs, FP8; bytes
  // 64·128 + 128·32 (1 byte each) + the 64·32 output counted at A's element size.
  auto scaled = Work("aten::_scaled_mm", "[[64,128],[128,32],[],[]]",
                     R"(["c10::Float8_e4m3fn","c10::Float8_e4m3fn","float","float"])");
  ASSERT_TRUE(scaled);
  EXPECT_EQ(scaled->flops, 524288);
  EXPECT_EQ(scaled->dtype, DataType::kFp8);
  EXPECT_EQ(scaled->bytes, 64 * 128 + 128 * 32 + 64 * 32);
  // _addmm_activation is addmm with a fused activation: the addmm's FLOPs.
  auto act = Work("aten::_addmm_activation", "[[512],[141,512],[512,512],[],[],[]]",
                  R"(["c10::BFloat16","c10::BFloat16","c10::BFloat16","Scalar","Scalar","Scalar"])",
                  R"(["","","","1","1","False"])");
  ASSERT_TRUE(act);
  EXPECT_EQ(act->flops, 73924608 + 72192);
}

TEST(OpWorkTest, KnowsWhichOpsHaveFormulas) {
  EXPECT_TRUE(HasWorkFormula("aten::addmm"));
  EXPECT_TRUE(HasWorkFormula("aten::_foreach_mul_"));
  EXPECT_TRUE(HasWorkFormula("_C::fused_add_rms_norm"));
  EXPECT_FALSE(HasWorkFormula("aten::empty"));
  EXPECT_FALSE(HasWorkFormula("aten::nll_loss_forward"));
}

}  // namespace
}  // namespace teye
