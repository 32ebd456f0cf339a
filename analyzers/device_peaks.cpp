#include "teye/analyzers/device_peaks.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace teye {
namespace {

constexpr size_t kFields = 13;  // match .. source

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ParseNumber(std::string_view text, double& out) {
  text = Trim(text);
  if (text.empty()) {
    out = 0;
    return true;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

}  // namespace

std::string_view ToString(PeakOrigin origin) {
  switch (origin) {
    case PeakOrigin::kTable:
      return "table";
    case PeakOrigin::kEstimated:
      return "estimated";
    case PeakOrigin::kUnknown:
      break;
  }
  return "unknown";
}

double PeakTflops(const DevicePeaks& p, DataType dtype, bool matrix, bool tf32) {
  if (!matrix) return dtype == DataType::kFp64 ? p.fp64 : p.fp32;
  switch (dtype) {
    case DataType::kFp64:
      return p.fp64_matrix > 0 ? p.fp64_matrix : p.fp64;
    case DataType::kFp32:
      if (tf32 && p.tf32 > 0) return p.tf32;
      return p.fp32_matrix > 0 ? p.fp32_matrix : p.fp32;
    case DataType::kFp16:
      return p.fp16;
    case DataType::kBf16:
      return p.bf16 > 0 ? p.bf16 : p.fp16;
    case DataType::kFp8:
      return p.fp8 > 0 ? p.fp8 : p.fp16;
    default:
      return 0;
  }
}

Result<DevicePeakTable> DevicePeakTable::Parse(std::string_view text, const std::string& origin) {
  DevicePeakTable table;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#' || l.starts_with("match,")) continue;
    std::vector<std::string_view> f;
    size_t pos = 0;
    while (f.size() + 1 < kFields) {
      const size_t comma = l.find(',', pos);
      if (comma == std::string_view::npos) break;
      f.push_back(l.substr(pos, comma - pos));
      pos = comma + 1;
    }
    f.push_back(l.substr(pos));  // the source may contain commas
    const std::string where = fmt::format("{}:{}", origin, number);
    if (f.size() != kFields)
      return Error{fmt::format("expected {} comma-separated fields (match,min_mem_gib,num_sms,"
                               "fp64,fp64_matrix,fp32,fp32_matrix,tf32,fp16,bf16,fp8,mem_gbps,"
                               "source), found {}",
                               kFields, f.size()),
                   where, -1};
    Row r;
    std::string_view match = Trim(f[0]);
    if (match.empty()) return Error{"empty match text", where, -1};
    if (match.starts_with("arch:")) {
      r.arch = true;
      const std::string_view cc = match.substr(5);
      const size_t dot = cc.find('.');
      auto major =
          std::from_chars(cc.data(), cc.data() + (dot == cc.npos ? cc.size() : dot), r.major);
      if (dot == cc.npos || major.ec != std::errc() ||
          std::from_chars(cc.data() + dot + 1, cc.data() + cc.size(), r.minor).ec != std::errc())
        return Error{"expected arch:<major>.<minor>, e.g. arch:9.0", where, -1};
    } else if (match.back() == '$') {
      r.anchored_end = true;
      match.remove_suffix(1);
    }
    r.match = Lower(match);
    double num_sms = 0;
    double* numbers[] = {&r.min_mem_gib,       &num_sms,         &r.peaks.fp64,
                         &r.peaks.fp64_matrix, &r.peaks.fp32,    &r.peaks.fp32_matrix,
                         &r.peaks.tf32,        &r.peaks.fp16,    &r.peaks.bf16,
                         &r.peaks.fp8,         &r.peaks.mem_gbps};
    for (size_t i = 0; i < std::size(numbers); ++i)
      if (!ParseNumber(f[i + 1], *numbers[i]))
        return Error{
            fmt::format("field {} ('{}') is not a non-negative number", i + 2, Trim(f[i + 1])),
            where, -1};
    r.num_sms = static_cast<int>(num_sms);
    r.peaks.source = std::string(Trim(f[12]));
    table.rows_.push_back(std::move(r));
  }
  return table;
}

Result<DevicePeakTable> DevicePeakTable::ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the device peaks file", path, -1};
  std::ostringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

const DevicePeakTable& DevicePeakTable::Builtin() {
  static const DevicePeakTable table = [] {
    auto parsed = Parse(BuiltinDevicePeaksText(), "data/device_peaks.csv");
    // The file is checked by a unit test: a bad line here is a build mistake, not input.
    return parsed.ok() ? std::move(parsed.value()) : DevicePeakTable();
  }();
  return table;
}

DevicePeakTable DevicePeakTable::Then(const DevicePeakTable& fallback) const {
  DevicePeakTable out = *this;
  out.rows_.insert(out.rows_.end(), fallback.rows_.begin(), fallback.rows_.end());
  return out;
}

DevicePeakMatch DevicePeakTable::Match(const DeviceInfo& device) const {
  DevicePeakMatch m;
  m.device = device.name;
  const std::string name = Lower(device.name);
  const double mem_gib = static_cast<double>(device.total_global_mem) / (1024.0 * 1024 * 1024);
  for (const Row& r : rows_) {
    if (r.arch || name.empty()) continue;
    const size_t at = name.find(r.match);
    if (at == std::string::npos) continue;
    if (r.anchored_end && at + r.match.size() != name.size()) continue;
    if (r.min_mem_gib > 0 && mem_gib < r.min_mem_gib) continue;
    if (r.num_sms > 0 && device.num_sms != r.num_sms) continue;
    m.origin = PeakOrigin::kTable;
    m.row = r.match;
    m.peaks = r.peaks;
    return m;
  }
  // Not in the table: NVIDIA architectures have known rates per SM per clock.
  if (device.vendor == GpuVendor::kAmd || device.num_sms <= 0 || device.clock_khz <= 0) return m;
  for (const Row& r : rows_) {
    if (!r.arch || r.major != device.compute_major || r.minor != device.compute_minor) continue;
    // FLOP per SM per clock x SMs x clock (kHz) = FLOP/s; / 1e12 = TFLOP/s.
    const double scale = device.num_sms * (device.clock_khz * 1e3) / 1e12;
    DevicePeaks& p = m.peaks;
    p.fp64 = r.peaks.fp64 * scale;
    p.fp64_matrix = r.peaks.fp64_matrix * scale;
    p.fp32 = r.peaks.fp32 * scale;
    p.fp32_matrix = r.peaks.fp32_matrix * scale;
    p.tf32 = r.peaks.tf32 * scale;
    p.fp16 = r.peaks.fp16 * scale;
    p.bf16 = r.peaks.bf16 * scale;
    p.fp8 = r.peaks.fp8 * scale;
    p.mem_gbps = device.memory_gbps;
    p.source = fmt::format("estimated: {} SMs x {} MHz x the sm_{}{} rates per SM per clock{}",
                           device.num_sms, device.clock_khz / 1000, r.major, r.minor,
                           device.memory_gbps > 0 ? "; memory bandwidth as the trace records it"
                                                  : "; memory bandwidth unknown");
    m.origin = PeakOrigin::kEstimated;
    return m;
  }
  return m;
}

}  // namespace teye
