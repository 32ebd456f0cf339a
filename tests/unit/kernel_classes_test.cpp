#include "teye/analyzers/kernel_classes.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

struct Case {
  const char* name;
  KernelClass expected;
};

// Names as they appear in real traces (../shared/traces and public PyTorch/cuDNN/NCCL output).
const Case kCases[] = {
    {"ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*, unsigned long, ncclWork*)",
     KernelClass::kCommunication},
    {"ncclDevKernel_AllGather_RING_LL(ncclDevKernelArgsStorage<4096ul>)",
     KernelClass::kCommunication},
    {"void (anonymous namespace)::multimem_all_reduce_kernel<c10::BFloat16, 16>(...)",
     KernelClass::kCommunication},
    {"fmhaSm100aKernel_QkvE4m3OBfloat16H64PagedKvCausalP16VarSeqQ128Kv128PersistentContext",
     KernelClass::kAttention},
    {"void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128, 64, 4>>(...)",
     KernelClass::kAttention},
    {"void multi_tensor_apply_kernel<TensorListMetadata<4>, AdamFunctor<float>, float>(...)",
     KernelClass::kOptimizer},
    {"void split_embedding_backward_codegen_rowwise_adagrad_unweighted_kernel_cta_per_row_1<float>",
     KernelClass::kOptimizer},
    {"void at::native::elementwise_kernel<128, 4, at::native::gpu_kernel_impl<at::native::"
     "direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#2}>(...)",
     KernelClass::kCopy},
    {"void at::native::(anonymous namespace)::CatArrayBatchedCopy<float, unsigned int, 2, 128, 1>",
     KernelClass::kCopy},
    {"void cudnn::ops::nchwToNhwcKernel<float, float, float, false, true, 2>(...)",
     KernelClass::kCopy},
    {"void at::native::(anonymous namespace)::cunn_SoftMaxForward<8, c10::BFloat16, float>(...)",
     KernelClass::kReduction},
    {"void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, MeanOps<float>>>(...)",
     KernelClass::kReduction},
    {"void cudnn::bn_fw_tr_1C11_kernel_NCHW<float, float, int, 128, true, 1, true>(...)",
     KernelClass::kReduction},
    {"void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<float, float>(...)",
     KernelClass::kReduction},
    {"triton_red_fused_native_layer_norm_0", KernelClass::kReduction},
    {"volta_h884gemm_64x64_ldg8_nn", KernelClass::kGemmTensorCore},
    {"volta_fp16_s884cudnn_fp16_256x128_ldg8_splitK_relu_exp_small_nhwc_tn_v1",
     KernelClass::kGemmTensorCore},
    {"turing_fp16_s1688gemm_fp16_128x128_ldg8_f2f_tn", KernelClass::kGemmTensorCore},
    {"ampere_bf16_s16816gemm_bf16_128x128_ldg8_f2f_stages_64x3_tn", KernelClass::kGemmTensorCore},
    {"void cutlass::Kernel<cutlass_80_tensorop_s1688gemm_256x128_32x3_nn_align1>(...)",
     KernelClass::kGemmTensorCore},
    {"sm80_xmma_fprop_implicit_gemm_tf32f32_tf32f32_f32_nhwckrsc_nhwc_tilesize128x128x16",
     KernelClass::kGemmTensorCore},
    {"sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1",
     KernelClass::kGemmTensorCore},
    {"nvjet_tst_144x128_64x6_2x1_v_bz_bias_TNN", KernelClass::kGemmTensorCore},
    {"Cijk_Alik_Bljk_SB_Bias_AS_SAV_UserArgs_MT64x16x32_MI16x16x1_SN_LDSB0",
     KernelClass::kGemmTensorCore},
    {"volta_sgemm_128x64_nn", KernelClass::kGemmSimt},
    {"ampere_sgemm_128x64_tn", KernelClass::kGemmSimt},
    {"sm90_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_ffma_kernel",
     KernelClass::kGemmSimt},
    {"void cutlass::Kernel<cutlass_80_simt_sgemm_128x32_8x5_nn_align1>(...)",
     KernelClass::kGemmSimt},
    {"cudnn_infer_volta_scudnn_128x64_relu_medium_nn_v1", KernelClass::kGemmSimt},
    {"void cudnn::winograd_nonfused::winogradForwardData4x4<float, float>(...)",
     KernelClass::kGemmSimt},
    {"void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>>",
     KernelClass::kElementwise},
    {"triton_poi_fused_add_cos_sin_0", KernelClass::kElementwise},
    {"void at::native::(anonymous namespace)::fused_dropout_kernel_vec<float, float>(...)",
     KernelClass::kElementwise},
    {"Kernel", KernelClass::kOther},
    {"triton__0d1d2d3d", KernelClass::kOther},
};

TEST(KernelClassifier, BuiltinTableOnRealNames) {
  KernelClassifier c;
  for (const Case& k : kCases)
    EXPECT_EQ(ToString(c.Classify(k.name)), ToString(k.expected)) << k.name;
}

TEST(KernelClassifier, UserRulesComeFirstAndErrorsNameTheLine) {
  KernelClassifier c;
  ASSERT_TRUE(c.AddRulesFromText("# mine\nattention  ^my_fused_kernel\n\n", "rules.txt").ok());
  EXPECT_EQ(c.Classify("my_fused_kernel_v2"), KernelClass::kAttention);
  EXPECT_EQ(c.Classify("volta_sgemm_128x64_nn"), KernelClass::kGemmSimt);

  auto bad_class = c.AddRulesFromText("tensorcore gemm", "rules.txt");
  ASSERT_FALSE(bad_class.ok());
  EXPECT_NE(bad_class.error().ToString().find("rules.txt:1"), std::string::npos);
  auto bad_regex = c.AddRulesFromText("\ncopy ([", "rules.txt");
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_NE(bad_regex.error().ToString().find("rules.txt:2"), std::string::npos);
}

TEST(KernelClassifier, Roles) {
  EXPECT_EQ(RoleOf(KernelClass::kGemmSimt), KernelRole::kCompute);
  EXPECT_EQ(RoleOf(KernelClass::kOther), KernelRole::kCompute);
  EXPECT_EQ(RoleOf(KernelClass::kCopy), KernelRole::kMemory);
  EXPECT_EQ(RoleOf(KernelClass::kCommunication), KernelRole::kCommunication);
}

}  // namespace
}  // namespace teye
