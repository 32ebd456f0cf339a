// What an Nsight Systems SQLite export holds and how its values decode, across the schema
// generations teye reads (docs/trace-format.md, "Nsight Systems"): the serialized process and
// thread ids, the string table, and the ENUM_* tables (or, in exports older than them, the
// numbering those tables spell out).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "teye/model/result.h"
#include "teye/model/types.h"

#include "sqlite_db.h"

namespace teye::import::nsys {

inline constexpr std::string_view kKernelTable = "CUPTI_ACTIVITY_KIND_KERNEL";
inline constexpr std::string_view kMemcpyTable = "CUPTI_ACTIVITY_KIND_MEMCPY";
inline constexpr std::string_view kMemsetTable = "CUPTI_ACTIVITY_KIND_MEMSET";
inline constexpr std::string_view kSyncTable = "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION";
inline constexpr std::string_view kRuntimeTable = "CUPTI_ACTIVITY_KIND_RUNTIME";
inline constexpr std::string_view kDriverTable = "CUPTI_ACTIVITY_KIND_DRIVER";
inline constexpr std::string_view kNvtxTable = "NVTX_EVENTS";
inline constexpr std::string_view kOsrtTable = "OSRT_API";

// NVIDIA's "Serialized process and thread identifiers": PID = globalTid / 0x1000000 % 0x1000000,
// TID = globalTid % 0x1000000; a globalPid holds the PID the same way.
struct ProcessThread {
  int64_t pid = 0;
  int64_t tid = 0;
};
ProcessThread DecodeGlobalTid(int64_t global_tid);
int64_t DecodeGlobalPid(int64_t global_pid);

// "cudaLaunchKernel_v7000" → "cudaLaunchKernel": nsys suffixes API names with the CUDA version
// that introduced them (four or more digits); "_v2" of driver entry points is part of the name.
std::string_view StripApiVersion(std::string_view name);

// StringIds, indexed by id: read once, so rows refer to names without copying them.
class StringTable {
 public:
  [[nodiscard]] std::optional<Error> Load(Database& db);
  std::string_view Get(int64_t id) const {
    return id >= 0 && static_cast<size_t>(id) < values_.size() ? values_[id] : std::string_view{};
  }
  size_t size() const { return values_.size(); }

 private:
  std::vector<std::string> values_;
};

// Names and meanings of the enumerated columns.
struct ExportEnums {
  // copyKind → Kineto's direction word ("HtoD", "HtoA", ...) and the model's CopyKind.
  std::unordered_map<int64_t, std::string> copy_names;
  std::unordered_map<int64_t, CopyKind> copy_kinds;
  // srcKind/dstKind/memKind → "Pageable", "Pinned", "Device", ...
  std::unordered_map<int64_t, std::string> memory_names;
  std::unordered_map<int64_t, MemoryKind> memory_kinds;
  // syncType → Kineto's `cuda_sync` name ("Stream Sync", "Event Sync", ...).
  std::unordered_map<int64_t, std::string> sync_names;
  int64_t driver_event_class = 1;  // eventClass of driver API calls in the RUNTIME table
  int64_t nvtx_push_pop = 59;      // NVTX_EVENTS.eventType values
  int64_t nvtx_start_end = 60;
  int64_t nvtx_mark = 34;
  int64_t nvtx_domain_create = 75;

  // From the ENUM_* tables where the export has them, else the values they hold in every
  // export that has them (the same as CUPTI's for copy and sync kinds).
  void Load(Database& db);
};

// Facts about the export as a whole.
struct ExportInfo {
  int64_t session_start_ns = 0;  // TARGET_INFO_SESSION_START_TIME.utcEpochNs, else 0
  std::string product_version;   // "2024.2.1.106"
  void Load(Database& db);
};

}  // namespace teye::import::nsys
