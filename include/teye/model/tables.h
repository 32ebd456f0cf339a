// Columnar event tables (struct of vectors). Readers of a Trace get const access only; the
// TraceBuilder is the one writer. Row order and derived columns are documented per table.
#pragma once

#include <cstdint>
#include <vector>

#include "teye/model/types.h"

namespace teye {

// One row per (process, thread) track that carried events. Kineto puts GPU activity on
// pseudo-processes (pid = device, tid = stream); those tracks appear here too.
struct ThreadTable {
  std::vector<int64_t> pid;         // numeric pid, 0 when the file gave a string
  std::vector<StringId> pid_label;  // the pid as written when it was a string ("Spans")
  std::vector<int64_t> tid;
  std::vector<StringId> tid_label;
  std::vector<StringId> process_name;  // from `process_name` metadata
  std::vector<StringId> thread_name;   // from `thread_name` metadata
  // Rows of HostSliceTable for this thread are [slice_begin, slice_end) (table is thread-major).
  std::vector<RowIndex> slice_begin;
  std::vector<RowIndex> slice_end;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(pid);
    f(pid_label);
    f(tid);
    f(tid_label);
    f(process_name);
    f(thread_name);
    f(slice_begin);
    f(slice_end);
  }
  size_t size() const { return pid.size(); }
};

// Device-timeline activity: kernels, memcpy, memset and CUPTI synchronization records.
// Sorted by start_ns (ties keep file order).
struct GpuOpTable {
  std::vector<TimeNs> start_ns;
  std::vector<TimeNs> end_ns;
  std::vector<StringId> name;
  std::vector<GpuOpKind> kind;
  std::vector<int16_t> device;       // -1 when unknown
  std::vector<int32_t> stream;       // -1 when none (e.g. context-wide sync)
  std::vector<int64_t> correlation;  // CUPTI correlation id, 0 when unknown
  std::vector<int64_t> external_id;  // profiler's external id (links to cpu_op), 0 when unknown
  std::vector<RowIndex> launch;      // HostSliceTable row of the runtime/driver call that
                                     // launched it (matched by correlation), kNoRow if none
  // memcpy / memset
  std::vector<int64_t> bytes;
  std::vector<CopyKind> copy_kind;
  std::vector<MemoryKind> src_memory;
  std::vector<MemoryKind> dst_memory;
  // kernels (0 when unknown)
  std::vector<int64_t> grid_blocks;       // gridX * gridY * gridZ
  std::vector<int32_t> block_threads;     // blockX * blockY * blockZ
  std::vector<int16_t> registers;         // per thread
  std::vector<int32_t> shared_memory;     // bytes per block
  std::vector<RowIndex> collective;       // CollectiveTable row for NCCL/RCCL kernels, or kNoRow
  std::vector<int8_t> est_occupancy_pct;  // Kineto's "est. achieved occupancy %", -1 when absent

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(start_ns);
    f(end_ns);
    f(name);
    f(kind);
    f(device);
    f(stream);
    f(correlation);
    f(external_id);
    f(launch);
    f(bytes);
    f(copy_kind);
    f(src_memory);
    f(dst_memory);
    f(grid_blocks);
    f(block_threads);
    f(registers);
    f(shared_memory);
    f(collective);
    f(est_occupancy_pct);
  }
  size_t size() const { return start_ns.size(); }
  TimeNs duration(size_t row) const { return end_ns[row] - start_ns[row]; }
};

// Host ranges. Thread-major: sorted by (thread, start_ns, longer first), so a thread's slices are
// contiguous (ThreadTable::slice_begin/end) and parents precede their children.
struct HostSliceTable {
  std::vector<TimeNs> start_ns;
  std::vector<TimeNs> end_ns;
  std::vector<StringId> name;
  std::vector<StringId> category;  // the `cat` as written
  std::vector<HostSliceKind> kind;
  std::vector<ThreadIndex> thread;
  std::vector<int64_t> correlation;  // runtime/driver calls: CUPTI correlation id, else 0
  std::vector<int64_t> external_id;
  std::vector<int64_t> bytes;        // I/O slices: bytes transferred; else 0
  std::vector<StringId> detail;      // I/O: path; NVTX: domain; else empty
  std::vector<RowIndex> collective;  // `record_param_comms` and similar: CollectiveTable row
  std::vector<RowIndex> shapes;      // cpu_op with recorded arguments: OpShapeTable row, or kNoRow
  // Derived by the builder.
  std::vector<uint16_t> depth;   // 0 for top-level slices of a thread
  std::vector<RowIndex> parent;  // enclosing slice on the same thread, or kNoRow

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(start_ns);
    f(end_ns);
    f(name);
    f(category);
    f(kind);
    f(thread);
    f(correlation);
    f(external_id);
    f(bytes);
    f(detail);
    f(collective);
    f(shapes);
    f(depth);
    f(parent);
  }
  size_t size() const { return start_ns.size(); }
  TimeNs duration(size_t row) const { return end_ns[row] - start_ns[row]; }
};

// Ranges the profiler drew on device timelines (`gpu_user_annotation`), e.g. ProfilerStep#N.
struct GpuAnnotationTable {
  std::vector<TimeNs> start_ns;
  std::vector<TimeNs> end_ns;
  std::vector<StringId> name;
  std::vector<int16_t> device;
  std::vector<int32_t> stream;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(start_ns);
    f(end_ns);
    f(name);
    f(device);
    f(stream);
  }
  size_t size() const { return start_ns.size(); }
};

// A communication collective as described by its arguments (NCCL/RCCL kernel args,
// `record_param_comms`, teye's NCCL profiler plugin).
struct CollectiveTable {
  std::vector<StringId> op;     // "allreduce", "all_gather", ...
  std::vector<StringId> dtype;  // "Float", "BFloat16", ...
  std::vector<int64_t> in_elems;
  std::vector<int64_t> out_elems;
  std::vector<int64_t> in_bytes;     // in_elems * size of dtype, 0 when the dtype is unknown
  std::vector<int32_t> group_size;   // ranks in the process group, 0 when unknown
  std::vector<StringId> group_name;  // process group name
  std::vector<StringId> algorithm;   // RING/TREE/... when known
  std::vector<StringId> protocol;    // LL/LL128/SIMPLE when known

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(op);
    f(dtype);
    f(in_elems);
    f(out_elems);
    f(in_bytes);
    f(group_size);
    f(group_name);
    f(algorithm);
    f(protocol);
  }
  size_t size() const { return op.size(); }
};

// Operator arguments the PyTorch profiler recorded with record_shapes=True, one row per host slice
// that carried any (HostSliceTable::shapes). Each column is the argument list's JSON text as the
// file wrote it, without whitespace outside strings, or kEmptyString when absent; e.g. input_dims
// "[[141,512],[512,512],[],[]]", input_types "[\"float\",\"float\",\"Scalar\",\"\"]".
// Analyzers decode them (teye/analyzers/op_arguments.h).
struct OpShapeTable {
  std::vector<StringId> input_dims;       // `Input Dims`
  std::vector<StringId> input_types;      // `Input type`
  std::vector<StringId> input_strides;    // `Input Strides`
  std::vector<StringId> concrete_inputs;  // `Concrete Inputs`

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(input_dims);
    f(input_types);
    f(input_strides);
    f(concrete_inputs);
  }
  size_t size() const { return input_dims.size(); }
};

// Hardware counters per kernel: Kineto's `cuda_profiler_range` events (CUPTI's range profiler in
// auto-range mode, one range per kernel) and teye's collector in counter mode. File order, which
// is launch order within a process. Each row's metric values are the rows
// [value_begin, value_begin + value_count) of KernelCounterValueTable.
struct KernelCounterTable {
  std::vector<TimeNs> start_ns;
  std::vector<StringId> name;         // kernel name; Kineto writes "__missing__" when unknown
  std::vector<int64_t> correlation;   // CUPTI correlation id of the launch, 0 when not written
  std::vector<RowIndex> value_begin;  // first KernelCounterValueTable row
  std::vector<uint16_t> value_count;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(start_ns);
    f(name);
    f(correlation);
    f(value_begin);
    f(value_count);
  }
  size_t size() const { return start_ns.size(); }
};

// One metric value of a KernelCounterTable row, e.g. "smsp__sass_thread_inst_executed_op_ffma_
// pred_on.sum" = 38731776.
struct KernelCounterValueTable {
  std::vector<StringId> metric;
  std::vector<double> value;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(metric);
    f(value);
  }
  size_t size() const { return metric.size(); }
};

// Counter samples (`ph: C`), one row per series value. Sorted by time.
struct CounterTable {
  std::vector<TimeNs> ts_ns;
  std::vector<StringId> name;  // "<event name>" or "<event name>.<arg>" when several args
  std::vector<int64_t> pid;
  std::vector<double> value;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(ts_ns);
    f(name);
    f(pid);
    f(value);
  }
  size_t size() const { return ts_ns.size(); }
};

// Allocator events (PyTorch `[memory]` instants with profile_memory=True). Sorted by time.
struct MemoryEventTable {
  std::vector<TimeNs> ts_ns;
  std::vector<int16_t> device;           // -1 for host memory
  std::vector<int64_t> bytes;            // signed: allocations > 0, frees < 0
  std::vector<int64_t> total_allocated;  // allocator's running total after the event, -1 unknown
  std::vector<int64_t> total_reserved;
  std::vector<ThreadIndex> thread;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(ts_ns);
    f(device);
    f(bytes);
    f(total_allocated);
    f(total_reserved);
    f(thread);
  }
  size_t size() const { return ts_ns.size(); }
};

// Other instant events (`ph: i/I/R`). Sorted by time.
struct InstantTable {
  std::vector<TimeNs> ts_ns;
  std::vector<StringId> name;
  std::vector<StringId> category;
  std::vector<ThreadIndex> thread;

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(ts_ns);
    f(name);
    f(category);
    f(thread);
  }
  size_t size() const { return ts_ns.size(); }
};

// Flow event endpoints (`ph: s/t/f`), e.g. Kineto `ac2g` launch → kernel arrows. File order.
struct FlowTable {
  std::vector<int64_t> id;
  std::vector<StringId> category;
  std::vector<TimeNs> ts_ns;
  std::vector<ThreadIndex> thread;
  std::vector<char> phase;  // 's', 't' or 'f'

  // Calls f(column) for every column, for generic reserve/permute/append.
  template <typename F>
  void ForEachColumn(F&& f) {
    f(id);
    f(category);
    f(ts_ns);
    f(thread);
    f(phase);
  }
  size_t size() const { return id.size(); }
};

}  // namespace teye
