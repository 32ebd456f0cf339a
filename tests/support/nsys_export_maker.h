// Writes small Nsight Systems SQLite exports for tests: the tables and column names of an
// nsys 2024 export (a subset of their columns), filled row by row. Serialized ids follow NVIDIA's
// documented layout (PID = globalTid / 0x1000000 % 0x1000000, TID = globalTid % 0x1000000).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>

namespace teye::test {

// A fresh database at `path` (an existing file is replaced); closed by the destructor.
class NsysExportMaker {
 public:
  // `tables` = false: only StringIds (for tests that add their own tables).
  explicit NsysExportMaker(const std::string& path, bool tables = true) {
    std::remove(path.c_str());
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open");
    Exec("PRAGMA journal_mode=DELETE");
    Exec("PRAGMA synchronous=OFF");
    Exec("BEGIN");
    Exec("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    if (!tables) return;
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "deviceId INTEGER NOT NULL, contextId INTEGER, streamId INTEGER, correlationId INTEGER, "
        "globalPid INTEGER, demangledName INTEGER, shortName INTEGER, gridX INTEGER, gridY "
        "INTEGER, gridZ INTEGER, blockX INTEGER, blockY INTEGER, blockZ INTEGER, "
        "registersPerThread INTEGER, staticSharedMemory INTEGER, dynamicSharedMemory INTEGER)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL, "
        "deviceId INTEGER NOT NULL, contextId INTEGER, streamId INTEGER, correlationId INTEGER, "
        "globalPid INTEGER, bytes INTEGER NOT NULL, copyKind INTEGER NOT NULL, srcKind INTEGER, "
        "dstKind INTEGER)");
    Exec(
        "CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT "
        "NULL, eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER, nameId "
        "INTEGER NOT NULL, returnValue INTEGER NOT NULL, callchainId INTEGER)");
    Exec(
        "CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT "
        "NULL, rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER, "
        "endGlobalTid INTEGER, textId INTEGER, domainId INTEGER, jsonTextId INTEGER, jsonText "
        "TEXT)");
    Exec(
        "CREATE TABLE OSRT_API (start INTEGER NOT NULL, end INTEGER NOT NULL, eventClass "
        "INTEGER NOT NULL, globalTid INTEGER, nameId INTEGER NOT NULL, returnValue INTEGER NOT "
        "NULL, nestingLevel INTEGER, callchainId INTEGER)");
    Exec("CREATE TABLE PROCESSES (globalPid INTEGER, pid INTEGER, name TEXT)");
    Exec(
        "CREATE TABLE ThreadNames (nameId INTEGER NOT NULL, priority INTEGER, globalTid "
        "INTEGER)");
    Exec(
        "CREATE TABLE TARGET_INFO_GPU (vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, "
        "totalMemory INTEGER, smCount INTEGER, computeMajor INTEGER, computeMinor INTEGER, "
        "threadsPerWarp INTEGER, maxWarpsPerSm INTEGER, cuDevice INTEGER)");
    Exec(
        "CREATE TABLE TARGET_INFO_SESSION_START_TIME (utcEpochNs INTEGER, utcTime TEXT, "
        "localTime TEXT)");
  }
  ~NsysExportMaker() { Finish(); }
  // Commits and closes: the file is complete afterwards.
  void Finish() {
    if (!db_) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  NsysExportMaker(const NsysExportMaker&) = delete;
  NsysExportMaker& operator=(const NsysExportMaker&) = delete;

  static int64_t GlobalTid(int64_t pid, int64_t tid) {
    return (int64_t{1} << 48) + pid * 0x1000000 + tid;
  }
  static int64_t GlobalPid(int64_t pid) { return GlobalTid(pid, 0); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(m + " in: " + sql);
    }
  }
  int64_t String(std::string_view s) {
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<int64_t>(ids_.size());
    ids_.emplace(std::string(s), id);
    Exec("INSERT INTO StringIds VALUES (" + std::to_string(id) + ", " + Quote(s) + ")");
    return id;
  }

  void Kernel(int64_t pid, int device, int stream, int64_t start, int64_t end, int64_t correlation,
              std::string_view name) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (" +
         List(start, end, device, 1, stream, correlation, GlobalPid(pid), String(name),
              String(name)) +
         ", 80, 1, 1, 256, 1, 1, 32, 0, 1024)");
  }
  void Memcpy(int64_t pid, int device, int64_t start, int64_t end, int64_t correlation,
              int64_t bytes, int copy_kind, int src_kind, int dst_kind) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY VALUES (" +
         List(start, end, device, 1, 7, correlation, GlobalPid(pid), bytes, copy_kind, src_kind,
              dst_kind) +
         ")");
  }
  // eventClass 0: runtime, 1: driver (ENUM_NSYS_EVENT_CLASS).
  void Api(int64_t pid, int64_t tid, int64_t start, int64_t end, int64_t correlation,
           std::string_view name, int event_class = 0) {
    Exec("INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (" +
         List(start, end, event_class, GlobalTid(pid, tid), correlation, String(name), 0, 0) + ")");
  }
  // eventType 59: push/pop, 60: start/end, 34: mark, 75: domain create. end < 0: NULL.
  void Nvtx(int64_t pid, int64_t tid, int64_t start, int64_t end, int type, std::string_view text,
            int64_t domain = 0, bool text_by_id = false, std::string_view json = {}) {
    const std::string end_sql = end < 0 ? "NULL" : std::to_string(end);
    const std::string text_sql = text_by_id ? "NULL" : Quote(text);
    const std::string id_sql = text_by_id ? std::to_string(String(text)) : "NULL";
    const std::string json_sql = json.empty() ? "NULL" : Quote(json);
    Exec("INSERT INTO NVTX_EVENTS VALUES (" + std::to_string(start) + ", " + end_sql + ", " +
         std::to_string(type) + ", NULL, NULL, NULL, " + text_sql + ", " +
         std::to_string(GlobalTid(pid, tid)) + ", NULL, " + id_sql + ", " + std::to_string(domain) +
         ", NULL, " + json_sql + ")");
  }
  void Osrt(int64_t pid, int64_t tid, int64_t start, int64_t end, std::string_view name,
            int64_t return_value) {
    Exec("INSERT INTO OSRT_API VALUES (" +
         List(start, end, 27, GlobalTid(pid, tid), String(name), return_value, 0, 0) + ")");
  }
  void Process(int64_t pid, std::string_view name) {
    Exec("INSERT INTO PROCESSES VALUES (" + List(GlobalPid(pid), pid) + ", " + Quote(name) + ")");
  }
  void ThreadName(int64_t pid, int64_t tid, std::string_view name) {
    Exec("INSERT INTO ThreadNames VALUES (" + List(String(name), 10, GlobalTid(pid, tid)) + ")");
  }
  void Gpu(int id, std::string_view name, int sms) {
    Exec("INSERT INTO TARGET_INFO_GPU VALUES (0, " + std::to_string(id) + ", " + Quote(name) +
         ", 85899345920, " + std::to_string(sms) + ", 9, 0, 32, 64, " + std::to_string(id) + ")");
  }
  void SessionStart(int64_t utc_epoch_ns) {
    Exec("INSERT INTO TARGET_INFO_SESSION_START_TIME VALUES (" + std::to_string(utc_epoch_ns) +
         ", '', '')");
  }

 private:
  static std::string Quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'";
  }
  template <typename... T>
  static std::string List(T... values) {
    std::string out;
    ((out += (out.empty() ? "" : ", ") + std::to_string(values)), ...);
    return out;
  }

  sqlite3* db_ = nullptr;
  std::map<std::string, int64_t> ids_;
};

}  // namespace teye::test
