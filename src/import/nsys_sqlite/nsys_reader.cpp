#include "nsys_reader.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_context.h"

namespace teye::import {
namespace {

using nsys::Database;

// Tables holding events teye reads; an export with none of them has nothing to analyse.
constexpr std::string_view kEventTables[] = {
    nsys::kKernelTable, nsys::kMemcpyTable, nsys::kMemsetTable, nsys::kRuntimeTable,
    nsys::kDriverTable, nsys::kNvtxTable,   nsys::kOsrtTable};

Result<TraceSet> ReadDatabase(Database& db, const nsys::ConnectionFactory& open,
                              const std::string& name, int64_t bytes_on_disk,
                              const ReadOptions& options) {
  ScopedPhase read(options.timings, "read");
  if (auto e = db.LoadSchema()) return *e;
  if (!db.HasTable("StringIds"))
    return Error{
        "an SQLite database, but not an Nsight Systems export (it has no StringIds "
        "table); make one with 'nsys export --type sqlite report.nsys-rep'",
        name, -1};
  bool any = false;
  for (std::string_view t : kEventTables)
    any = any || db.HasTable(t);
  if (!any)
    return Error{
        "an Nsight Systems export without CUDA, NVTX or OS runtime tables: nothing to "
        "analyse (profile with 'nsys profile --trace=cuda,nvtx,osrt')",
        name, -1};

  nsys::ExportTables tables;
  if (auto e = tables.strings.Load(db)) return *e;
  tables.enums.Load(db);
  tables.info.Load(db);
  if (auto e = nsys::ReadNvtxDomains(db, tables)) return *e;
  // Every query is built (and every column checked) before any row is read.
  auto device = nsys::DeviceActivityScans(db, tables);
  if (!device.ok()) return device.error();
  auto api = nsys::ApiCallScans(db, tables);
  if (!api.ok()) return api.error();
  auto nvtx = nsys::NvtxScans(db, tables);
  if (!nvtx.ok()) return nvtx.error();

  nsys::RowSink sink;
  // Device activity first: which processes launched GPU work decides how API calls are kept.
  if (auto e = nsys::RunScans(device.value(), db, open, options, sink)) return *e;
  tables.gpu_pids = sink.gpu_pids;
  std::vector<nsys::TableScan> host = std::move(api.value());
  for (auto& scan : nvtx.value())
    host.push_back(std::move(scan));
  if (auto e = nsys::RunScans(host, db, open, options, sink)) return *e;
  if (auto e = nsys::ReadNames(db, tables, sink)) return *e;
  nsys::AddDevices(db, sink);
  read.Stop();
  ScopedPhase build(options.timings, "model build");
  return nsys::AssembleRanks(sink, tables, name, bytes_on_disk, options.executor);
}

Error IoError(const std::string& path, const std::string& what) {
  return Error{what + ": " + std::strerror(errno), path, -1};
}

}  // namespace

bool LooksSqlite(std::string_view head) {
  // The magic's final NUL is left out: a file holding only the text is refused by the SQLite
  // reader ("too short"), which names what it looked like.
  return head.starts_with(nsys::kSqliteMagic.substr(0, nsys::kSqliteMagic.size() - 1));
}

bool IsSqliteFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[16];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return n > 0 && LooksSqlite(std::string_view(head, static_cast<size_t>(n)));
}

Result<TraceSet> ReadNsysSqliteFile(const std::string& path, const ReadOptions& options) {
  // The header first: SQLite reads a cut-off file without complaint as long as a query touches
  // no missing page.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path, "cannot open");
  struct stat st {};
  char header[100] = {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const ssize_t n = stat_ok ? ::read(fd, header, sizeof header) : -1;
  ::close(fd);
  if (!stat_ok || n < 0) return IoError(path, "cannot read");
  const std::string_view head(header, static_cast<size_t>(n));
  if (auto e = nsys::CheckSqliteHeader(head, st.st_size, path)) return *e;
  auto db = Database::OpenFile(path);
  if (!db.ok()) return db.error();
  return ReadDatabase(
      db.value(), [&path] { return Database::OpenFile(path); }, path, st.st_size, options);
}

Result<TraceSet> ReadNsysSqliteBytes(const std::string& name, std::string_view bytes,
                                     int64_t bytes_on_disk, const ReadOptions& options) {
  const auto size = static_cast<int64_t>(bytes.size());
  if (auto e = nsys::CheckSqliteHeader(bytes.substr(0, 100), size, name)) return *e;
  auto db = Database::OpenBytes(name, bytes);
  if (!db.ok()) return db.error();
  return ReadDatabase(
      db.value(), [&] { return Database::OpenBytes(name, bytes); }, name, bytes_on_disk, options);
}

}  // namespace teye::import
