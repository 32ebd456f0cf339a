// TraceBuilder, part 2 of 3: Merge(), which appends a chunk's builder (parsed in parallel) after
// what this one holds, mapping its string ids, thread rows and time base onto ours.
#include <vector>

#include "teye/model/trace_builder.h"

#include "column_ops.h"

namespace teye {

using columns::AppendTable;
using columns::RemapFrom;

void TraceBuilder::Merge(TraceBuilder&& part) {
  // Strings: part ids → our ids.
  const StringPool& ps = part.trace_.strings_;
  std::vector<StringId> smap(ps.size());
  for (size_t i = 0; i < ps.size(); ++i)
    smap[i] = Intern(ps.Get(static_cast<StringId>(i)));
  auto s = [&](StringId id) { return smap[id]; };

  // Threads: part rows → our rows, by key.
  const ThreadTable& pt = part.trace_.threads_;
  std::vector<ThreadIndex> tmap(pt.size());
  for (size_t i = 0; i < pt.size(); ++i)
    tmap[i] = InternThreadIds({pt.pid[i], s(pt.pid_label[i]), pt.tid[i], s(pt.tid_label[i])});
  auto th = [&](ThreadIndex t) { return t == kNoThread ? kNoThread : tmap[t]; };

  // Times: part ticks are relative to part.base_.
  int64_t shift = 0;
  if (part.has_base_) {
    if (!has_base_) {
      has_base_ = true;
      base_ = part.base_;
    }
    int64_t delta;
    if (__builtin_sub_overflow(part.base_, base_, &delta) ||
        __builtin_mul_overflow(delta, int64_t{1000}, &shift)) {
      stats().warnings.push_back(
          "timestamps span more than the model's range; a chunk was dropped");
      stats().Count(SkipReason::kBadNumber, static_cast<int64_t>(part.pending_rows()));
      return;
    }
  }
  auto tk = [&](int64_t ticks) { return ticks + shift; };
  saw_fraction_ |= part.saw_fraction_;

  Trace& p = part.trace_;
  Trace& d = trace_;
  const auto coll_offset = static_cast<RowIndex>(d.collectives_.size());
  auto coll = [&](RowIndex r) { return r == kNoRow ? kNoRow : r + coll_offset; };

  {
    size_t from = d.collectives_.size();
    AppendTable(d.collectives_, p.collectives_);
    auto& c = d.collectives_;
    RemapFrom(c.op, from, s);
    RemapFrom(c.dtype, from, s);
    RemapFrom(c.group_name, from, s);
    RemapFrom(c.algorithm, from, s);
    RemapFrom(c.protocol, from, s);
  }
  const auto shape_offset = static_cast<RowIndex>(d.op_shapes_.size());
  auto shape = [&](RowIndex r) { return r == kNoRow ? kNoRow : r + shape_offset; };
  {
    size_t from = d.op_shapes_.size();
    AppendTable(d.op_shapes_, p.op_shapes_);
    auto& o = d.op_shapes_;
    RemapFrom(o.input_dims, from, s);
    RemapFrom(o.input_types, from, s);
    RemapFrom(o.input_strides, from, s);
    RemapFrom(o.concrete_inputs, from, s);
  }
  {
    const auto value_offset = static_cast<RowIndex>(d.kernel_counter_values_.size());
    size_t from = d.kernel_counter_values_.size();
    AppendTable(d.kernel_counter_values_, p.kernel_counter_values_);
    RemapFrom(d.kernel_counter_values_.metric, from, s);
    from = d.kernel_counters_.size();
    AppendTable(d.kernel_counters_, p.kernel_counters_);
    auto& k = d.kernel_counters_;
    RemapFrom(k.start_ns, from, tk);
    RemapFrom(k.name, from, s);
    RemapFrom(k.value_begin, from, [&](RowIndex r) { return r + value_offset; });
  }
  {
    size_t from = d.gpu_ops_.size();
    AppendTable(d.gpu_ops_, p.gpu_ops_);
    auto& g = d.gpu_ops_;
    RemapFrom(g.start_ns, from, tk);
    RemapFrom(g.end_ns, from, tk);
    RemapFrom(g.name, from, s);
    RemapFrom(g.collective, from, coll);
  }
  {
    size_t from = d.host_slices_.size();
    AppendTable(d.host_slices_, p.host_slices_);
    auto& h = d.host_slices_;
    RemapFrom(h.start_ns, from, tk);
    RemapFrom(h.end_ns, from, tk);
    RemapFrom(h.name, from, s);
    RemapFrom(h.category, from, s);
    RemapFrom(h.thread, from, th);
    RemapFrom(h.detail, from, s);
    RemapFrom(h.collective, from, coll);
    RemapFrom(h.shapes, from, shape);
  }
  {
    size_t from = d.gpu_annotations_.size();
    AppendTable(d.gpu_annotations_, p.gpu_annotations_);
    RemapFrom(d.gpu_annotations_.start_ns, from, tk);
    RemapFrom(d.gpu_annotations_.end_ns, from, tk);
    RemapFrom(d.gpu_annotations_.name, from, s);
  }
  {
    size_t from = d.counters_.size();
    AppendTable(d.counters_, p.counters_);
    RemapFrom(d.counters_.ts_ns, from, tk);
    RemapFrom(d.counters_.name, from, s);
  }
  {
    size_t from = d.memory_events_.size();
    AppendTable(d.memory_events_, p.memory_events_);
    RemapFrom(d.memory_events_.ts_ns, from, tk);
    RemapFrom(d.memory_events_.thread, from, th);
  }
  {
    size_t from = d.instants_.size();
    AppendTable(d.instants_, p.instants_);
    RemapFrom(d.instants_.ts_ns, from, tk);
    RemapFrom(d.instants_.name, from, s);
    RemapFrom(d.instants_.category, from, s);
    RemapFrom(d.instants_.thread, from, th);
  }
  {
    size_t from = d.flows_.size();
    AppendTable(d.flows_, p.flows_);
    RemapFrom(d.flows_.ts_ns, from, tk);
    RemapFrom(d.flows_.category, from, s);
    RemapFrom(d.flows_.thread, from, th);
  }
  for (Half h : part.halves_) {
    h.thread = th(h.thread);
    h.ticks = tk(h.ticks);
    h.name = s(h.name);
    h.category = s(h.category);
    h.detail = s(h.detail);
    halves_.push_back(h);
  }
  for (auto n : part.process_names_) {
    n.key.pid_label = s(n.key.pid_label);
    n.name = s(n.name);
    process_names_.push_back(n);
  }
  for (auto n : part.thread_names_) {
    n.key.pid_label = s(n.key.pid_label);
    n.key.tid_label = s(n.key.tid_label);
    n.name = s(n.name);
    thread_names_.push_back(n);
  }
  for (auto& dev : p.devices_)
    AddDevice(std::move(dev));
  if (p.distributed_.rank >= 0 || !p.distributed_.backend.empty())
    d.distributed_ = std::move(p.distributed_);
  stats().Merge(p.stats_);
  part = TraceBuilder();
}

}  // namespace teye
