// Device activity: CUPTI_ACTIVITY_KIND_KERNEL, _MEMCPY, _MEMSET and _SYNCHRONIZATION, each read in
// one pass in stored order (the builder sorts), each row into the builder of the process that
// launched it (globalPid).
#include <map>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

// Columns every device-activity table shares, first in each query.
enum CommonColumn { kStart, kEnd, kDevice, kStream, kCorrelation, kGlobalPid, kCommonCount };

// "SELECT <common columns>, <extra columns> FROM table".
std::string SelectGpu(ExportContext& c, const std::string& table,
                      std::initializer_list<std::string_view> extra) {
  return "SELECT " +
         SelectList(c.db, table,
                    {"start", "end", "deviceId", "streamId", "correlationId", "globalPid"}) +
         ", " + SelectList(c.db, table, extra) + " FROM " + table;
}

// Fills what every device activity has; false (counted) when its times are unusable.
bool ReadCommon(const Statement& row, ExportContext& c, GpuOpRecord& op, TraceBuilder*& builder) {
  const int64_t pid = DecodeGlobalPid(row.Int(kGlobalPid));
  builder = &c.Process(pid);
  builder->stats().events_seen++;
  if (row.IsNull(kStart) || row.IsNull(kEnd)) {
    builder->stats().Count(SkipReason::kMissingTimestamp);
    return false;
  }
  const int64_t start = row.Int(kStart);
  op.ts = FileTime{start, 0};
  op.dur = FileTime{row.Int(kEnd) - start, 0};
  op.device = static_cast<int16_t>(row.Int(kDevice));
  op.stream = row.IsNull(kStream) ? -1 : static_cast<int32_t>(row.Int(kStream));
  op.correlation = row.Int(kCorrelation);
  return true;
}

void Added(ExportContext& c, const GpuOpRecord& op, int64_t pid) {
  if (op.kind == GpuOpKind::kSync) return;
  c.gpu_pids.insert(pid);
  c.devices_by_pid[pid].insert(op.device);
}

std::optional<Error> ReadKernels(ExportContext& c) {
  const std::string table(kKernelTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "deviceId"})) return e;
  if (!c.db.HasColumn(table, "demangledName") && !c.db.HasColumn(table, "shortName"))
    return RequireColumns(c.db, table, {"demangledName"});
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
  auto stmt = c.db.Prepare(
      SelectGpu(c, table,
                {"demangledName", "shortName", "gridX", "gridY", "gridZ", "blockX", "blockY",
                 "blockZ", "registersPerThread", "staticSharedMemory", "dynamicSharedMemory"}));
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    GpuOpRecord op;
    TraceBuilder* b = nullptr;
    if (!ReadCommon(*stmt, c, op, b)) continue;
    op.kind = GpuOpKind::kKernel;
    op.name = c.strings.Get(stmt->Int(kDemangled));
    if (op.name.empty()) op.name = c.strings.Get(stmt->Int(kShort));
    op.grid_blocks = stmt->Int(kGridX) * stmt->Int(kGridY) * stmt->Int(kGridZ);
    op.block_threads =
        static_cast<int32_t>(stmt->Int(kBlockX) * stmt->Int(kBlockY) * stmt->Int(kBlockZ));
    op.registers = static_cast<int16_t>(stmt->Int(kRegisters));
    op.shared_memory = static_cast<int32_t>(stmt->Int(kStaticShared) + stmt->Int(kDynamicShared));
    if (b->AddGpuOp(op)) Added(c, op, DecodeGlobalPid(stmt->Int(kGlobalPid)));
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

// Kineto's names: "Memcpy HtoD (Pageable -> Device)", "Memset (Device)"; built once per
// combination, so rows refer to them without building strings.
class CopyNames {
 public:
  explicit CopyNames(const ExportEnums& enums) : enums_(enums) {}

  const std::string& Memcpy(int64_t kind, int64_t src, int64_t dst) {
    auto [it, inserted] = names_.try_emplace({kind, src, dst});
    if (inserted)
      it->second = "Memcpy " + Word(enums_.copy_names, kind) + " (" + Memory(src) + " -> " +
                   Memory(dst) + ")";
    return it->second;
  }
  const std::string& Memset(int64_t kind) {
    auto [it, inserted] = names_.try_emplace({-1, kind, -1});
    if (inserted) it->second = "Memset (" + Memory(kind) + ")";
    return it->second;
  }
  std::string Memory(int64_t kind) const { return Word(enums_.memory_names, kind); }

 private:
  static std::string Word(const std::unordered_map<int64_t, std::string>& names, int64_t id) {
    auto it = names.find(id);
    return it != names.end() ? it->second : "Unknown";
  }
  const ExportEnums& enums_;
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::string> names_;
};

template <typename K>
K Lookup(const std::unordered_map<int64_t, K>& map, int64_t id) {
  auto it = map.find(id);
  return it != map.end() ? it->second : K::kUnknown;
}

std::optional<Error> ReadMemcpy(ExportContext& c, CopyNames& names) {
  const std::string table(kMemcpyTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "deviceId", "bytes", "copyKind"}))
    return e;
  enum { kBytes = kCommonCount, kCopyKind, kSrcKind, kDstKind };
  auto stmt = c.db.Prepare(SelectGpu(c, table, {"bytes", "copyKind", "srcKind", "dstKind"}));
  if (!stmt.ok()) return stmt.error();
  const bool has_src = c.db.HasColumn(table, "srcKind");
  const bool has_dst = c.db.HasColumn(table, "dstKind");
  constexpr int64_t kUnknownMemory = -1;
  while (stmt->Next()) {
    GpuOpRecord op;
    TraceBuilder* b = nullptr;
    if (!ReadCommon(*stmt, c, op, b)) continue;
    op.kind = GpuOpKind::kMemcpy;
    op.bytes = stmt->Int(kBytes);
    const int64_t kind = stmt->Int(kCopyKind);
    const int64_t src = has_src ? stmt->Int(kSrcKind) : kUnknownMemory;
    const int64_t dst = has_dst ? stmt->Int(kDstKind) : kUnknownMemory;
    op.name = names.Memcpy(kind, src, dst);
    op.copy_kind = Lookup(c.enums.copy_kinds, kind);
    op.src_memory = Lookup(c.enums.memory_kinds, src);
    op.dst_memory = Lookup(c.enums.memory_kinds, dst);
    if (b->AddGpuOp(op)) Added(c, op, DecodeGlobalPid(stmt->Int(kGlobalPid)));
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

std::optional<Error> ReadMemset(ExportContext& c, CopyNames& names) {
  const std::string table(kMemsetTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (auto e = RequireColumns(c.db, table, {"start", "end", "deviceId", "bytes"})) return e;
  enum { kBytes = kCommonCount, kMemKind };
  auto stmt = c.db.Prepare(SelectGpu(c, table, {"bytes", "memKind"}));
  if (!stmt.ok()) return stmt.error();
  const bool has_kind = c.db.HasColumn(table, "memKind");
  while (stmt->Next()) {
    GpuOpRecord op;
    TraceBuilder* b = nullptr;
    if (!ReadCommon(*stmt, c, op, b)) continue;
    op.kind = GpuOpKind::kMemset;
    op.bytes = stmt->Int(kBytes);
    const int64_t kind = has_kind ? stmt->Int(kMemKind) : -1;
    op.name = names.Memset(kind);
    op.dst_memory = Lookup(c.enums.memory_kinds, kind);
    if (b->AddGpuOp(op)) Added(c, op, DecodeGlobalPid(stmt->Int(kGlobalPid)));
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

// CUPTI synchronization records: which stream a sync call waited for (Kineto's `cuda_sync`).
std::optional<Error> ReadSyncs(ExportContext& c) {
  const std::string table(kSyncTable);
  if (!c.db.HasTable(table)) return std::nullopt;
  if (RequireColumns(c.db, table, {"start", "end", "deviceId"})) return std::nullopt;  // optional
  enum { kSyncType = kCommonCount };
  auto stmt = c.db.Prepare(SelectGpu(c, table, {"syncType"}));
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next()) {
    GpuOpRecord op;
    TraceBuilder* b = nullptr;
    if (!ReadCommon(*stmt, c, op, b)) continue;
    op.kind = GpuOpKind::kSync;
    auto it = c.enums.sync_names.find(stmt->Int(kSyncType));
    op.name = it != c.enums.sync_names.end() ? std::string_view(it->second) : "Unknown Sync";
    b->AddGpuOp(op);
  }
  if (stmt->failed()) return c.db.QueryError("cannot read " + table);
  return std::nullopt;
}

}  // namespace

std::optional<Error> ReadGpuActivity(ExportContext& c) {
  CopyNames names(c.enums);
  if (auto e = ReadKernels(c)) return e;
  if (auto e = ReadMemcpy(c, names)) return e;
  if (auto e = ReadMemset(c, names)) return e;
  return ReadSyncs(c);
}

}  // namespace teye::import::nsys
