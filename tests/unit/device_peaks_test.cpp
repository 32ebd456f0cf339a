// The device peak table: the compiled-in data file parses, names match the right datasheet
// line, unknown devices are said to be unknown or estimated, and a user's file goes first.
// Expected figures are the vendors' published numbers, typed here from the datasheets.
#include "teye/analyzers/device_peaks.h"

#include <gtest/gtest.h>

namespace teye {
namespace {

DeviceInfo Device(std::string name, double mem_gib = 0, int sms = 0) {
  DeviceInfo d;
  d.name = std::move(name);
  d.total_global_mem = static_cast<int64_t>(mem_gib * 1024 * 1024 * 1024);
  d.num_sms = sms;
  d.vendor = d.name.find("AMD") != std::string::npos ? GpuVendor::kAmd : GpuVendor::kNvidia;
  return d;
}

TEST(DevicePeaksTest, BuiltinTableParsesAndEveryGpuHasARoof) {
  auto parsed = DevicePeakTable::Parse(BuiltinDevicePeaksText(), "builtin");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_GE(DevicePeakTable::Builtin().size(), 30u);
}

TEST(DevicePeaksTest, MatchesDatasheetLines) {
  const DevicePeakTable& t = DevicePeakTable::Builtin();
  // H200 SXM: dense BF16 989 TFLOP/s (1,979 with sparsity), 4.8 TB/s HBM3e.
  DevicePeakMatch h200 = t.Match(Device("NVIDIA H200", 140, 132));
  EXPECT_EQ(h200.origin, PeakOrigin::kTable);
  EXPECT_NEAR(PeakTflops(h200.peaks, DataType::kBf16, true, false), 989, 1);
  EXPECT_EQ(h200.peaks.mem_gbps, 4800);
  // H100 SXM5 (PyTorch names it "NVIDIA H100 80GB HBM3"): 3.35 TB/s, TF32 495 dense, FP32 67.
  DevicePeakMatch h100 = t.Match(Device("NVIDIA H100 80GB HBM3", 79.1, 132));
  EXPECT_EQ(h100.peaks.mem_gbps, 3350);
  EXPECT_NEAR(PeakTflops(h100.peaks, DataType::kFp32, true, true), 494.7, 0.1);
  EXPECT_NEAR(PeakTflops(h100.peaks, DataType::kFp32, false, false), 67, 0.1);
  EXPECT_NEAR(PeakTflops(h100.peaks, DataType::kFp8, true, false), 1978.9, 0.1);
  EXPECT_EQ(t.Match(Device("NVIDIA H100 PCIe", 79.1)).peaks.mem_gbps, 2000);
  // A100: 80 GB SXM 2,039 GB/s, 40 GB 1,555 GB/s (the A100-PG509-200 board has 40 GB).
  EXPECT_EQ(t.Match(Device("NVIDIA A100-SXM4-80GB", 79.2)).peaks.mem_gbps, 2039);
  EXPECT_EQ(t.Match(Device("NVIDIA A100-PG509-200", 39.6)).peaks.mem_gbps, 1555);
  EXPECT_EQ(t.Match(Device("NVIDIA A100-SXM4-80GB", 79.2)).peaks.fp16, 312);
  // "A10" is not "A100", and "A40" is not "RTX A4000".
  EXPECT_EQ(t.Match(Device("NVIDIA A10", 22)).peaks.mem_gbps, 600);
  EXPECT_EQ(t.Match(Device("NVIDIA RTX A4000", 16)).origin, PeakOrigin::kUnknown);
  // V100 SXM2: 125 TFLOP/s FP16 Tensor Core, 15.7 FP32, 900 GB/s.
  DevicePeakMatch v100 = t.Match(Device("Tesla V100-SXM2-32GB", 31.7, 80));
  EXPECT_EQ(v100.peaks.fp16, 125);
  EXPECT_EQ(v100.peaks.fp32, 15.7);
  // B200 per GPU: 2.25 PFLOP/s dense FP16/BF16.
  EXPECT_EQ(t.Match(Device("NVIDIA B200", 178, 148)).peaks.bf16, 2250);
  // AMD MI300X: 1,307.4 TFLOP/s FP16, 5.3 TB/s; MI250X per GCD: half of 383 and 3.2 TB/s.
  EXPECT_EQ(t.Match(Device("AMD Instinct MI300X", 191)).peaks.fp16, 1307.4);
  DevicePeakMatch mi250x = t.Match(Device("AMD Instinct MI250X", 64));
  EXPECT_EQ(mi250x.peaks.fp16, 191.5);
  EXPECT_EQ(mi250x.peaks.mem_gbps, 1638.4);
  // ROCm's generic name for a 104-CU gfx90a device: the MI210 / MI250 GCD line, only with 104.
  EXPECT_EQ(t.Match(Device("AMD Radeon Graphics", 64, 104)).peaks.fp16, 181);
  EXPECT_EQ(t.Match(Device("AMD Radeon Graphics", 16, 60)).origin, PeakOrigin::kUnknown);
}

TEST(DevicePeaksTest, UnknownDevicesAreUnknownOrEstimatedFromClock) {
  const DevicePeakTable& t = DevicePeakTable::Builtin();
  DeviceInfo gtx = Device("NVIDIA GeForce GTX 1080 Ti", 11, 28);
  EXPECT_EQ(t.Match(gtx).origin, PeakOrigin::kUnknown);
  // An sm_90 part the table does not name, with 132 SMs at 1,830 MHz: 132 · 1.83 GHz · 4,096
  // FP16 FLOP per SM per clock = 989.4 TFLOP/s, which is the H100 SXM datasheet's figure.
  DeviceInfo mystery = Device("NVIDIA Hopper Engineering Sample", 80, 132);
  mystery.compute_major = 9;
  mystery.compute_minor = 0;
  mystery.clock_khz = 1830000;
  mystery.memory_gbps = 3350;
  DevicePeakMatch m = t.Match(mystery);
  EXPECT_EQ(m.origin, PeakOrigin::kEstimated);
  EXPECT_NEAR(m.peaks.fp16, 989.4, 0.5);
  EXPECT_EQ(m.peaks.mem_gbps, 3350);
  // Without a clock there is nothing to estimate from.
  mystery.clock_khz = 0;
  EXPECT_EQ(t.Match(mystery).origin, PeakOrigin::kUnknown);
}

TEST(DevicePeaksTest, UserLinesComeFirstAndErrorsNameTheLine) {
  auto user = DevicePeakTable::Parse(
      "# my cluster's H100s run at a capped clock\n"
      "H100,,,10,20,30,,100,500,500,1000,3000,measured with our power cap\n",
      "mine.csv");
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  const DevicePeakTable both = user.value().Then(DevicePeakTable::Builtin());
  DevicePeakMatch m = both.Match(Device("NVIDIA H100 80GB HBM3", 79));
  EXPECT_EQ(m.peaks.bf16, 500);
  EXPECT_EQ(m.peaks.source, "measured with our power cap");
  EXPECT_EQ(both.Match(Device("NVIDIA H200", 140)).peaks.mem_gbps, 4800);  // still built in

  auto short_line = DevicePeakTable::Parse("\n\nH100,1,2\n", "bad.csv");
  ASSERT_FALSE(short_line.ok());
  EXPECT_EQ(short_line.error().file, "bad.csv:3");
  auto bad_number = DevicePeakTable::Parse("H100,,,x,,,,,,,,,src\n", "bad.csv");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_NE(bad_number.error().message.find("'x'"), std::string::npos);
  EXPECT_FALSE(DevicePeakTable::Parse("arch:nine,,,1,,,,,,,,,x\n", "bad.csv").ok());
  EXPECT_FALSE(DevicePeakTable::ParseFile("/nonexistent/peaks.csv").ok());
}

TEST(DevicePeaksTest, RoofByElementTypeAndUnit) {
  DevicePeaks p;
  p.fp64 = 9.7;
  p.fp64_matrix = 19.5;
  p.fp32 = 19.5;
  p.tf32 = 156;
  p.fp16 = 312;
  p.bf16 = 312;
  EXPECT_EQ(PeakTflops(p, DataType::kFp32, true, true), 156);    // Tensor Core kernel: TF32
  EXPECT_EQ(PeakTflops(p, DataType::kFp32, true, false), 19.5);  // SIMT GEMM
  EXPECT_EQ(PeakTflops(p, DataType::kFp64, true, false), 19.5);
  EXPECT_EQ(PeakTflops(p, DataType::kFp64, false, false), 9.7);
  EXPECT_EQ(PeakTflops(p, DataType::kFp16, false, false), 19.5);  // elementwise: vector units
  EXPECT_EQ(PeakTflops(p, DataType::kFp8, true, false), 312);     // no FP8 units: FP16's roof
  EXPECT_EQ(PeakTflops(p, DataType::kInt, true, false), 0);
  p.fp32_matrix = 46.1;  // AMD: FP32 GEMMs on matrix cores
  EXPECT_EQ(PeakTflops(p, DataType::kFp32, true, false), 46.1);
}

}  // namespace
}  // namespace teye
