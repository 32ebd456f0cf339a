// TraceBuilder: the one writer of a Trace. Readers hand it events in file order; it owns the
// rules every reader shares (STYLE.md 3): time units and origin, pid/tid interning, B/E pairing,
// slice nesting, sorting, launch → GPU-op linking by correlation id.
//
// Parallel readers give each chunk of input its own builder and Merge() them in file order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "teye/model/trace.h"
#include "teye/runtime/executor.h"

namespace teye {

// A time as written in the file: value = whole + milli / 1000 in the file's unit (µs unless the
// file says otherwise). Fractions finer than 1/1000 are rounded to the nearest 1/1000.
struct FileTime {
  int64_t whole = 0;
  int32_t milli = 0;  // 0..999; for negative values whole is the floor

  bool has_fraction() const { return milli != 0; }
};

// How a collective was described (any field may be unknown).
struct CollectiveRecord {
  std::string_view op;
  std::string_view dtype;
  int64_t in_elems = 0;
  int64_t out_elems = 0;
  int32_t group_size = 0;
  std::string_view group_name;
  std::string_view algorithm;
  std::string_view protocol;
};

// Recorded operator arguments (`Input Dims` and company), each the JSON text of the list without
// whitespace outside strings; empty when absent.
struct OpShapeRecord {
  std::string_view input_dims;
  std::string_view input_types;
  std::string_view input_strides;
  std::string_view concrete_inputs;
};

// One metric of a kernel's hardware counters.
struct CounterValue {
  std::string_view metric;
  double value = 0;
};

struct GpuOpRecord {
  FileTime ts;
  FileTime dur;
  std::string_view name;
  GpuOpKind kind = GpuOpKind::kKernel;
  int16_t device = -1;
  int32_t stream = -1;
  int64_t correlation = 0;
  int64_t external_id = 0;
  int64_t bytes = 0;
  CopyKind copy_kind = CopyKind::kUnknown;
  MemoryKind src_memory = MemoryKind::kUnknown;
  MemoryKind dst_memory = MemoryKind::kUnknown;
  int64_t grid_blocks = 0;
  int32_t block_threads = 0;
  int16_t registers = 0;
  int32_t shared_memory = 0;
  int8_t est_occupancy_pct = -1;
  const CollectiveRecord* collective = nullptr;
};

struct HostSliceRecord {
  FileTime ts;
  FileTime dur;
  std::string_view name;
  std::string_view category;
  HostSliceKind kind = HostSliceKind::kOther;
  ThreadIndex thread = kNoThread;
  int64_t correlation = 0;
  int64_t external_id = 0;
  int64_t bytes = 0;
  std::string_view detail;
  const CollectiveRecord* collective = nullptr;
  const OpShapeRecord* shapes = nullptr;  // kept for complete (`X`) slices only
};

// Identifies a track as the file wrote it: pid and tid are each a number or a string.
struct ThreadKey {
  int64_t pid = 0;
  std::string_view pid_label;  // non-empty when the pid was a string
  int64_t tid = 0;
  std::string_view tid_label;
};

enum class TimeUnitChoice : uint8_t {
  kAuto,  // µs (the Chrome format's unit), or ns when the file says displayTimeUnit "ns"
          // and every time in it is a whole number (see docs/trace-format.md)
  kMicroseconds,
  kNanoseconds,
};

class TraceBuilder {
 public:
  TraceBuilder();
  ~TraceBuilder();
  TraceBuilder(TraceBuilder&&) noexcept;
  TraceBuilder& operator=(TraceBuilder&&) noexcept;

  ThreadIndex InternThread(const ThreadKey& key);
  void SetProcessName(const ThreadKey& key, std::string_view name);  // tid ignored
  void SetThreadName(const ThreadKey& key, std::string_view name);

  // Each Add returns false (and counts the reason) when the event's times are out of range.
  bool AddGpuOp(const GpuOpRecord& op);
  bool AddHostSlice(const HostSliceRecord& slice);
  // `B`/`E` halves: paired per thread in file order at Build().
  bool BeginSlice(const HostSliceRecord& slice);  // slice.dur ignored
  bool EndSlice(ThreadIndex thread, FileTime ts);
  // `b`/`e` nestable async halves, paired by (category, id).
  bool BeginAsync(const HostSliceRecord& slice, int64_t id);
  bool EndAsync(std::string_view category, int64_t id, FileTime ts);
  bool AddGpuAnnotation(FileTime ts, FileTime dur, std::string_view name, int16_t device,
                        int32_t stream);
  bool AddCounter(FileTime ts, std::string_view name, int64_t pid, double value);
  bool AddMemoryEvent(FileTime ts, int16_t device, int64_t bytes, int64_t total_allocated,
                      int64_t total_reserved, ThreadIndex thread);
  bool AddInstant(FileTime ts, std::string_view name, std::string_view category,
                  ThreadIndex thread);
  bool AddFlow(int64_t id, std::string_view category, FileTime ts, ThreadIndex thread, char phase);
  // A kernel's hardware counters (`cuda_profiler_range`), in launch order.
  bool AddKernelCounters(FileTime ts, std::string_view kernel, int64_t correlation,
                         const CounterValue* values, size_t count);

  void AddDevice(DeviceInfo device);
  void SetDistributed(DistributedInfo info) { trace_.distributed_ = std::move(info); }
  TraceInfo& info() { return trace_.info_; }
  ReadStats& stats() { return trace_.stats_; }
  StringId Intern(std::string_view s) { return trace_.strings_.Intern(s); }
  void SetTimeUnit(TimeUnitChoice choice) { time_unit_choice_ = choice; }

  // Appends everything `part` holds after what this builder holds (file order is kept).
  void Merge(TraceBuilder&& part);

  size_t pending_rows() const;

  // Resolves units, pairs halves, sorts, nests and links; the builder is empty afterwards. Its
  // independent steps run as tasks on `executor` (nullptr: one after the other, on this thread).
  Trace Build(Executor* executor = nullptr) &&;

 private:
  // One `B`/`E`/`b`/`e` half waiting to be paired.
  struct Half {
    ThreadIndex thread = kNoThread;
    int64_t ticks = 0;
    bool begin = false;
    bool async = false;  // b/e (paired by category and id) rather than B/E (by thread)
    int64_t async_id = 0;
    StringId name = kEmptyString;
    StringId category = kEmptyString;
    HostSliceKind kind = HostSliceKind::kOther;
    int64_t correlation = 0;
    int64_t external_id = 0;
    int64_t bytes = 0;
    StringId detail = kEmptyString;
  };
  struct ThreadKeyIds {
    int64_t pid;
    StringId pid_label;
    int64_t tid;
    StringId tid_label;
    bool operator==(const ThreadKeyIds&) const = default;
  };
  struct ThreadKeyHash {
    size_t operator()(const ThreadKeyIds& k) const;
  };
  struct PendingName {
    ThreadKeyIds key;  // tid fields unused for process names
    StringId name;
  };

  // Time relative to base_ in 1/1000 file units; nullopt (and counted) when out of range.
  std::optional<int64_t> Ticks(FileTime t);
  std::optional<int64_t> DurTicks(FileTime d);
  ThreadIndex InternThreadIds(const ThreadKeyIds& key);
  ThreadKeyIds KeyIds(const ThreadKey& key);
  RowIndex AddCollective(const CollectiveRecord& c);
  RowIndex AddOpShapes(const OpShapeRecord& s);
  Half MakeHalf(const HostSliceRecord& s, int64_t ticks, bool begin);
  void AppendHostSlice(const Half& h, int64_t start, int64_t end);
  void PairHalves(int64_t trace_end_ticks);
  void SortAndNestHostSlices();
  void SortGpuOps();
  void SortByTime();
  void LinkLaunches();
  void ConvertTimes();
  void ApplyNames();
  void DetectVendor();

  // Tables are filled in place; their times are ticks until Build() converts them.
  Trace trace_;
  std::unordered_map<ThreadKeyIds, ThreadIndex, ThreadKeyHash> thread_index_;
  std::vector<Half> halves_;
  bool has_base_ = false;
  int64_t base_ = 0;  // whole file units subtracted from every timestamp
  bool saw_fraction_ = false;
  TimeUnitChoice time_unit_choice_ = TimeUnitChoice::kAuto;
  std::vector<PendingName> process_names_;
  std::vector<PendingName> thread_names_;
};

}  // namespace teye
