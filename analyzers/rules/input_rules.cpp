// Input pipeline: more DataLoader workers, pinned memory, copies overlapped on a side stream.
#include <cmath>
#include <set>

#include "input_pricing.h"
#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

bool PageableHtoD(const GpuOpTable& g, RowIndex r) {
  return g.kind[r] == GpuOpKind::kMemcpy && g.copy_kind[r] == CopyKind::kHtoD &&
         g.src_memory[r] == MemoryKind::kPageable;
}

// Host-to-device bandwidth from pinned memory: measured when the trace has pinned copies, else
// the bus the device generation comes with (PCIe 3/4/5, as commonly achieved).
double PinnedGbps(const RuleContext& c, bool* measured = nullptr) {
  if (measured) *measured = false;
  for (const CopyStat& s : c.memcpy.copies) {
    if (s.kind == CopyKind::kHtoD && s.host_memory == MemoryKind::kPinned && s.bytes > (1 << 20)) {
      if (measured) *measured = true;
      return s.gb_per_s();
    }
  }
  const DeviceInfo* d = c.DeviceProperties();
  const int major = d ? d->compute_major : 0;
  if (major >= 9) return 50;
  if (major == 8) return 24;
  return 12;
}

// The nearest framework op (`cpu_op`) enclosing a host slice, or kNoRow.
RowIndex EnclosingOp(const HostSliceTable& h, RowIndex r) {
  for (RowIndex p = h.parent[r]; p != kNoRow; p = h.parent[p])
    if (h.kind[p] == HostSliceKind::kCpuOp) return p;
  return kNoRow;
}

// The stream synchronization a blocking copy brings with it: PyTorch's `.to(device)` of a
// pageable tensor is cudaMemcpyAsync followed by cudaStreamSynchronize inside the same aten op;
// `non_blocking=True` drops both waits. Without framework ops in the trace, a sync the same
// thread calls right after the copy (within 100 µs) is taken to be the copy's.
int SyncOfCopy(const RuleContext& c, size_t copy_event) {
  const HostSliceTable& h = c.trace.host_slices();
  const ReplayHostEvent& copy = c.graph.host[copy_event];
  for (size_t e = copy_event + 1; e < c.graph.host.size(); ++e) {
    const ReplayHostEvent& next = c.graph.host[e];
    if (next.thread != copy.thread || next.kind == ReplayHostEvent::Kind::kMarker) continue;
    if (next.kind != ReplayHostEvent::Kind::kSync) return -1;
    const RowIndex op = EnclosingOp(h, copy.slice);
    if (op != kNoRow) return EnclosingOp(h, next.slice) == op ? static_cast<int>(e) : -1;
    return next.start - copy.end <= 100 * kNsPerUs ? static_cast<int>(e) : -1;
  }
  return -1;
}

}  // namespace

std::vector<Recommendation> DataLoaderWorkers(const RuleContext& c) {
  const double input_ms = c.MsPerStep(TimeCategory::kInput);
  if (c.Share(TimeCategory::kInput) < 0.02) return {};
  const LoaderFixPrice price = PriceLoaderFix(c);
  const bool loads_inline = price.inline_iterations > 0;
  Recommendation r;
  r.id = "dataloader_workers";
  r.title = loads_inline ? "Load batches in DataLoader workers, not on the training thread"
                         : "Feed the GPU faster: more DataLoader workers and prefetching";
  r.action =
      "DataLoader(..., num_workers=<CPU cores per GPU>, prefetch_factor=4, persistent_workers=True,"
      " pin_memory=True); if workers are already plentiful, make each sample cheaper (decode once "
      "and cache, move augmentation to the GPU, e.g. NVIDIA DALI)";
  r.evidence.push_back(fmt::format("{} waits {} per step ({} of the step) for the next batch",
                                   c.host_only ? "the training thread" : "the GPU", Ms(input_ms),
                                   Pct(c.Share(TimeCategory::kInput))));
  if (loads_inline)
    r.evidence.push_back(fmt::format(
        "{} DataLoader iterations load their batch on the training thread ({}, {} per step): "
        "reading, decoding and collating run inside the step (num_workers=0)",
        price.inline_iterations, price.inline_loader, Ms(price.inline_ms_per_step)));
  if (std::string who = TopContributors(c, TimeCategory::kInput); !who.empty())
    r.evidence.push_back("the host was in " + who);
  for (const StallPattern& p : c.stalls) {
    if (p.reason != TimeCategory::kInput) continue;
    r.evidence.push_back(
        p.every_steps > 0
            ? fmt::format("the wait recurs every {} steps ({} each): the workers deliver batches "
                          "in bursts and then fall behind",
                          p.every_steps, Ms(p.mean_ms))
            : fmt::format("the wait recurs every {} ({} each)", Ms(p.period_ms), Ms(p.mean_ms)));
    break;
  }
  r.saving_ms = c.SavingMs(price.change);
  if (loads_inline && r.saving_ms > 0) {
    // Workers keep up when together they load a batch within the faster step.
    const double step_after = std::max(0.001, c.mean_step_ms - r.saving_ms);
    r.evidence.push_back(fmt::format(
        "at the replayed step of {}, {} or more workers keep up with the {} of loading a step "
        "needs",
        Ms(step_after), static_cast<int>(std::ceil(price.inline_ms_per_step / step_after)),
        Ms(price.inline_ms_per_step)));
  }
  r.method = price.method;
  r.confidence = Confidence::kHigh;
  r.relieves = BoundClass::kInput;
  FollowInputCause(c, r);
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

std::vector<Recommendation> PinMemory(const RuleContext& c) {
  const GpuOpTable& g = c.trace.gpu_ops();
  int64_t bytes = 0, count = 0;
  double ms = 0, pageable_gbps = 0;
  ReplayChange change;
  change.async_copy.assign(c.graph.host.size(), 0);
  change.sync_removed.assign(c.graph.host.size(), 0);
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  int copy_syncs = 0;
  bool measured = false;
  const double pinned = PinnedGbps(c, &measured);
  for (size_t e = 0; e < c.graph.host.size(); ++e) {
    const ReplayHostEvent& ev = c.graph.host[e];
    if (ev.ops.empty()) continue;
    const ReplayOp& op = c.graph.ops[ev.ops.front()];
    if (!PageableHtoD(g, op.row)) continue;
    change.async_copy[e] = 1;
    if (const int sync = SyncOfCopy(c, e); sync >= 0) {
      change.sync_removed[static_cast<size_t>(sync)] = 1;
      ++copy_syncs;
    }
    const double gbps =
        op.duration() > 0 ? static_cast<double>(g.bytes[op.row]) / op.duration() : 0;
    if (gbps > 0 && gbps < pinned) change.duration_scale[ev.ops.front()] = gbps / pinned;
  }
  for (const CopyStat& s : c.memcpy.copies) {
    if (s.kind != CopyKind::kHtoD || s.host_memory != MemoryKind::kPageable) continue;
    bytes += s.bytes;
    count += s.count;
    ms += static_cast<double>(s.total_ns) / kNsPerMs;
    pageable_gbps = s.gb_per_s();
  }
  if (count == 0 || ms / std::max(1, c.complete_steps) < 0.01 * c.mean_step_ms) return {};
  Recommendation r;
  r.id = "pin_memory";
  r.title = "Copy input batches from pinned memory, without blocking the host";
  r.action = "DataLoader(..., pin_memory=True) and batch = batch.to(device, non_blocking=True)";
  const double steps = std::max(1, c.complete_steps);
  r.evidence.push_back(fmt::format(
      "{:.0f} host-to-device copies per step from pageable memory ({:.1f} MB, {} per step) at "
      "{:.1f} GB/s; pageable copies block the host until they finish",
      count / steps, static_cast<double>(bytes) / steps / 1e6, Ms(ms / steps), pageable_gbps));
  if (copy_syncs > 0)
    r.evidence.push_back(fmt::format(
        "{:.0f} stream synchronizations per step come with those copies (a blocking .to(device) "
        "waits for everything queued before it)",
        copy_syncs / steps));
  r.saving_ms = c.SavingMs(change);
  r.method = fmt::format(
      "replayed with those copies not blocking the host{} and running at {:.0f} GB/s (pinned "
      "host-to-device bandwidth {})",
      copy_syncs > 0 ? " (nor the stream synchronization each brings)" : "", pinned,
      measured ? "measured in this trace" : "typical of this device generation's bus");
  r.confidence = Confidence::kHigh;
  r.relieves = BoundClass::kInput;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

std::vector<Recommendation> OverlapInputCopies(const RuleContext& c) {
  const GpuOpTable& g = c.trace.gpu_ops();
  // Pinned host-to-device copies that sit on a compute stream and are exposed.
  if (c.device.total_duration <= 0) return {};
  const double exposed_share =
      static_cast<double>(c.device.exposed_h2d_ns) / static_cast<double>(c.device.total_duration);
  if (exposed_share < 0.02) return {};
  ReplayChange change;
  change.side_stream.assign(c.graph.ops.size(), 0);
  change.async_copy.assign(c.graph.host.size(), 0);
  // Only copies that share a stream with kernels: on a stream of their own they overlap already.
  std::set<int> kernel_streams;
  for (const ReplayOp& op : c.graph.ops)
    if (op.kind == GpuOpKind::kKernel) kernel_streams.insert(op.stream);
  int moved = 0;
  for (size_t i = 0; i < c.graph.ops.size(); ++i) {
    const ReplayOp& op = c.graph.ops[i];
    if (op.kind != GpuOpKind::kMemcpy || g.copy_kind[op.row] != CopyKind::kHtoD) continue;
    if (!kernel_streams.count(op.stream)) continue;
    if (g.src_memory[op.row] == MemoryKind::kPageable) continue;  // pin_memory first
    change.side_stream[i] = 1;
    if (op.launch >= 0) change.async_copy[static_cast<size_t>(op.launch)] = 1;
    ++moved;
  }
  if (moved == 0) return {};
  Recommendation r;
  r.id = "overlap_input_copies";
  r.title = "Prefetch the next batch to the GPU on a side stream";
  r.action =
      "copy the next batch with .to(device, non_blocking=True) inside "
      "`with torch.cuda.stream(copy_stream):` while the current step computes, then "
      "torch.cuda.current_stream().wait_stream(copy_stream) (a CUDA prefetcher)";
  const double steps = std::max<size_t>(1, c.device.steps.size());
  r.evidence.push_back(fmt::format(
      "host-to-device copies leave the GPU without a kernel for {} per step ({} of the step)",
      Ms(static_cast<double>(c.device.exposed_h2d_ns) / kNsPerMs / steps), Pct(exposed_share)));
  r.saving_ms = c.SavingMs(change);
  r.method =
      "replayed with the input copies on a stream of their own, overlapping earlier work; "
      "the kernels that read the batch still wait for its copy";
  r.confidence = Confidence::kMedium;
  r.relieves = BoundClass::kInput;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
