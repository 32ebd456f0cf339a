// Peak rates of GPUs: the roofs of the roofline. The table is data (data/device_peaks.csv,
// compiled into teye; format in its header), matched on the trace's deviceProperties name;
// `--device-peaks FILE` adds lines tried first. Devices no line matches are estimated from
// numSms × clock × their architecture's rate per SM per clock when the trace records the clock,
// and are otherwise unknown, which the report says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "teye/analyzers/op_arguments.h"
#include "teye/model/result.h"
#include "teye/model/trace.h"

namespace teye {

struct DevicePeaks {
  // TFLOP/s, 0 when unknown.
  double fp64 = 0, fp64_matrix = 0, fp32 = 0, fp32_matrix = 0;
  double tf32 = 0, fp16 = 0, bf16 = 0, fp8 = 0;
  double mem_gbps = 0;  // GB/s, 0 when unknown
  std::string source;   // the datasheet, or how the estimate was made
};

enum class PeakOrigin : uint8_t { kTable, kEstimated, kUnknown };
std::string_view ToString(PeakOrigin origin);  // "table", "estimated", "unknown"

struct DevicePeakMatch {
  PeakOrigin origin = PeakOrigin::kUnknown;
  std::string device;  // the trace's name for the device
  std::string row;     // the table line that matched ("H100"), empty otherwise
  DevicePeaks peaks;
};

// Which roof applies to work of `dtype`: on Tensor Cores / Matrix Cores when `matrix` (GEMM,
// convolution, attention), where FP32 work runs as TF32 only when `tf32` (its kernels are Tensor
// Core kernels) and otherwise on AMD's FP32 matrix cores or the vector units; vector units for
// everything else. TFLOP/s, 0 when the table has no rate for it.
double PeakTflops(const DevicePeaks& peaks, DataType dtype, bool matrix, bool tf32);

class DevicePeakTable {
 public:
  // The compiled-in data/device_peaks.csv.
  static const DevicePeakTable& Builtin();
  // Lines in the format of data/device_peaks.csv; errors name `origin` and the line.
  [[nodiscard]] static Result<DevicePeakTable> Parse(std::string_view text,
                                                     const std::string& origin);
  [[nodiscard]] static Result<DevicePeakTable> ParseFile(const std::string& path);

  // This table's lines first, then `fallback`'s (the user's file over the built-in table).
  DevicePeakTable Then(const DevicePeakTable& fallback) const;

  DevicePeakMatch Match(const DeviceInfo& device) const;
  size_t size() const { return rows_.size(); }

 private:
  struct Row {
    std::string match;  // lower case, without a trailing $
    bool anchored_end = false;
    double min_mem_gib = 0;
    int num_sms = 0;
    DevicePeaks peaks;
    bool arch = false;  // arch:<major>.<minor>: rates per SM per clock, in FLOP
    int major = 0, minor = 0;
  };
  std::vector<Row> rows_;
};

// The text of data/device_peaks.csv as compiled in.
std::string_view BuiltinDevicePeaksText();

}  // namespace teye
