// Reads tables in rowid ranges on several connections at once. SQLite connections are not
// shared between threads, so each thread opens its own (read-only) one; a rowid range is a seek
// in the table's own B-tree, the one index every table has. Each chunk fills its own RowSink,
// appended in table order afterwards, so the result does not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <mutex>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

// A row of an export's event tables takes 20 to 100 bytes: a chunk of ReadOptions::chunk_bytes
// / 32 rows (131072 for the default 4 MB) is big enough that its own builders and their merge
// cost little, small enough that two threads share a table of a few hundred thousand rows.
constexpr int64_t kBytesPerRowGuess = 32;
constexpr int64_t kMinChunkRows = 1024;

struct Chunk {
  const TableScan* scan = nullptr;
  int64_t first = 0;  // rowids, inclusive; first > last: the whole table
  int64_t last = -1;
};

std::optional<Error> ReadChunk(Database& db, const Chunk& chunk, RowSink& sink) {
  std::string sql = chunk.scan->select;
  if (chunk.first <= chunk.last)
    sql += " WHERE rowid BETWEEN " + std::to_string(chunk.first) + " AND " +
           std::to_string(chunk.last);
  auto stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.error();
  while (stmt->Next())
    chunk.scan->read_row(*stmt, sink);
  if (stmt->failed()) return db.QueryError("cannot read " + chunk.scan->table);
  return std::nullopt;
}

Result<std::vector<Chunk>> CutIntoChunks(Database& db, const std::vector<TableScan>& scans,
                                         int64_t chunk_rows) {
  std::vector<Chunk> chunks;
  for (const TableScan& scan : scans) {
    // MIN and MAX of the rowid are two B-tree descents, not scans.
    auto stmt = db.Prepare("SELECT MIN(rowid), MAX(rowid) FROM " + scan.table);
    if (!stmt.ok()) return stmt.error();
    if (!stmt->Next()) {
      if (stmt->failed()) return db.QueryError("cannot read " + scan.table);
      continue;
    }
    if (stmt->IsNull(0)) continue;  // empty table
    const int64_t lo = stmt->Int(0), hi = stmt->Int(1);
    if (hi - lo < chunk_rows) {
      chunks.push_back({&scan, 1, 0});
      continue;
    }
    for (int64_t first = lo; first <= hi; first += chunk_rows)
      chunks.push_back({&scan, first, std::min(hi, first + chunk_rows - 1)});
  }
  return chunks;
}

}  // namespace

std::optional<Error> RunScans(const std::vector<TableScan>& scans, Database& db,
                              const ConnectionFactory& open, const ReadOptions& options,
                              RowSink& sink) {
  const unsigned threads = options.executor ? options.executor->threads() : 1;
  const int64_t chunk_rows =
      std::max(kMinChunkRows, static_cast<int64_t>(options.chunk_bytes) / kBytesPerRowGuess);
  auto cut = CutIntoChunks(db, scans, chunk_rows);
  if (!cut.ok()) return cut.error();
  const std::vector<Chunk>& chunks = cut.value();
  if (chunks.empty()) return std::nullopt;

  // Chunks are appended to `sink` in order as soon as they and all before them are read, by
  // whichever thread finished last, so finished chunks do not pile up in memory.
  std::vector<RowSink> sinks(chunks.size());
  std::vector<char> done(chunks.size(), 0);
  std::optional<Error> error;
  std::mutex mu;
  size_t appended = 0;
  std::atomic<size_t> next{0};
  auto work = [&](Database& connection) {
    for (size_t i = next++; i < chunks.size(); i = next++) {
      std::optional<Error> e = ReadChunk(connection, chunks[i], sinks[i]);
      std::lock_guard lock(mu);
      if (e && !error) error = std::move(e);
      if (error) {
        next = chunks.size();  // stop handing out chunks
        return;
      }
      done[i] = 1;
      for (; appended < chunks.size() && done[appended]; ++appended)
        sink.Append(std::move(sinks[appended]));
    }
  };

  // Helpers are tasks on the executor, each with a connection of its own; one that starts after
  // the chunks ran out returns at once.
  const unsigned helpers =
      std::min<unsigned>(std::max(1u, threads), static_cast<unsigned>(chunks.size())) - 1;
  TaskGroup group(options.executor);
  for (unsigned h = 0; h < helpers; ++h) {
    group.Spawn([&] {
      if (next >= chunks.size()) return;
      Result<Database> connection = open();
      if (!connection.ok()) {
        std::lock_guard lock(mu);
        if (!error) error = connection.error();
        next = chunks.size();
        return;
      }
      work(connection.value());
    });
  }
  work(db);
  group.Wait();
  return error;
}

}  // namespace teye::import::nsys
