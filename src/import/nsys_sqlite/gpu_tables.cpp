// Device activity: CUPTI_ACTIVITY_KIND_KERNEL, _MEMCPY, _MEMSET and _SYNCHRONIZATION, each row
// into the builder of the process that launched it (globalPid).
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

// Columns every device-activity table shares, first in each query.
enum CommonColumn { kStart, kEnd, kDevice, kStream, kCorrelation, kGlobalPid, kCommonCount };

std::string SelectGpu(Database& db, const std::string& table,
                      std::initializer_list<std::string_view> extra) {
  return "SELECT " +
         SelectList(db, table,
                    {"start", "end", "deviceId", "streamId", "correlationId", "globalPid"}) +
         ", " + SelectList(db, table, extra) + " FROM " + table;
}

// Fills what every device activity has; null when its times are unusable (counted).
TraceBuilder* ReadCommon(const Statement& row, RowSink& sink, GpuOpRecord& op) {
  TraceBuilder& b = sink.Process(DecodeGlobalPid(row.Int(kGlobalPid)));
  b.stats().events_seen++;
  if (row.IsNull(kStart) || row.IsNull(kEnd)) {
    b.stats().Count(SkipReason::kMissingTimestamp);
    return nullptr;
  }
  const int64_t start = row.Int(kStart);
  op.ts = FileTime{start, 0};
  op.dur = FileTime{row.Int(kEnd) - start, 0};
  op.device = static_cast<int16_t>(row.Int(kDevice));
  op.stream = row.IsNull(kStream) ? -1 : static_cast<int32_t>(row.Int(kStream));
  op.correlation = row.Int(kCorrelation);
  return &b;
}

void Add(const Statement& row, RowSink& sink, TraceBuilder& b, const GpuOpRecord& op) {
  if (!b.AddGpuOp(op) || op.kind == GpuOpKind::kSync) return;
  const int64_t pid = DecodeGlobalPid(row.Int(kGlobalPid));
  sink.gpu_pids.insert(pid);
  sink.devices_by_pid[pid].insert(op.device);
}

// Each scan is absent (nullopt) when the export has no such table.
using MaybeScan = Result<std::optional<TableScan>>;

MaybeScan KernelScan(Database& db, const ExportTables& t) {
  const std::string table(kKernelTable);
  if (!db.HasTable(table)) return std::optional<TableScan>();
  if (auto e = RequireColumns(db, table, {"start", "end", "deviceId"})) return *e;
  if (!db.HasColumn(table, "demangledName") && !db.HasColumn(table, "shortName"))
    return *RequireColumns(db, table, {"demangledName"});
  enum {
    kDemangled = kCommonCount,
    kShort,
    kGridX,
    kGridY,
    kGridZ,
    kBlockX,
    kBlockY,
    kBlockZ,
    kRegisters,
    kStaticShared,
    kDynamicShared
  };
  std::string select =
      SelectGpu(db, table,
                {"demangledName", "shortName", "gridX", "gridY", "gridZ", "blockX", "blockY",
                 "blockZ", "registersPerThread", "staticSharedMemory", "dynamicSharedMemory"});
  return std::optional(TableScan{
      table, std::move(select), [&t](const Statement& row, RowSink& sink) {
        GpuOpRecord op;
        TraceBuilder* b = ReadCommon(row, sink, op);
        if (!b) return;
        op.kind = GpuOpKind::kKernel;
        op.name = t.strings.Get(row.Int(kDemangled));
        if (op.name.empty()) op.name = t.strings.Get(row.Int(kShort));
        op.grid_blocks = row.Int(kGridX) * row.Int(kGridY) * row.Int(kGridZ);
        op.block_threads =
            static_cast<int32_t>(row.Int(kBlockX) * row.Int(kBlockY) * row.Int(kBlockZ));
        op.registers = static_cast<int16_t>(row.Int(kRegisters));
        op.shared_memory = static_cast<int32_t>(row.Int(kStaticShared) + row.Int(kDynamicShared));
        Add(row, sink, *b, op);
      }});
}

// Kineto's names: "Memcpy HtoD (Pageable -> Device)", "Memset (Device)"; built once per
// combination (scanning threads share them), so rows refer to names without building strings.
class CopyNames {
 public:
  explicit CopyNames(const ExportEnums& enums) : enums_(enums) {}

  std::string_view Memcpy(int64_t kind, int64_t src, int64_t dst) {
    return Name({kind, src, dst}, [&] {
      return "Memcpy " + Word(enums_.copy_names, kind) + " (" + Word(enums_.memory_names, src) +
             " -> " + Word(enums_.memory_names, dst) + ")";
    });
  }
  std::string_view Memset(int64_t kind) {
    return Name({-1, kind, -1}, [&] { return "Memset (" + Word(enums_.memory_names, kind) + ")"; });
  }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t>;
  template <typename F>
  std::string_view Name(const Key& key, F&& make) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = names_.try_emplace(key);
    if (inserted) it->second = make();
    return it->second;  // map nodes do not move: the view stays valid
  }
  static std::string Word(const std::unordered_map<int64_t, std::string>& names, int64_t id) {
    auto it = names.find(id);
    return it != names.end() ? it->second : "Unknown";
  }
  const ExportEnums& enums_;
  std::mutex mu_;
  std::map<Key, std::string> names_;
};

template <typename K>
K Lookup(const std::unordered_map<int64_t, K>& map, int64_t id) {
  auto it = map.find(id);
  return it != map.end() ? it->second : K::kUnknown;
}

constexpr int64_t kUnknownMemory = -1;

MaybeScan MemcpyScan(Database& db, const ExportTables& t, std::shared_ptr<CopyNames> names) {
  const std::string table(kMemcpyTable);
  if (!db.HasTable(table)) return std::optional<TableScan>();
  if (auto e = RequireColumns(db, table, {"start", "end", "deviceId", "bytes", "copyKind"}))
    return *e;
  enum { kBytes = kCommonCount, kCopyKind, kSrcKind, kDstKind };
  const bool has_src = db.HasColumn(table, "srcKind");
  const bool has_dst = db.HasColumn(table, "dstKind");
  return std::optional(
      TableScan{table, SelectGpu(db, table, {"bytes", "copyKind", "srcKind", "dstKind"}),
                [&t, names, has_src, has_dst](const Statement& row, RowSink& sink) {
                  GpuOpRecord op;
                  TraceBuilder* b = ReadCommon(row, sink, op);
                  if (!b) return;
                  op.kind = GpuOpKind::kMemcpy;
                  op.bytes = row.Int(kBytes);
                  const int64_t kind = row.Int(kCopyKind);
                  const int64_t src = has_src ? row.Int(kSrcKind) : kUnknownMemory;
                  const int64_t dst = has_dst ? row.Int(kDstKind) : kUnknownMemory;
                  op.name = names->Memcpy(kind, src, dst);
                  op.copy_kind = Lookup(t.enums.copy_kinds, kind);
                  op.src_memory = Lookup(t.enums.memory_kinds, src);
                  op.dst_memory = Lookup(t.enums.memory_kinds, dst);
                  Add(row, sink, *b, op);
                }});
}

MaybeScan MemsetScan(Database& db, const ExportTables& t, std::shared_ptr<CopyNames> names) {
  const std::string table(kMemsetTable);
  if (!db.HasTable(table)) return std::optional<TableScan>();
  if (auto e = RequireColumns(db, table, {"start", "end", "deviceId", "bytes"})) return *e;
  enum { kBytes = kCommonCount, kMemKind };
  const bool has_kind = db.HasColumn(table, "memKind");
  return std::optional(TableScan{table, SelectGpu(db, table, {"bytes", "memKind"}),
                                 [&t, names, has_kind](const Statement& row, RowSink& sink) {
                                   GpuOpRecord op;
                                   TraceBuilder* b = ReadCommon(row, sink, op);
                                   if (!b) return;
                                   op.kind = GpuOpKind::kMemset;
                                   op.bytes = row.Int(kBytes);
                                   const int64_t kind =
                                       has_kind ? row.Int(kMemKind) : kUnknownMemory;
                                   op.name = names->Memset(kind);
                                   op.dst_memory = Lookup(t.enums.memory_kinds, kind);
                                   Add(row, sink, *b, op);
                                 }});
}

// CUPTI synchronization records: which stream a sync call waited for (Kineto's `cuda_sync`).
// Optional: an export whose table lacks the columns loses only this evidence.
MaybeScan SyncScan(Database& db, const ExportTables& t) {
  const std::string table(kSyncTable);
  if (!db.HasTable(table) || RequireColumns(db, table, {"start", "end", "deviceId"}))
    return std::optional<TableScan>();
  enum { kSyncType = kCommonCount };
  return std::optional(TableScan{
      table, SelectGpu(db, table, {"syncType"}), [&t](const Statement& row, RowSink& sink) {
        GpuOpRecord op;
        TraceBuilder* b = ReadCommon(row, sink, op);
        if (!b) return;
        op.kind = GpuOpKind::kSync;
        auto it = t.enums.sync_names.find(row.Int(kSyncType));
        op.name = it != t.enums.sync_names.end() ? std::string_view(it->second) : "Unknown Sync";
        Add(row, sink, *b, op);
      }});
}

}  // namespace

Result<std::vector<TableScan>> DeviceActivityScans(Database& db, const ExportTables& t) {
  std::vector<TableScan> scans;
  auto names = std::make_shared<CopyNames>(t.enums);
  MaybeScan made[] = {KernelScan(db, t), MemcpyScan(db, t, names), MemsetScan(db, t, names),
                      SyncScan(db, t)};
  for (MaybeScan& scan : made) {
    if (!scan.ok()) return scan.error();
    if (scan.value()) scans.push_back(std::move(*scan.value()));
  }
  return scans;
}

}  // namespace teye::import::nsys
