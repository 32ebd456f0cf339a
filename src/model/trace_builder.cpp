// TraceBuilder, part 1 of 3: taking events in. Readers call these in file order; times stay in
// ticks (1/1000 of the file's unit, relative to the first event) until Build() converts them.
// Merge() is in trace_builder_merge.cpp, Build() and its steps in trace_builder_finish.cpp.
#include "teye/model/trace_builder.h"

#include <algorithm>

namespace teye {
namespace {

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

}  // namespace teye
