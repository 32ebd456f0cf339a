// Communication that costs more than its bytes: many small all-reduces (bucket them) and
// all-reduces that wait for the whole backward pass (overlap them with it).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

// DDP's default gradient bucket (bucket_cap_mb=25).
constexpr double kBucketBytes = 25e6;

// One iteration's collectives on the device, in stream order, and the backward kernels that
// produced their gradients. Iterations are told apart on the device itself, because the kernels
// that run during the trace may have been launched before it began (a host far ahead of the
// GPU): a group ends at a collective some later kernel on another stream waited for (the
// optimizer waiting for its gradients).
struct CommGroup {
  std::vector<int> comm;      // graph ops
  std::vector<int> backward;  // graph ops, by start
};

std::vector<CommGroup> CommGroups(const RuleContext& c, bool all_reduce_only) {
  const auto& ops = c.graph.ops;
  const GpuOpTable& g = c.trace.gpu_ops();
  auto is_comm = [&](size_t i) {
    if (ops[i].kind != GpuOpKind::kKernel || ops[i].cls != KernelClass::kCommunication)
      return false;
    if (!all_reduce_only) return true;
    const std::string name = CollectiveFromKernelName(c.trace.str(g.name[ops[i].row]));
    std::string lower;
    for (char ch : name)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower.find("allreduce") != std::string::npos ||
           lower.find("all_reduce") != std::string::npos;
  };
  AncestorNameMatcher is_backward(c.trace, {"backward", "autograd::"});
  std::vector<char> closes(ops.size(), 0);  // a kernel on another stream waited for it
  // (A kernel: copies of the next batch that happen to start as a collective ends do not use
  // the gradients.)
  for (const ReplayOp& op : ops)
    for (int w : op.waits)
      if (ops[w].cls == KernelClass::kCommunication && op.kind == GpuOpKind::kKernel &&
          op.cls != KernelClass::kCommunication)
        closes[w] = 1;
  std::vector<CommGroup> groups(1);
  std::vector<int> compute;  // non-communication kernels since the last group closed
  TimeNs group_open = INT64_MIN;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!is_comm(i)) {
      if (ops[i].kind == GpuOpKind::kKernel && ops[i].cls != KernelClass::kCommunication &&
          ops[i].cls != KernelClass::kOptimizer && ops[i].start >= group_open)
        compute.push_back(static_cast<int>(i));
      continue;
    }
    CommGroup& group = groups.back();
    group.comm.push_back(static_cast<int>(i));
    if (!closes[i]) continue;
    // Backward: kernels launched under autograd when the launches are known; otherwise the
    // last two thirds of the kernels before the collectives (backward does twice forward's
    // work).
    const TimeNs last = ops[group.comm.back()].start;
    std::vector<int> known, before;
    size_t with_launch = 0;
    for (int k : compute) {
      if (ops[k].start > last) continue;
      before.push_back(k);
      const RowIndex launch = g.launch[ops[k].row];
      if (launch == kNoRow) continue;
      ++with_launch;
      if (is_backward(launch)) known.push_back(k);
    }
    if (with_launch * 2 >= before.size() && !known.empty())
      group.backward = std::move(known);
    else
      group.backward.assign(before.begin() + before.size() / 3, before.end());
    compute.clear();
    group_open = last;
    groups.emplace_back();
  }
  // A trailing group nobody waited for is an iteration the trace cut off.
  std::erase_if(groups,
                [](const CommGroup& grp) { return grp.comm.empty() || grp.backward.empty(); });
  return groups;
}

int64_t CollectiveBytes(const RuleContext& c, int op) {
  const GpuOpTable& g = c.trace.gpu_ops();
  const RowIndex row = g.collective[c.graph.ops[op].row];
  return row == kNoRow ? 0 : c.trace.collectives().in_bytes[row];
}

// time = alpha + bytes / beta, fitted to the measured all-reduce kernels.
struct CostModel {
  double alpha_ns = 0;
  double ns_per_byte = 0;
  bool fitted = false;  // false: too little spread in sizes, bounded from the extremes instead
  double Predict(double bytes) const { return alpha_ns + bytes * ns_per_byte; }
};

CostModel FitCostModel(const RuleContext& c, const std::vector<std::vector<int>>& steps) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  double min_bytes = 1e300, max_bytes = 0, min_ns = 1e300, ns_at_max = 0;
  for (const auto& ops : steps) {
    for (int i : ops) {
      const double x = static_cast<double>(CollectiveBytes(c, i));
      const double y = static_cast<double>(c.graph.ops[i].duration());
      n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
      min_bytes = std::min(min_bytes, x);
      min_ns = std::min(min_ns, y);
      if (x >= max_bytes) max_bytes = x, ns_at_max = y;
    }
  }
  CostModel m;
  const double var = n * sxx - sx * sx;
  if (n >= 4 && max_bytes >= 4 * std::max(1.0, min_bytes) && var > 0) {
    m.ns_per_byte = (n * sxy - sx * sy) / var;
    m.alpha_ns = (sy - m.ns_per_byte * sx) / n;
    m.fitted = m.ns_per_byte > 0 && m.alpha_ns >= 0;
  }
  if (!m.fitted) {
    // The smallest call is mostly latency; the largest is mostly bandwidth.
    m.alpha_ns = min_ns;
    m.ns_per_byte = max_bytes > 0 ? std::max(0.0, ns_at_max - min_ns) / max_bytes : 0;
  }
  return m;
}

}  // namespace

std::vector<Recommendation> GradientBucketing(const RuleContext& c) {
  std::vector<std::vector<int>> steps;
  for (CommGroup& group : CommGroups(c, /*all_reduce_only=*/true))
    steps.push_back(std::move(group.comm));
  if (steps.empty()) return {};
  size_t calls = 0;
  std::vector<int64_t> sizes;
  for (const auto& ops : steps) {
    calls += ops.size();
    for (int i : ops)
      sizes.push_back(CollectiveBytes(c, i));
  }
  const double per_step = static_cast<double>(calls) / steps.size();
  std::nth_element(sizes.begin(), sizes.begin() + sizes.size() / 2, sizes.end());
  const double median_bytes = static_cast<double>(sizes[sizes.size() / 2]);
  if (per_step < 8 || median_bytes <= 0 || median_bytes >= kBucketBytes / 4) return {};

  const CostModel model = FitCostModel(c, steps);
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  change.removed.assign(c.graph.ops.size(), 0);
  double before_ns = 0, after_ns = 0;
  int buckets = 0;
  for (const auto& ops : steps) {
    double bucket = 0;
    for (size_t j = 0; j < ops.size(); ++j) {
      const int i = ops[j];
      bucket += static_cast<double>(CollectiveBytes(c, i));
      before_ns += static_cast<double>(c.graph.ops[i].duration());
      // A bucket is sent when it is full, or with the last gradient; it goes when its last
      // gradient is ready, which is when the last call of the group went.
      if (bucket >= kBucketBytes || j + 1 == ops.size()) {
        const double ns = model.Predict(bucket);
        const double d = static_cast<double>(c.graph.ops[i].duration());
        change.duration_scale[i] = d > 0 ? ns / d : 1.0;
        after_ns += ns;
        bucket = 0;
        ++buckets;
      } else {
        change.removed[i] = 1;
      }
    }
  }
  Recommendation r;
  r.id = "gradient_bucketing";
  r.title = "Send gradients in fewer, larger all-reduces";
  r.action =
      "DDP: raise bucket_cap_mb (DistributedDataParallel(model, bucket_cap_mb=25) or more) "
      "and do not all-reduce parameters one by one; FSDP: wrap larger modules; plain NCCL: "
      "flatten gradients into one buffer (or group calls with ncclGroupStart/End)";
  const double nsteps = static_cast<double>(steps.size());
  r.evidence.push_back(
      fmt::format("{:.0f} all-reduces per step, median {:.2f} MB each, {} per step", per_step,
                  median_bytes / 1e6, Ms(before_ns / nsteps / kNsPerMs)));
  r.evidence.push_back(fmt::format(
      "fitted cost {:.1f} µs + bytes / {:.1f} GB/s{}: the fixed part alone is {} per step",
      model.alpha_ns / 1000, model.ns_per_byte > 0 ? 1.0 / model.ns_per_byte : 0.0,
      model.fitted ? "" : " (bounded from the smallest and largest calls)",
      Ms(model.alpha_ns * per_step / kNsPerMs)));
  r.saving_ms = c.SavingMs(change);
  r.method = fmt::format(
      "fitted time = α + bytes/β to the all-reduce kernels, regrouped them into {:.0f} buckets "
      "of ≤25 MB per step ({} → {} of communication), and replayed the steps with them",
      buckets / nsteps, Ms(before_ns / nsteps / kNsPerMs), Ms(after_ns / nsteps / kNsPerMs));
  r.confidence = model.fitted ? Confidence::kMedium : Confidence::kLow;
  r.relieves = BoundClass::kCommunication;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

std::vector<Recommendation> OverlapCommunication(const RuleContext& c) {
  if (c.Share(TimeCategory::kCommunication) < 0.05) return {};
  const std::vector<CommGroup> groups = CommGroups(c, /*all_reduce_only=*/false);
  ReplayChange change;
  change.waits.assign(c.graph.ops.size(), std::nullopt);
  int serial = 0;
  double comm_ns = 0;
  for (const CommGroup& group : groups) {
    // Already overlapped when communication starts before most of backward has run.
    const std::vector<int>& b = group.backward;
    if (b.size() < 2 ||
        c.graph.ops[group.comm.front()].start < c.graph.ops[b[b.size() * 9 / 10]].end)
      continue;
    ++serial;
    // Gradients become ready as backward runs: spread the calls over it, in order, each
    // waiting for the backward kernel at its share of the pass.
    const size_t k = group.comm.size();
    for (size_t j = 0; j < k; ++j) {
      const size_t at = ((j + 1) * b.size() + k - 1) / k - 1;
      change.waits[group.comm[j]] = std::vector<int>{b[at]};
      comm_ns += static_cast<double>(c.graph.ops[group.comm[j]].duration());
    }
  }
  if (serial == 0 || serial * 2 < static_cast<int>(groups.size())) return {};

  Recommendation r;
  r.id = "overlap_comm";
  r.title = "Overlap gradient communication with the backward pass";
  r.action =
      "DDP overlaps by itself: do not all-reduce after loss.backward() by hand, and avoid "
      "no_sync() on every step; with FSDP keep backward_prefetch; plain NCCL: launch each "
      "bucket's ncclAllReduce on a communication stream as soon as its gradients are ready";
  r.evidence.push_back(fmt::format(
      "exposed communication {} per step ({} of the step); in {} of {} iterations it starts "
      "only after backward has finished",
      Ms(c.MsPerStep(TimeCategory::kCommunication)), Pct(c.Share(TimeCategory::kCommunication)),
      serial, groups.size()));
  r.evidence.push_back(
      fmt::format("{} of communication kernels per iteration", Ms(comm_ns / serial / kNsPerMs)));
  r.saving_ms = c.SavingMs(change);
  r.method =
      "replayed with each step's collectives, in their order, starting as soon as the "
      "backward kernel at their share of the pass has run (gradients of the last layers "
      "are ready first), still one at a time on their stream";
  r.confidence = Confidence::kMedium;
  r.relieves = BoundClass::kCommunication;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
