// Memory-bound work that need not exist: unfused elementwise chains (torch.compile, fused
// optimizers) and layout transposes (channels_last).
#include <map>

#include "rule_functions.h"
#include "rule_helpers.h"

namespace teye::rules {
namespace {

struct Chains {
  std::vector<std::vector<int>> model;      // chains in the model's code
  std::vector<std::vector<int>> optimizer;  // chains inside optimizer.step()
};

// Runs of elementwise kernels that follow each other on a stream: each reads what the previous
// wrote, so one fused kernel reads the inputs once and writes the result once.
Chains FindChains(const RuleContext& c) {
  Chains out;
  const auto& ops = c.graph.ops;
  const GpuOpTable& g = c.trace.gpu_ops();
  AncestorNameMatcher under_optimizer(c.trace, {"optimizer", "optim."});
  auto in_optimizer = [&](size_t i) {
    const RowIndex launch = g.launch[ops[i].row];
    return launch != kNoRow && under_optimizer(launch);
  };
  std::vector<int> head(ops.size(), -1);
  std::vector<char> optimizer(ops.size(), 0);
  std::map<int, std::vector<int>> by_head;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != GpuOpKind::kKernel || ops[i].cls != KernelClass::kElementwise) continue;
    optimizer[i] = in_optimizer(i);
    // A chain does not run from the model's code into optimizer.step(): they fuse apart.
    const int p = ops[i].prev_on_stream;
    head[i] =
        p >= 0 && head[p] >= 0 && optimizer[p] == optimizer[i] ? head[p] : static_cast<int>(i);
    by_head[head[i]].push_back(static_cast<int>(i));
  }
  for (auto& [h, chain] : by_head) {
    if (chain.size() < 2) continue;
    (optimizer[h] ? out.optimizer : out.model).push_back(chain);
  }
  return out;
}

ReplayChange FuseChains(const RuleContext& c, const std::vector<std::vector<int>>& chains) {
  ReplayChange change;
  change.duration_scale.assign(c.graph.ops.size(), 1.0);
  change.removed.assign(c.graph.ops.size(), 0);
  for (const auto& chain : chains) {
    TimeNs longest = 0;
    for (int i : chain)
      longest = std::max(longest, c.graph.ops[i].duration());
    const TimeNs first = c.graph.ops[chain.front()].duration();
    change.duration_scale[chain.front()] = first > 0 ? static_cast<double>(longest) / first : 1.0;
    for (size_t j = 1; j < chain.size(); ++j)
      change.removed[chain[j]] = 1;
  }
  return change;
}

double ChainMsPerStep(const RuleContext& c, const std::vector<std::vector<int>>& chains,
                      size_t* kernels) {
  double ns = 0;
  *kernels = 0;
  for (const auto& chain : chains) {
    for (int i : chain)
      ns += static_cast<double>(c.graph.ops[i].duration());
    *kernels += chain.size();
  }
  return ns / kNsPerMs / std::max<size_t>(1, c.graph.steps.size());
}

Recommendation Fused(const RuleContext& c, const std::vector<std::vector<int>>& chains,
                     bool optimizer) {
  size_t kernels = 0;
  const double ms = ChainMsPerStep(c, chains, &kernels);
  Recommendation r;
  r.id = optimizer ? "fused_optimizer" : "fuse_elementwise";
  r.title = optimizer ? "Use a fused optimizer" : "Fuse chains of elementwise kernels";
  r.action = optimizer ? "torch.optim.AdamW(params, ..., fused=True) (or foreach=True); apex "
                         "FusedAdam / FusedLAMB"
                       : "model = torch.compile(model) fuses elementwise chains into single "
                         "kernels; or use fused layers (e.g. fused bias+GELU, Transformer Engine)";
  const double steps = std::max<size_t>(1, c.graph.steps.size());
  r.evidence.push_back(fmt::format(
      "{:.0f} elementwise kernels per step run in chains of {:.1f} on average that pass data "
      "through memory: {} per step ({} of the step)",
      kernels / steps, static_cast<double>(kernels) / std::max<size_t>(1, chains.size()), Ms(ms),
      Pct(ms / c.mean_step_ms)));
  r.saving_ms = c.SavingMs(FuseChains(c, chains));
  r.method =
      "replayed with each chain as one kernel as long as its longest member (a fused kernel "
      "reads its inputs and writes its result once) and one launch instead of many";
  r.confidence = Confidence::kMedium;
  r.relieves = BoundClass::kMemory;
  return c.Finish(std::move(r));
}

}  // namespace

std::vector<Recommendation> FuseElementwise(const RuleContext& c) {
  const Chains chains = FindChains(c);
  std::vector<Recommendation> out;
  size_t kernels = 0;
  if (!chains.model.empty() && ChainMsPerStep(c, chains.model, &kernels) >= 0.03 * c.mean_step_ms) {
    Recommendation r = Fused(c, chains.model, false);
    if (WorthReporting(r.saving_ms, c.mean_step_ms)) out.push_back(std::move(r));
  }
  if (!chains.optimizer.empty() &&
      ChainMsPerStep(c, chains.optimizer, &kernels) >= 0.03 * c.mean_step_ms) {
    Recommendation r = Fused(c, chains.optimizer, true);
    if (WorthReporting(r.saving_ms, c.mean_step_ms)) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Recommendation> ChannelsLast(const RuleContext& c) {
  ReplayChange change;
  change.removed.assign(c.graph.ops.size(), 0);
  double ns = 0;
  int count = 0;
  for (size_t i = 0; i < c.graph.ops.size(); ++i) {
    const ReplayOp& op = c.graph.ops[i];
    if (op.kind != GpuOpKind::kKernel) continue;
    std::string_view name = c.trace.str(c.trace.gpu_ops().name[op.row]);
    const bool transpose = name.find("nchwToNhwc") != std::string_view::npos ||
                           name.find("nhwcToNchw") != std::string_view::npos ||
                           name.find("nchw2nhwc") != std::string_view::npos ||
                           name.find("nhwc2nchw") != std::string_view::npos;
    if (!transpose) continue;
    change.removed[i] = 1;
    ns += static_cast<double>(op.duration());
    ++count;
  }
  const double steps = std::max<size_t>(1, c.graph.steps.size());
  const double ms = ns / kNsPerMs / steps;
  if (count == 0 || ms < 0.03 * c.mean_step_ms) return {};
  Recommendation r;
  r.id = "channels_last";
  r.title = "Use channels_last so convolutions stop transposing their tensors";
  r.action =
      "model = model.to(memory_format=torch.channels_last) and "
      "input = input.to(memory_format=torch.channels_last)";
  r.evidence.push_back(
      fmt::format("{:.0f} layout transposes (NCHW <-> NHWC) per step take {} ({} of the step)",
                  count / steps, Ms(ms), Pct(ms / c.mean_step_ms)));
  r.saving_ms = c.SavingMs(change);
  r.method = "replayed without the layout-transpose kernels";
  r.confidence = Confidence::kMedium;
  r.relieves = BoundClass::kMemory;
  if (!WorthReporting(r.saving_ms, c.mean_step_ms)) return {};
  return {c.Finish(std::move(r))};
}

}  // namespace teye::rules
