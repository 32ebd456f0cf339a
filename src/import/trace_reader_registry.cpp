#include "trace_reader_registry.h"

#include "chrome_json_reader.h"
#include "json_scanner.h"
#include "nsys_sqlite/nsys_reader.h"

namespace teye::import {
namespace {

bool SniffChromeJson(std::string_view head) {
  size_t p = SkipWhitespace(head, 0);
  if (head.substr(p, 3) == "\xEF\xBB\xBF") p = SkipWhitespace(head, p + 3);
  return p < head.size() && (head[p] == '{' || head[p] == '[');
}
Result<TraceSet> ReadChromeJsonRank(const InputBuffer& input, const std::string& name,
                                    const ReadOptions& options) {
  auto trace = ReadChromeJson(input, name, options);
  if (!trace.ok()) return trace.error();
  TraceSet set;
  set.push_back(std::move(trace.value()));
  return set;
}
// A database image in memory (standard input, gzip); files are opened by path before this.
Result<TraceSet> ReadNsysSqliteInput(const InputBuffer& input, const std::string& name,
                                     const ReadOptions& options) {
  return ReadNsysSqliteBytes(name, input.view(), input.bytes_on_disk, options);
}
bool SniffZip(std::string_view head) {
  return head.starts_with("PK\x03\x04");
}

constexpr TraceReaderEntry kReaders[] = {
    {"chrome-json", SniffChromeJson, ReadChromeJsonRank, ""},
    {"nsys-sqlite", LooksSqlite, ReadNsysSqliteInput, ""},
    {"zip", SniffZip, nullptr,
     "this is a ZIP archive, not a trace; unzip it and pass the .json or .json.gz inside"},
};

}  // namespace

Result<TraceSet> ReadWithRegistry(const InputBuffer& input, const std::string& name,
                                  const ReadOptions& options) {
  std::string_view head = input.Prefix(4096).substr(0, 4096);
  for (const auto& entry : kReaders) {
    if (!entry.sniff(head)) continue;
    if (!entry.read) return Error{std::string(entry.hint), name, 0};
    return entry.read(input, name, options);
  }
  // Nothing matched: let the JSON reader explain what it expected and what it found.
  return ReadChromeJsonRank(input, name, options);
}

}  // namespace teye::import
