#include "teye/analyzers/roofline.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace teye {
namespace {

constexpr RowIndex kUnset = -2;

// The op a launch belongs to: the nearest enclosing cpu_op with a work formula, else (for
// counters, which need no formula) the innermost enclosing cpu_op. Answers are remembered per
// slice: every kernel asks about its launch.
class OpFinder {
 public:
  explicit OpFinder(const Trace& trace) : trace_(trace), h_(trace.host_slices()) {}

  RowIndex FormulaOp(RowIndex slice) {
    if (slice == kNoRow) return kNoRow;
    if (formula_.empty()) formula_.assign(h_.size(), kUnset);
    std::vector<RowIndex>& path = path_;
    path.clear();
    RowIndex found = kNoRow;
    for (RowIndex s = slice; s != kNoRow; s = h_.parent[s]) {
      if (formula_[s] != kUnset) {
        found = formula_[s];
        break;
      }
      path.push_back(s);
      if (h_.kind[s] == HostSliceKind::kCpuOp && HasFormula(h_.name[s])) {
        found = s;
        break;
      }
    }
    for (RowIndex s : path)
      formula_[s] = found;
    return found;
  }

  RowIndex InnermostCpuOp(RowIndex slice) {
    for (RowIndex s = slice; s != kNoRow; s = h_.parent[s])
      if (h_.kind[s] == HostSliceKind::kCpuOp) return s;
    return kNoRow;
  }

  // The cpu_op a kernel without a recorded launch belongs to, by its External id.
  RowIndex ByExternalId(int64_t external_id) {
    if (external_id == 0) return kNoRow;
    if (!external_built_) {
      external_built_ = true;
      // Slices are thread-major with parents first: the last one with an id is the deepest.
      for (size_t i = 0; i < h_.size(); ++i)
        if (h_.kind[i] == HostSliceKind::kCpuOp && h_.external_id[i] != 0)
          by_external_[h_.external_id[i]] = static_cast<RowIndex>(i);
    }
    auto it = by_external_.find(external_id);
    return it == by_external_.end() ? kNoRow : it->second;
  }

 private:
  bool HasFormula(StringId name) {
    auto [it, inserted] = has_formula_.try_emplace(name, false);
    if (inserted) it->second = HasWorkFormula(trace_.str(name));
    return it->second;
  }

  const Trace& trace_;
  const HostSliceTable& h_;
  std::vector<RowIndex> formula_;
  std::vector<RowIndex> path_;  // FormulaOp's walk up, kept between calls
  std::unordered_map<StringId, bool> has_formula_;
  bool external_built_ = false;
  std::unordered_map<int64_t, RowIndex> by_external_;
};

// One call of an op and what its kernels measured.
struct Instance {
  RowIndex slice = kNoRow;
  std::vector<RowIndex> kernels;
  int64_t launches_without_kernels = 0;  // counter ranges matched to launch calls
  TimeNs gpu_ns = 0;
  bool tensor_core = false;
  int64_t with_flops = 0, with_dram = 0;  // kernels/launches whose counters have them
  double counter_flops = 0, counter_bytes = 0;
  int64_t work_units() const {
    return static_cast<int64_t>(kernels.size()) + launches_without_kernels;
  }
};

bool IsTensorCoreClass(KernelClass c) {
  return c == KernelClass::kGemmTensorCore || c == KernelClass::kAttention;
}

void Rates(RooflineOp& op, const DevicePeaks& p) {
  const double seconds = static_cast<double>(op.gpu_ns) / kNsPerSec;
  if (op.bytes > 0) op.intensity = op.flops / op.bytes;
  if (seconds > 0) {
    op.achieved_tflops = op.flops / seconds / 1e12;
    op.achieved_gbps = op.bytes / seconds / 1e9;
  }
  op.peak_tflops = PeakTflops(p, op.dtype == DataType::kUnknown ? DataType::kFp32 : op.dtype,
                              op.matrix, op.tensor_core);
  const double compute_s = op.peak_tflops > 0 ? op.flops / (op.peak_tflops * 1e12) : 0;
  const double memory_s = p.mem_gbps > 0 ? op.bytes / (p.mem_gbps * 1e9) : 0;
  op.roof_ms = std::max(compute_s, memory_s) * 1e3;
  if (op.gpu_ns > 0 && op.roof_ms > 0) {
    op.efficiency = op.roof_ms / op.gpu_ms();
    op.lost_ms = std::max(0.0, op.gpu_ms() - op.roof_ms);
  }
  op.above_memory_roof = p.mem_gbps > 0 && op.achieved_gbps > p.mem_gbps;
  if (op.peak_tflops > 0 && p.mem_gbps > 0 && op.bytes > 0) {
    const double ridge = op.peak_tflops * 1e3 / p.mem_gbps;
    op.bound = op.intensity < ridge ? "memory" : "compute";
  }
}

}  // namespace

int RooflineResult::MemoryBound(size_t row) const {
  if (row >= op_of_kernel.size() || op_of_kernel[row] < 0) return -1;
  const std::string& b = ops[static_cast<size_t>(op_of_kernel[row])].bound;
  return b == "memory" ? 1 : b == "compute" ? 0 : -1;
}

RooflineResult ComputeRoofline(const Trace& trace, const std::vector<KernelClass>& classes,
                               const StepWindows& windows, int device,
                               const DevicePeakTable& table) {
  RooflineResult r;
  r.device = device;
  const GpuOpTable& g = trace.gpu_ops();
  const HostSliceTable& h = trace.host_slices();
  r.op_of_kernel.assign(g.size(), -1);
  if (const DeviceInfo* info = trace.FindDevice(device)) r.peaks = table.Match(*info);
  const DevicePeaks& peaks = r.peaks.peaks;

  // Counters, per kernel row or per launch call.
  const KernelCounterTable& ct = trace.kernel_counters();
  std::unordered_map<RowIndex, CounterWork> counters_of_kernel;
  std::vector<std::pair<RowIndex, CounterWork>> counters_of_launch;
  if (ct.size() > 0) {
    r.has_counters = true;
    r.counter_ranges = static_cast<int64_t>(ct.size());
    r.counter_mapping = MapCounterRanges(trace);
    for (size_t i = 0; i < ct.size(); ++i) {
      const CounterWork w = CounterWorkOf(trace, i);
      r.counter_flops += w.flops;
      if (w.has_dram) {
        r.counter_dram_bytes += w.dram_bytes;
        r.counter_has_dram = true;
      }
      if (r.counter_mapping.kernel[i] != kNoRow)
        counters_of_kernel[r.counter_mapping.kernel[i]] = w;
      else if (r.counter_mapping.launch[i] != kNoRow)
        counters_of_launch.emplace_back(r.counter_mapping.launch[i], w);
    }
    if (r.counter_mapping.matched < r.counter_ranges)
      r.notes.push_back(fmt::format(
          "hardware counters: {} of {} ranges matched to kernels ({}); the rest count only in "
          "the total",
          r.counter_mapping.matched, r.counter_ranges, r.counter_mapping.how));
    if (r.counter_mapping.name_mismatches > 0)
      r.notes.push_back(fmt::format(
          "hardware counters: {} ranges matched by launch order name another kernel: the "
          "per-op counter figures may be shifted",
          r.counter_mapping.name_mismatches));
  }

  const OpShapeTable& shape_table = trace.op_shapes();
  OpFinder finder(trace);
  std::vector<Instance> instances;
  std::unordered_map<RowIndex, size_t> instance_of;
  auto instance = [&](RowIndex slice) -> Instance& {
    auto [it, inserted] = instance_of.try_emplace(slice, instances.size());
    if (inserted) {
      instances.emplace_back();
      instances.back().slice = slice;
    }
    return instances[it->second];
  };
  auto add_counters = [](Instance& in, const CounterWork& w) {
    if (w.has_flops) {
      ++in.with_flops;
      in.counter_flops += w.flops;
    }
    if (w.has_dram) {
      ++in.with_dram;
      in.counter_bytes += w.dram_bytes;
    }
  };

  for (size_t i = 0; i < g.size(); ++i) {
    if (g.kind[i] != GpuOpKind::kKernel || g.device[i] != device) continue;
    if (!windows.Contains(g.start_ns[i]) || classes[i] == KernelClass::kCommunication) continue;
    const TimeNs d = g.duration(i);
    r.kernel_ns += d;
    // Without recorded arguments or counters no op has work to place on the roofline.
    if (shape_table.size() == 0 && ct.size() == 0) continue;
    RowIndex slice = g.launch[i];
    if (slice == kNoRow) slice = finder.ByExternalId(g.external_id[i]);
    RowIndex op = finder.FormulaOp(slice);
    auto counters = counters_of_kernel.find(static_cast<RowIndex>(i));
    if (op == kNoRow && counters != counters_of_kernel.end()) op = finder.InnermostCpuOp(slice);
    if (op == kNoRow) continue;
    Instance& in = instance(op);
    in.kernels.push_back(static_cast<RowIndex>(i));
    in.gpu_ns += d;
    in.tensor_core |= IsTensorCoreClass(classes[i]);
    if (counters != counters_of_kernel.end()) add_counters(in, counters->second);
  }
  for (const auto& [launch, w] : counters_of_launch) {
    if (!windows.Contains(h.start_ns[launch])) continue;
    RowIndex op = finder.FormulaOp(launch);
    if (op == kNoRow) op = finder.InnermostCpuOp(launch);
    if (op == kNoRow) continue;
    Instance& in = instance(op);
    ++in.launches_without_kernels;
    add_counters(in, w);
  }

  // Each call's work, then the groups. A training loop calls the same ops with the same
  // arguments every step: the work and the group are worked out once per distinct (op name,
  // recorded arguments) and how its counters decide, then looked up.
  struct CallKey {
    StringId name, dims, types, concrete;
    bool operator==(const CallKey&) const = default;
  };
  struct CallKeyHash {
    size_t operator()(const CallKey& k) const {
      uint64_t h = k.name * 0x9E3779B97F4A7C15ull;
      for (StringId id : {k.dims, k.types, k.concrete})
        h = (h ^ id) * 0xBF58476D1CE4E5B9ull;
      return static_cast<size_t>(h ^ (h >> 31));
    }
  };
  struct Call {
    std::optional<OpWork> work;
    size_t group[4];  // by (counter FLOPs, counter bytes); kNoGroup until first seen
  };
  constexpr size_t kNoGroup = SIZE_MAX;
  constexpr StringId kNoArguments = UINT32_MAX;
  std::unordered_map<CallKey, Call, CallKeyHash> calls;
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<RowIndex>> group_kernels;
  bool assumed = false, any_shapes = false, any_counters = false;
  for (const Instance& in : instances) {
    const RowIndex shapes = h.shapes[in.slice];
    CallKey call_key{h.name[in.slice], kNoArguments, kNoArguments, kNoArguments};
    if (shapes != kNoRow) {
      const auto row = static_cast<size_t>(shapes);
      call_key.dims = shape_table.input_dims[row];
      call_key.types = shape_table.input_types[row];
      call_key.concrete = shape_table.concrete_inputs[row];
    }
    auto [call, first_call] = calls.try_emplace(call_key);
    if (first_call) {
      std::fill(std::begin(call->second.group), std::end(call->second.group), kNoGroup);
      if (shapes != kNoRow)
        call->second.work =
            EstimateOpWork(trace.str(call_key.name), DecodeOpArguments(trace, shapes));
    }
    const std::optional<OpWork>& work = call->second.work;
    const int64_t units = in.work_units();
    // SASS FP counters miss Tensor Core math: they replace shapes only off the Tensor Cores.
    const bool counter_flops = units > 0 && in.with_flops == units && !(work && in.tensor_core);
    const bool counter_bytes = units > 0 && in.with_dram == units;
    if (!counter_flops && !counter_bytes && !work) continue;
    size_t& group = call->second.group[counter_flops * 2 + counter_bytes];
    if (group == kNoGroup) {
      RooflineOp probe;
      probe.name = std::string(trace.str(call_key.name));
      probe.shape = work ? work->shape : std::string();
      probe.kind = work ? std::string(ToString(work->kind)) : std::string("unknown");
      probe.dtype = work ? work->dtype : DataType::kUnknown;
      probe.matrix = work ? work->matrix : in.tensor_core;
      probe.flops_source = counter_flops ? "counters" : work ? "shapes" : "";
      probe.bytes_source = counter_bytes ? "counters" : work ? "shapes" : "";
      const std::string key =
          fmt::format("{}|{}|{}|{}|{}", probe.name, probe.shape, ToString(probe.dtype),
                      probe.flops_source, probe.bytes_source);
      auto [it, inserted] = group_of.try_emplace(key, r.ops.size());
      if (inserted) {
        r.ops.push_back(std::move(probe));
        group_kernels.emplace_back();
      }
      group = it->second;
    }
    RooflineOp& op = r.ops[group];
    ++op.calls;
    op.kernels += units;
    op.gpu_ns += in.gpu_ns;
    op.tensor_core |= in.tensor_core;
    op.flops += counter_flops ? in.counter_flops : work ? work->flops : 0.0;
    op.bytes += counter_bytes ? in.counter_bytes : work ? work->bytes : 0.0;
    op.assumed_dtype |= work && work->assumed_dtype && !counter_bytes;
    assumed |= op.assumed_dtype;
    any_shapes |= op.flops_source == "shapes" || op.bytes_source == "shapes";
    any_counters |= counter_flops || counter_bytes;
    for (RowIndex k : in.kernels)
      group_kernels[group].push_back(k);
    r.attributed_ns += in.gpu_ns;
  }

  for (RooflineOp& op : r.ops)
    Rates(op, peaks);
  // Most GPU time first; ties (counter-only ops have none) by FLOPs.
  std::vector<size_t> order(r.ops.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (r.ops[a].gpu_ns != r.ops[b].gpu_ns) return r.ops[a].gpu_ns > r.ops[b].gpu_ns;
    return r.ops[a].flops > r.ops[b].flops;
  });
  std::vector<RooflineOp> sorted;
  sorted.reserve(order.size());
  for (size_t rank = 0; rank < order.size(); ++rank) {
    sorted.push_back(std::move(r.ops[order[rank]]));
    for (RowIndex k : group_kernels[order[rank]])
      r.op_of_kernel[static_cast<size_t>(k)] = static_cast<int32_t>(rank);
  }
  r.ops = std::move(sorted);
  r.valid = !r.ops.empty();
  r.source = any_counters && any_shapes ? "counters+shapes"
             : any_counters             ? "counters"
             : any_shapes               ? "shapes"
                                        : "none";

  // The run's roof: the element type of the matrix ops with the most GPU time (all ops when
  // none runs on matrix units).
  std::map<std::pair<DataType, bool>, TimeNs> time_by_type;
  bool any_matrix = false;
  for (const RooflineOp& op : r.ops)
    any_matrix |= op.matrix && op.dtype != DataType::kUnknown;
  for (const RooflineOp& op : r.ops)
    if (op.dtype != DataType::kUnknown && (op.matrix || !any_matrix))
      time_by_type[{op.dtype, op.tensor_core}] += std::max<TimeNs>(op.gpu_ns, 1);
  std::pair<DataType, bool> top{DataType::kUnknown, false};
  TimeNs top_ns = -1;
  for (const auto& [type, ns] : time_by_type)
    if (ns > top_ns) {
      top = type;
      top_ns = ns;
    }
  r.dtype = top.first;
  if (r.dtype != DataType::kUnknown)
    r.peak_tflops = PeakTflops(peaks, r.dtype, any_matrix, top.second);
  r.peak_gbps = peaks.mem_gbps;
  if (r.peak_tflops > 0 && r.peak_gbps > 0) r.ridge = r.peak_tflops * 1e3 / r.peak_gbps;

  if (r.valid) {
    int64_t above = 0;
    for (const RooflineOp& op : r.ops)
      above += op.above_memory_roof;
    if (above > 0)
      r.notes.push_back(fmt::format(
          "{} op group{} moved bytes faster than the device's memory bandwidth: part of the data "
          "was in the L2 cache (bytes are each op's compulsory traffic, as if from DRAM)",
          above, above == 1 ? "" : "s"));
    if (r.peaks.origin == PeakOrigin::kUnknown)
      r.notes.push_back(
          r.peaks.device.empty()
              ? "the trace names no device (no deviceProperties): the roofline has no roofs; "
                "pass --device-peaks FILE"
              : fmt::format("device '{}' is not in the peak table (data/device_peaks.csv): the "
                            "roofline has no roofs; pass --device-peaks FILE",
                            r.peaks.device));
    else if (r.peaks.origin == PeakOrigin::kEstimated)
      r.notes.push_back("device peaks " + peaks.source);
    if (assumed)
      r.notes.push_back(
          "tensor lists (multi-tensor optimizer ops) record no element type: 4-byte elements "
          "assumed");
  }
  return r;
}

}  // namespace teye
