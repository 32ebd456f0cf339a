#include "sqlite_db.h"

#include <sqlite3.h>

namespace teye::import::nsys {
namespace {

// A locked file is busy for as long as its writer holds the lock: wait a moment for a writer
// about to finish, then say so rather than hang.
constexpr int kBusyTimeoutMs = 200;

uint32_t BigEndian32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

std::string Describe(int code, const char* message) {
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "the database is locked by another process (is nsys still writing it?); try again "
             "when it is done";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return std::string("the SQLite database is damaged or cut short (SQLite: ") + message + ")";
    case SQLITE_CANTOPEN:
      return std::string("cannot open the SQLite database (SQLite: ") + message + ")";
    default:
      return std::string("SQLite error: ") + message;
  }
}

}  // namespace

std::optional<Error> CheckSqliteHeader(std::string_view header, int64_t file_size,
                                       const std::string& name) {
  if (header.size() < 100 || file_size < 100)
    return Error{"too short to be an SQLite database (" + std::to_string(file_size) + " bytes)",
                 name, file_size};
  uint32_t page_size = static_cast<uint32_t>(static_cast<unsigned char>(header[16])) << 8 |
                       static_cast<unsigned char>(header[17]);
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || (page_size & (page_size - 1)) != 0)
    return Error{
        "not a valid SQLite database: its header gives a page size of " + std::to_string(page_size),
        name, 16};
  const uint32_t change_counter = BigEndian32(header, 24);
  const uint32_t pages = BigEndian32(header, 28);
  const uint32_t valid_for = BigEndian32(header, 92);
  // The page count in the header is trustworthy only when written by the last change.
  const int64_t expected = static_cast<int64_t>(pages) * page_size;
  if (pages != 0 && valid_for == change_counter && file_size < expected)
    return Error{"the SQLite database is cut short: its header says " + std::to_string(expected) +
                     " bytes, the file has " + std::to_string(file_size),
                 name, file_size};
  if (file_size % page_size != 0)
    return Error{"the SQLite database is cut short: it ends inside a page (pages are " +
                     std::to_string(page_size) + " bytes)",
                 name, file_size};
  return std::nullopt;
}

Statement::Statement(Statement&& o) noexcept : stmt_(o.stmt_), failed_(o.failed_) {
  o.stmt_ = nullptr;
}
Statement& Statement::operator=(Statement&& o) noexcept {
  std::swap(stmt_, o.stmt_);
  std::swap(failed_, o.failed_);
  return *this;
}
Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

bool Statement::Next() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) failed_ = true;
  return false;
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Statement::Real(int column) const {
  return sqlite3_column_double(stmt_, column);
}
std::string_view Statement::Text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p),
          static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

Database::Database(Database&& o) noexcept
    : db_(o.db_),
      name_(std::move(o.name_)),
      tables_(std::move(o.tables_)),
      columns_(std::move(o.columns_)) {
  o.db_ = nullptr;
}
Database& Database::operator=(Database&& o) noexcept {
  std::swap(db_, o.db_);
  std::swap(name_, o.name_);
  std::swap(tables_, o.tables_);
  std::swap(columns_, o.columns_);
  return *this;
}
Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Result<Database> Database::OpenFile(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e{Describe(rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), path, -1};
    sqlite3_close_v2(db);
    return e;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return Database(db, path);
}

Result<Database> Database::OpenBytes(const std::string& name, std::string_view bytes) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) {
    // Read-only and not owned: SQLite reads the caller's bytes in place.
    auto* data = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data()));
    const auto size = static_cast<sqlite3_int64>(bytes.size());
    rc = sqlite3_deserialize(db, "main", data, size, size, SQLITE_DESERIALIZE_READONLY);
  }
  if (rc != SQLITE_OK) {
    Error e{Describe(rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), name, -1};
    sqlite3_close_v2(db);
    return e;
  }
  return Database(db, name);
}

std::optional<Error> Database::LoadSchema() {
  auto stmt = Prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')");
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next())
    tables_.insert(std::string(stmt->Text(0)));
  if (stmt->failed()) return QueryError("cannot list the tables");
  return std::nullopt;
}

const std::set<std::string>& Database::Columns(const std::string& table) {
  auto [it, inserted] = columns_.try_emplace(table);
  if (!inserted || !HasTable(table)) return it->second;
  // The table name comes from sqlite_master, never from the file's rows; quote it anyway.
  auto stmt = Prepare("SELECT name FROM pragma_table_info('" + table + "')");
  if (!stmt.ok()) return it->second;
  while (stmt->Next())
    it->second.insert(std::string(stmt->Text(0)));
  return it->second;
}

Result<Statement> Database::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error{Describe(rc, sqlite3_errmsg(db_)), name_, -1};
  }
  return Statement(stmt);
}

Error Database::QueryError(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_);
  return Error{what + ": " + Describe(code, sqlite3_errmsg(db_)), name_, -1};
}

}  // namespace teye::import::nsys
