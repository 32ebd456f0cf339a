#include "json_microarch.h"

#include <algorithm>

namespace teye::json {
namespace {

// Zero means "unknown" for peaks and rates: written as null.
Json OrNull(double v, int digits) {
  return v > 0 ? Json(Round(v, digits)) : Json();
}

std::string Source(const RooflineOp& op) {
  if (op.flops_source == op.bytes_source || op.bytes_source.empty()) return op.flops_source;
  if (op.flops_source.empty()) return op.bytes_source;
  return op.flops_source + " (FLOPs), " + op.bytes_source + " (bytes)";
}

Json RooflineJson(const RooflineResult& r) {
  Json j;
  j["source"] = r.source;
  j["device"] = r.peaks.device;
  j["device_peaks"] = ToString(r.peaks.origin);
  if (r.peaks.origin != PeakOrigin::kUnknown) j["peaks_source"] = r.peaks.peaks.source;
  j["dtype"] = ToString(r.dtype);
  j["peak_tflops"] = OrNull(r.peak_tflops, 3);
  j["peak_gbps"] = OrNull(r.peak_gbps, 1);
  j["ridge"] = OrNull(r.ridge, 2);
  if (r.has_counters) {
    j["counter_flops"] = r.counter_flops;
    j["counter_ranges"] = r.counter_ranges;
    if (r.counter_has_dram) j["counter_dram_bytes"] = r.counter_dram_bytes;
    j["counter_matching"] = r.counter_mapping.how;
  }
  j["kernel_ms"] = Ms(static_cast<double>(r.kernel_ns));
  j["coverage"] = Share(r.coverage());
  j["ops_total"] = r.ops.size();
  Json ops = Json::array();
  for (size_t i = 0; i < r.ops.size() && i < kMicroArchListed; ++i) {
    const RooflineOp& op = r.ops[i];
    Json o;
    o["name"] = op.name;
    o["shape"] = op.shape;
    o["kind"] = op.kind;
    o["dtype"] = ToString(op.dtype);
    o["source"] = Source(op);
    o["calls"] = op.calls;
    o["kernels"] = op.kernels;
    o["flops"] = op.flops;
    o["bytes"] = op.bytes;
    o["gpu_ms"] = Ms(static_cast<double>(op.gpu_ns));
    o["achieved_tflops"] = op.gpu_ns > 0 ? Json(Round(op.achieved_tflops, 4)) : Json();
    o["achieved_gbps"] = op.gpu_ns > 0 ? Json(Round(op.achieved_gbps, 2)) : Json();
    o["intensity"] = op.bytes > 0 ? Json(Round(op.intensity, 3)) : Json();
    o["peak_tflops"] = OrNull(op.peak_tflops, 3);
    o["efficiency"] = op.efficiency > 0 ? Json(Round(op.efficiency, 4)) : Json();
    o["lost_ms"] = Round(op.lost_ms, 3);
    o["bound"] = op.bound;
    if (op.assumed_dtype) o["assumed_dtype"] = true;
    if (op.above_memory_roof) o["above_memory_roof"] = true;
    ops.push_back(std::move(o));
  }
  j["ops"] = std::move(ops);
  j["notes"] = r.notes;
  return j;
}

Json OccupancyJson(const TraceAnalysis& a) {
  const OccupancyResult& o = a.occupancy;
  Json j;
  j["device"] = o.device;
  j["num_sms"] = o.num_sms;
  j["sm_efficiency"] = Share(o.sm_efficiency);
  j["theoretical"] = o.limits.known ? Json(Share(o.theoretical)) : Json();
  j["achieved"] = o.achieved >= 0 ? Json(Share(o.achieved)) : Json();
  Json steps = Json::array();
  for (double e : o.step_sm_efficiency)
    steps.push_back(Share(e));
  j["step_sm_efficiency"] = std::move(steps);
  const double n = std::max(1, a.complete_steps);
  j["small_grid_ms_per_step"] = Ms(static_cast<double>(o.small_grid_ns) / n);
  Json kernels = Json::array();
  for (size_t i = 0; i < o.kernels.size() && i < kMicroArchListed; ++i) {
    const KernelOccupancy& k = o.kernels[i];
    Json e;
    e["name"] = k.name;
    e["calls"] = k.calls;
    e["gpu_ms"] = Ms(static_cast<double>(k.gpu_ns));
    e["grid_blocks"] = k.grid_blocks;
    e["block_threads"] = k.block_threads;
    e["registers"] = k.registers;
    e["shared_memory"] = k.shared_memory;
    if (o.limits.known) {
      e["blocks_per_sm"] = k.occupancy.blocks_per_sm;
      e["theoretical"] = Share(k.occupancy.theoretical);
      e["limiter"] = ToString(k.occupancy.limiter);
    }
    e["achieved"] = k.achieved >= 0 ? Json(Share(k.achieved)) : Json();
    e["sm_efficiency"] = Share(k.sm_efficiency);
    kernels.push_back(std::move(e));
  }
  j["kernels"] = std::move(kernels);
  j["notes"] = o.notes;
  return j;
}

}  // namespace

void AddMicroArch(const TraceAnalysis& a, Json& rank) {
  rank["roofline"] =
      a.roofline.valid || a.roofline.has_counters ? RooflineJson(a.roofline) : Json();
  rank["occupancy"] = a.occupancy.valid ? OccupancyJson(a) : Json();
}

}  // namespace teye::json
