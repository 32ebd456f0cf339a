// A read-only SQLite connection for reading Nsight Systems exports: opened from a file (shared
// lock, so a file another process is writing is refused, not half-read) or from bytes in memory
// (standard input, a gzip'd export). Errors are values naming the file (STYLE.md 5).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "teye/model/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace teye::import::nsys {

// The 16 bytes every SQLite 3 database starts with.
inline constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};

// Checks the 100-byte SQLite header against the size of the whole file: a file shorter than the
// page count its header records was cut short. `header` holds at least the first 100 bytes.
std::optional<Error> CheckSqliteHeader(std::string_view header, int64_t file_size,
                                       const std::string& name);

// One prepared query. Column accessors read the current row; text is valid until Next().
class Statement {
 public:
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  ~Statement();

  // True when a row is ready; false at the end or on an error (then failed() is true).
  bool Next();
  bool failed() const { return failed_; }

  bool IsNull(int column) const;
  int64_t Int(int column) const;  // NULL reads as 0
  double Real(int column) const;
  std::string_view Text(int column) const;  // NULL reads as ""

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
  bool failed_ = false;
};

class Database {
 public:
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  // Opens `path` read-only. The file is not locked exclusively and never written.
  static Result<Database> OpenFile(const std::string& path);
  // Reads an image of a database held in memory; `bytes` must outlive the Database.
  static Result<Database> OpenBytes(const std::string& name, std::string_view bytes);

  // Lists the tables (one query on sqlite_master); fails on a locked or damaged file.
  [[nodiscard]] std::optional<Error> LoadSchema();
  bool HasTable(std::string_view table) const { return tables_.count(std::string(table)) > 0; }
  // Column names of `table` (PRAGMA table_info), cached; empty for a missing table.
  const std::set<std::string>& Columns(const std::string& table);
  bool HasColumn(const std::string& table, const std::string& column) {
    return Columns(table).count(column) > 0;
  }

  Result<Statement> Prepare(const std::string& sql);
  // The error that ended a query: what SQLite said, in words a user can act on.
  Error QueryError(const std::string& what) const;
  const std::string& name() const { return name_; }

 private:
  Database(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}
  sqlite3* db_ = nullptr;
  std::string name_;
  std::set<std::string> tables_;
  std::map<std::string, std::set<std::string>> columns_;
};

}  // namespace teye::import::nsys
