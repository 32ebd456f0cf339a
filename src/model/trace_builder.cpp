#include "teye/model/trace_builder.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <thread>
#include <unordered_map>

namespace teye {
namespace {

// Reorders every column of `table` so that new row i is old row perm[i].
template <typename Table>
void Permute(Table& table, const std::vector<uint32_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size() && identity; ++i)
    identity = perm[i] == i;
  if (identity) return;  // already in order: most tables of most traces
  table.ForEachColumn([&](auto& column) {
    if (column.empty()) return;
    std::remove_reference_t<decltype(column)> sorted;
    sorted.reserve(column.size());
    for (uint32_t i : perm)
      sorted.push_back(column[i]);
    column.swap(sorted);
  });
}

template <typename Table>
void AppendTable(Table& dst, Table& src) {
  // Column lists are identical, so walk them pairwise through two passes of ForEachColumn.
  std::vector<void*> src_columns;
  src.ForEachColumn([&](auto& column) { src_columns.push_back(&column); });
  size_t i = 0;
  dst.ForEachColumn([&](auto& column) {
    auto* from = static_cast<std::remove_reference_t<decltype(column)>*>(src_columns[i++]);
    column.insert(column.end(), from->begin(), from->end());
  });
}

template <typename Vec, typename F>
void RemapFrom(Vec& column, size_t from, F&& f) {
  for (size_t i = from; i < column.size(); ++i)
    column[i] = f(column[i]);
}

std::vector<uint32_t> Identity(size_t n) {
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  return perm;
}

template <typename Table>
void SortByTs(Table& table) {
  if (std::is_sorted(table.ts_ns.begin(), table.ts_ns.end())) return;
  auto perm = Identity(table.size());
  std::stable_sort(perm.begin(), perm.end(),
                   [&](uint32_t a, uint32_t b) { return table.ts_ns[a] < table.ts_ns[b]; });
  Permute(table, perm);
}

int ElementSize(std::string_view dtype) {
  // Names as PyTorch's record_param_comms and NCCL kernels write them.
  struct Entry {
    std::string_view name;
    int size;
  };
  static constexpr Entry kSizes[] = {
      {"Float", 4},         {"float", 4},       {"Float32", 4},      {"Double", 8},
      {"double", 8},        {"Half", 2},        {"half", 2},         {"BFloat16", 2},
      {"bfloat16", 2},      {"Long", 8},        {"Int", 4},          {"int", 4},
      {"Short", 2},         {"Char", 1},        {"Byte", 1},         {"Bool", 1},
      {"Float8_e4m3fn", 1}, {"Float8_e5m2", 1}, {"ComplexFloat", 8}, {"ComplexDouble", 16},
      {"f32", 4},           {"f16", 2},         {"bf16", 2},         {"f64", 8},
      {"i32", 4},           {"i64", 8},         {"u8", 1},           {"i8", 1},
  };
  for (const auto& e : kSizes)
    if (e.name == dtype) return e.size;
  return 0;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() && std::tolower(static_cast<unsigned char>(hay[i + j])) ==
                                    std::tolower(static_cast<unsigned char>(needle[j])))
      ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

}  // namespace

size_t TraceBuilder::ThreadKeyHash::operator()(const ThreadKeyIds& k) const {
  uint64_t h = static_cast<uint64_t>(k.pid) * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<uint64_t>(k.tid) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  h ^= (static_cast<uint64_t>(k.pid_label) << 32 | k.tid_label) + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

TraceBuilder::TraceBuilder() = default;
TraceBuilder::~TraceBuilder() = default;
TraceBuilder::TraceBuilder(TraceBuilder&&) noexcept = default;
TraceBuilder& TraceBuilder::operator=(TraceBuilder&&) noexcept = default;

std::optional<int64_t> TraceBuilder::Ticks(FileTime t) {
  if (!has_base_) {
    has_base_ = true;
    base_ = t.whole;
  }
  saw_fraction_ |= t.has_fraction();
  int64_t delta, ticks;
  if (__builtin_sub_overflow(t.whole, base_, &delta) ||
      __builtin_mul_overflow(delta, int64_t{1000}, &ticks) ||
      __builtin_add_overflow(ticks, int64_t{t.milli}, &ticks)) {
    stats().Count(SkipReason::kBadNumber);
    return std::nullopt;
  }
  return ticks;
}

std::optional<int64_t> TraceBuilder::DurTicks(FileTime d) {
  saw_fraction_ |= d.has_fraction();
  int64_t ticks;
  if (__builtin_mul_overflow(d.whole, int64_t{1000}, &ticks) ||
      __builtin_add_overflow(ticks, int64_t{d.milli}, &ticks)) {
    stats().Count(SkipReason::kBadNumber);
    return std::nullopt;
  }
  if (ticks < 0) {
    stats().Count(SkipReason::kNegativeDuration);
    return std::nullopt;
  }
  return ticks;
}

TraceBuilder::ThreadKeyIds TraceBuilder::KeyIds(const ThreadKey& key) {
  return ThreadKeyIds{key.pid, key.pid_label.empty() ? kEmptyString : Intern(key.pid_label),
                      key.tid, key.tid_label.empty() ? kEmptyString : Intern(key.tid_label)};
}

ThreadIndex TraceBuilder::InternThreadIds(const ThreadKeyIds& key) {
  // try_emplace: emplace would allocate a node on every call, i.e. for every event.
  auto [it, inserted] =
      thread_index_.try_emplace(key, static_cast<ThreadIndex>(trace_.threads_.size()));
  if (inserted) {
    auto& t = trace_.threads_;
    t.pid.push_back(key.pid);
    t.pid_label.push_back(key.pid_label);
    t.tid.push_back(key.tid);
    t.tid_label.push_back(key.tid_label);
    t.process_name.push_back(kEmptyString);
    t.thread_name.push_back(kEmptyString);
    t.slice_begin.push_back(0);
    t.slice_end.push_back(0);
  }
  return it->second;
}

ThreadIndex TraceBuilder::InternThread(const ThreadKey& key) {
  return InternThreadIds(KeyIds(key));
}

void TraceBuilder::SetProcessName(const ThreadKey& key, std::string_view name) {
  process_names_.push_back({KeyIds(key), Intern(name)});
}

void TraceBuilder::SetThreadName(const ThreadKey& key, std::string_view name) {
  auto ids = KeyIds(key);
  InternThreadIds(ids);
  thread_names_.push_back({ids, Intern(name)});
}

RowIndex TraceBuilder::AddCollective(const CollectiveRecord& c) {
  auto& t = trace_.collectives_;
  t.op.push_back(Intern(c.op));
  t.dtype.push_back(Intern(c.dtype));
  t.in_elems.push_back(c.in_elems);
  t.out_elems.push_back(c.out_elems);
  t.in_bytes.push_back(c.in_elems * ElementSize(c.dtype));
  t.group_size.push_back(c.group_size);
  t.group_name.push_back(Intern(c.group_name));
  t.algorithm.push_back(Intern(c.algorithm));
  t.protocol.push_back(Intern(c.protocol));
  return static_cast<RowIndex>(t.size() - 1);
}

RowIndex TraceBuilder::AddOpShapes(const OpShapeRecord& r) {
  auto& t = trace_.op_shapes_;
  t.input_dims.push_back(Intern(r.input_dims));
  t.input_types.push_back(Intern(r.input_types));
  t.input_strides.push_back(Intern(r.input_strides));
  t.concrete_inputs.push_back(Intern(r.concrete_inputs));
  return static_cast<RowIndex>(t.size() - 1);
}

bool TraceBuilder::AddGpuOp(const GpuOpRecord& op) {
  auto start = Ticks(op.ts);
  auto dur = DurTicks(op.dur);
  if (!start || !dur) return false;
  auto& t = trace_.gpu_ops_;
  t.start_ns.push_back(*start);
  t.end_ns.push_back(*start + *dur);
  t.name.push_back(Intern(op.name));
  t.kind.push_back(op.kind);
  t.device.push_back(op.device);
  t.stream.push_back(op.stream);
  t.correlation.push_back(op.correlation);
  t.external_id.push_back(op.external_id);
  t.launch.push_back(kNoRow);
  t.bytes.push_back(op.bytes);
  t.copy_kind.push_back(op.copy_kind);
  t.src_memory.push_back(op.src_memory);
  t.dst_memory.push_back(op.dst_memory);
  t.grid_blocks.push_back(op.grid_blocks);
  t.block_threads.push_back(op.block_threads);
  t.registers.push_back(op.registers);
  t.shared_memory.push_back(op.shared_memory);
  t.collective.push_back(op.collective ? AddCollective(*op.collective) : kNoRow);
  t.est_occupancy_pct.push_back(op.est_occupancy_pct);
  ++stats().events_kept;
  return true;
}

void TraceBuilder::AppendHostSlice(const Half& h, int64_t start, int64_t end) {
  auto& t = trace_.host_slices_;
  t.start_ns.push_back(start);
  t.end_ns.push_back(end);
  t.name.push_back(h.name);
  t.category.push_back(h.category);
  t.kind.push_back(h.kind);
  t.thread.push_back(h.thread);
  t.correlation.push_back(h.correlation);
  t.external_id.push_back(h.external_id);
  t.bytes.push_back(h.bytes);
  t.detail.push_back(h.detail);
  t.collective.push_back(kNoRow);
  t.shapes.push_back(kNoRow);
  t.depth.push_back(0);
  t.parent.push_back(kNoRow);
}

TraceBuilder::Half TraceBuilder::MakeHalf(const HostSliceRecord& s, int64_t ticks, bool begin) {
  Half h;
  h.thread = s.thread;
  h.ticks = ticks;
  h.begin = begin;
  h.name = Intern(s.name);
  h.category = Intern(s.category);
  h.kind = s.kind;
  h.correlation = s.correlation;
  h.external_id = s.external_id;
  h.bytes = s.bytes;
  h.detail = Intern(s.detail);
  return h;
}

bool TraceBuilder::AddHostSlice(const HostSliceRecord& slice) {
  auto start = Ticks(slice.ts);
  auto dur = DurTicks(slice.dur);
  if (!start || !dur) return false;
  AppendHostSlice(MakeHalf(slice, *start, true), *start, *start + *dur);
  if (slice.collective) trace_.host_slices_.collective.back() = AddCollective(*slice.collective);
  if (slice.shapes) trace_.host_slices_.shapes.back() = AddOpShapes(*slice.shapes);
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::BeginSlice(const HostSliceRecord& slice) {
  auto start = Ticks(slice.ts);
  if (!start) return false;
  halves_.push_back(MakeHalf(slice, *start, true));
  return true;
}

bool TraceBuilder::EndSlice(ThreadIndex thread, FileTime ts) {
  auto end = Ticks(ts);
  if (!end) return false;
  Half h;
  h.thread = thread;
  h.ticks = *end;
  h.begin = false;
  halves_.push_back(h);
  return true;
}

bool TraceBuilder::BeginAsync(const HostSliceRecord& slice, int64_t id) {
  auto start = Ticks(slice.ts);
  if (!start) return false;
  Half h = MakeHalf(slice, *start, true);
  h.async = true;
  h.async_id = id;
  halves_.push_back(h);
  return true;
}

bool TraceBuilder::EndAsync(std::string_view category, int64_t id, FileTime ts) {
  auto end = Ticks(ts);
  if (!end) return false;
  Half h;
  h.ticks = *end;
  h.begin = false;
  h.async = true;
  h.async_id = id;
  h.category = Intern(category);
  halves_.push_back(h);
  return true;
}

bool TraceBuilder::AddGpuAnnotation(FileTime ts, FileTime dur, std::string_view name,
                                    int16_t device, int32_t stream) {
  auto start = Ticks(ts);
  auto d = DurTicks(dur);
  if (!start || !d) return false;
  auto& t = trace_.gpu_annotations_;
  t.start_ns.push_back(*start);
  t.end_ns.push_back(*start + *d);
  t.name.push_back(Intern(name));
  t.device.push_back(device);
  t.stream.push_back(stream);
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::AddCounter(FileTime ts, std::string_view name, int64_t pid, double value) {
  auto t0 = Ticks(ts);
  if (!t0) return false;
  auto& t = trace_.counters_;
  t.ts_ns.push_back(*t0);
  t.name.push_back(Intern(name));
  t.pid.push_back(pid);
  t.value.push_back(value);
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::AddKernelCounters(FileTime ts, std::string_view kernel, int64_t correlation,
                                     const CounterValue* values, size_t count) {
  auto t0 = Ticks(ts);
  if (!t0) return false;
  auto& t = trace_.kernel_counters_;
  auto& v = trace_.kernel_counter_values_;
  count = std::min<size_t>(count, UINT16_MAX);
  t.start_ns.push_back(*t0);
  t.name.push_back(Intern(kernel));
  t.correlation.push_back(correlation);
  t.value_begin.push_back(static_cast<RowIndex>(v.size()));
  t.value_count.push_back(static_cast<uint16_t>(count));
  for (size_t i = 0; i < count; ++i) {
    v.metric.push_back(Intern(values[i].metric));
    v.value.push_back(values[i].value);
  }
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::AddMemoryEvent(FileTime ts, int16_t device, int64_t bytes,
                                  int64_t total_allocated, int64_t total_reserved,
                                  ThreadIndex thread) {
  auto t0 = Ticks(ts);
  if (!t0) return false;
  auto& t = trace_.memory_events_;
  t.ts_ns.push_back(*t0);
  t.device.push_back(device);
  t.bytes.push_back(bytes);
  t.total_allocated.push_back(total_allocated);
  t.total_reserved.push_back(total_reserved);
  t.thread.push_back(thread);
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::AddInstant(FileTime ts, std::string_view name, std::string_view category,
                              ThreadIndex thread) {
  auto t0 = Ticks(ts);
  if (!t0) return false;
  auto& t = trace_.instants_;
  t.ts_ns.push_back(*t0);
  t.name.push_back(Intern(name));
  t.category.push_back(Intern(category));
  t.thread.push_back(thread);
  ++stats().events_kept;
  return true;
}

bool TraceBuilder::AddFlow(int64_t id, std::string_view category, FileTime ts, ThreadIndex thread,
                           char phase) {
  auto t0 = Ticks(ts);
  if (!t0) return false;
  auto& t = trace_.flows_;
  t.id.push_back(id);
  t.category.push_back(Intern(category));
  t.ts_ns.push_back(*t0);
  t.thread.push_back(thread);
  t.phase.push_back(phase);
  ++stats().events_kept;
  return true;
}

void TraceBuilder::AddDevice(DeviceInfo device) {
  for (auto& d : trace_.devices_) {
    if (d.id == device.id) {
      d = std::move(device);
      return;
    }
  }
  trace_.devices_.push_back(std::move(device));
}

size_t TraceBuilder::pending_rows() const {
  return trace_.gpu_ops_.size() + trace_.host_slices_.size() + halves_.size() +
         trace_.counters_.size() + trace_.memory_events_.size() + trace_.instants_.size() +
         trace_.flows_.size() + trace_.gpu_annotations_.size() + trace_.kernel_counters_.size();
}

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

void TraceBuilder::PairHalves(int64_t trace_end_ticks) {
  std::unordered_map<ThreadIndex, std::vector<size_t>> open_by_thread;
  struct AsyncKey {
    StringId category;
    int64_t id;
    bool operator==(const AsyncKey&) const = default;
  };
  struct AsyncKeyHash {
    size_t operator()(const AsyncKey& k) const {
      return std::hash<int64_t>()(k.id) ^ (static_cast<size_t>(k.category) << 1);
    }
  };
  std::unordered_map<AsyncKey, std::vector<size_t>, AsyncKeyHash> open_async;

  for (size_t i = 0; i < halves_.size(); ++i) {
    const Half& h = halves_[i];
    auto& stack = h.async ? open_async[{h.category, h.async_id}] : open_by_thread[h.thread];
    if (h.begin) {
      stack.push_back(i);
      continue;
    }
    if (stack.empty()) {
      stats().Count(SkipReason::kUnmatchedEnd);
      continue;
    }
    const Half& b = halves_[stack.back()];
    stack.pop_back();
    AppendHostSlice(b, b.ticks, std::max(h.ticks, b.ticks));
    ++stats().events_kept;
  }
  int64_t unclosed = 0;
  auto close_all = [&](auto& stacks) {
    for (auto& [key, stack] : stacks) {
      for (size_t i : stack) {
        const Half& b = halves_[i];
        AppendHostSlice(b, b.ticks, std::max(trace_end_ticks, b.ticks));
        ++stats().events_kept;
        ++unclosed;
      }
    }
  };
  close_all(open_by_thread);
  close_all(open_async);
  if (unclosed > 0) {
    stats().Count(SkipReason::kUnclosedBegin, unclosed);
  }
  halves_.clear();
}

void TraceBuilder::SortAndNestHostSlices() {
  auto& t = trace_.host_slices_;
  auto perm = Identity(t.size());
  std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
    if (t.thread[a] != t.thread[b]) return t.thread[a] < t.thread[b];
    if (t.start_ns[a] != t.start_ns[b]) return t.start_ns[a] < t.start_ns[b];
    return t.end_ns[a] > t.end_ns[b];
  });
  Permute(t, perm);

  auto& threads = trace_.threads_;
  std::fill(threads.slice_begin.begin(), threads.slice_begin.end(), 0);
  std::fill(threads.slice_end.begin(), threads.slice_end.end(), 0);
  std::vector<RowIndex> stack;
  for (size_t row = 0; row < t.size();) {
    ThreadIndex thread = t.thread[row];
    size_t end = row;
    while (end < t.size() && t.thread[end] == thread)
      ++end;
    if (thread != kNoThread && thread < threads.size()) {
      threads.slice_begin[thread] = static_cast<RowIndex>(row);
      threads.slice_end[thread] = static_cast<RowIndex>(end);
    }
    stack.clear();
    for (size_t i = row; i < end; ++i) {
      // A slice is inside the nearest open slice that has not ended by its start. Partial
      // overlaps (which well-formed traces do not have) nest under the earlier slice.
      while (!stack.empty() && t.end_ns[stack.back()] <= t.start_ns[i])
        stack.pop_back();
      t.parent[i] = stack.empty() ? kNoRow : stack.back();
      t.depth[i] = static_cast<uint16_t>(std::min<size_t>(stack.size(), UINT16_MAX));
      stack.push_back(static_cast<RowIndex>(i));
    }
    row = end;
  }
}

void TraceBuilder::SortGpuOps() {
  auto& t = trace_.gpu_ops_;
  if (!std::is_sorted(t.start_ns.begin(), t.start_ns.end())) {
    auto perm = Identity(t.size());
    std::stable_sort(perm.begin(), perm.end(),
                     [&](uint32_t a, uint32_t b) { return t.start_ns[a] < t.start_ns[b]; });
    Permute(t, perm);
  }
  auto& a = trace_.gpu_annotations_;
  auto perm = Identity(a.size());
  std::stable_sort(perm.begin(), perm.end(),
                   [&](uint32_t x, uint32_t y) { return a.start_ns[x] < a.start_ns[y]; });
  Permute(a, perm);
}

void TraceBuilder::SortByTime() {
  SortByTs(trace_.counters_);
  SortByTs(trace_.memory_events_);
  SortByTs(trace_.instants_);
}

void TraceBuilder::LinkLaunches() {
  const auto& h = trace_.host_slices_;
  std::unordered_map<int64_t, RowIndex> by_correlation;
  by_correlation.reserve(h.size() / 2);
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.correlation[i] == 0) continue;
    if (h.kind[i] != HostSliceKind::kRuntime && h.kind[i] != HostSliceKind::kDriver) continue;
    auto [it, inserted] = by_correlation.emplace(h.correlation[i], static_cast<RowIndex>(i));
    // Prefer the runtime call when a driver call carries the same id.
    if (!inserted && h.kind[it->second] == HostSliceKind::kDriver &&
        h.kind[i] == HostSliceKind::kRuntime)
      it->second = static_cast<RowIndex>(i);
  }
  auto& g = trace_.gpu_ops_;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g.correlation[i] == 0) continue;
    auto it = by_correlation.find(g.correlation[i]);
    if (it != by_correlation.end()) g.launch[i] = it->second;
  }
}

void TraceBuilder::ConvertTimes() {
  TraceInfo& info = trace_.info_;
  TimeNs unit = kNsPerUs;
  switch (time_unit_choice_) {
    case TimeUnitChoice::kMicroseconds:
      unit = kNsPerUs;
      break;
    case TimeUnitChoice::kNanoseconds:
      unit = 1;
      break;
    case TimeUnitChoice::kAuto:
      // The Chrome format's unit is µs; displayTimeUnit is a display hint. Some writers put true
      // nanoseconds in and say "ns": we believe them only when no time has a fraction, since
      // PyTorch writes µs with ns fractions under displayTimeUnit "ns".
      unit = (info.display_time_unit == "ns" && !saw_fraction_) ? 1 : kNsPerUs;
      break;
  }
  info.file_time_unit_ns = unit;

  int64_t origin = 0;  // ns of tick 0
  if (__builtin_mul_overflow(base_, unit, &origin) ||
      __builtin_add_overflow(origin, info.file_time_zero_ns, &origin)) {
    stats().warnings.push_back(
        "timestamps are too large for nanoseconds since the epoch; times are shown relative to "
        "the first event");
    origin = 0;
    info.file_time_zero_ns = -base_ * unit;  // best effort; only used for HTA-style rounding
  }
  auto to_ns = [&](int64_t ticks) -> TimeNs {
    return origin + (unit == kNsPerUs ? ticks : ticks / (kNsPerUs / unit));
  };
  auto convert = [&](std::vector<TimeNs>& column) {
    for (auto& v : column)
      v = to_ns(v);
  };
  convert(trace_.gpu_ops_.start_ns);
  convert(trace_.gpu_ops_.end_ns);
  convert(trace_.host_slices_.start_ns);
  convert(trace_.host_slices_.end_ns);
  convert(trace_.gpu_annotations_.start_ns);
  convert(trace_.gpu_annotations_.end_ns);
  convert(trace_.counters_.ts_ns);
  convert(trace_.memory_events_.ts_ns);
  convert(trace_.instants_.ts_ns);
  convert(trace_.flows_.ts_ns);
  convert(trace_.kernel_counters_.start_ns);
}

void TraceBuilder::ApplyNames() {
  auto& t = trace_.threads_;
  for (const auto& n : process_names_) {
    for (size_t i = 0; i < t.size(); ++i)
      if (t.pid[i] == n.key.pid && t.pid_label[i] == n.key.pid_label) t.process_name[i] = n.name;
  }
  for (const auto& n : thread_names_) {
    auto it = thread_index_.find(n.key);
    if (it != thread_index_.end()) t.thread_name[it->second] = n.name;
  }
}

void TraceBuilder::DetectVendor() {
  TraceInfo& info = trace_.info_;
  for (auto& d : trace_.devices_) {
    if (d.vendor == GpuVendor::kUnknown) {
      if (ContainsNoCase(d.name, "AMD") || ContainsNoCase(d.name, "Radeon") ||
          ContainsNoCase(d.name, "Instinct"))
        d.vendor = GpuVendor::kAmd;
      else if (!d.name.empty())
        d.vendor = GpuVendor::kNvidia;
    }
    if (info.vendor == GpuVendor::kUnknown) info.vendor = d.vendor;
  }
  if (info.vendor != GpuVendor::kUnknown) return;
  // No device properties: the runtime API tells (hipLaunchKernel vs cudaLaunchKernel).
  const auto& h = trace_.host_slices_;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h.kind[i] != HostSliceKind::kRuntime) continue;
    std::string_view name = trace_.strings_.Get(h.name[i]);
    if (name.starts_with("hip")) {
      info.vendor = GpuVendor::kAmd;
      return;
    }
    if (name.starts_with("cuda") || name.starts_with("cu")) {
      info.vendor = GpuVendor::kNvidia;
      return;
    }
  }
  if (trace_.gpu_ops_.size() > 0) info.vendor = GpuVendor::kNvidia;
}

Trace TraceBuilder::Build() && {
  // Unpaired begins close at the last time anything in the trace happened.
  int64_t end_ticks = 0;
  auto extend = [&](const std::vector<int64_t>& column) {
    for (int64_t v : column)
      end_ticks = std::max(end_ticks, v);
  };
  extend(trace_.gpu_ops_.end_ns);
  extend(trace_.host_slices_.end_ns);
  for (const auto& h : halves_)
    end_ticks = std::max(end_ticks, h.ticks);
  PairHalves(end_ticks);

  ConvertTimes();
  // The host slices' sort and nesting touch only the host and thread tables: the other tables
  // sort meanwhile on a second thread (this tail of a read runs after the parsers are done).
  auto sort_others = [this] {
    SortGpuOps();
    SortByTime();
  };
  if (trace_.host_slices_.size() + trace_.gpu_ops_.size() > (size_t{1} << 16)) {
    std::thread others(sort_others);
    SortAndNestHostSlices();
    others.join();
  } else {
    SortAndNestHostSlices();
    sort_others();
  }
  LinkLaunches();
  ApplyNames();
  DetectVendor();

  bool any = false;
  TimeNs lo = 0, hi = 0;
  auto span = [&](const std::vector<TimeNs>& starts, const std::vector<TimeNs>& ends) {
    for (size_t i = 0; i < starts.size(); ++i) {
      if (!any) {
        lo = starts[i];
        hi = ends[i];
        any = true;
      }
      lo = std::min(lo, starts[i]);
      hi = std::max(hi, ends[i]);
    }
  };
  span(trace_.gpu_ops_.start_ns, trace_.gpu_ops_.end_ns);
  span(trace_.host_slices_.start_ns, trace_.host_slices_.end_ns);
  span(trace_.counters_.ts_ns, trace_.counters_.ts_ns);
  span(trace_.memory_events_.ts_ns, trace_.memory_events_.ts_ns);
  span(trace_.instants_.ts_ns, trace_.instants_.ts_ns);
  trace_.start_ns_ = lo;
  trace_.end_ns_ = hi;

  Trace out = std::move(trace_);
  *this = TraceBuilder();
  return out;
}

}  // namespace teye
