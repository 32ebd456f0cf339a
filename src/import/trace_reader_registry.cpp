#include "trace_reader_registry.h"

#include "chrome_json_reader.h"
#include "json_scanner.h"

namespace teye::import {
namespace {

bool SniffChromeJson(std::string_view head) {
  size_t p = SkipWhitespace(head, 0);
  if (head.substr(p, 3) == "\xEF\xBB\xBF") p = SkipWhitespace(head, p + 3);
  return p < head.size() && (head[p] == '{' || head[p] == '[');
}
bool SniffSqlite(std::string_view head) {
  return head.starts_with("SQLite format 3");
}
bool SniffZip(std::string_view head) {
  return head.starts_with("PK\x03\x04");
}

constexpr TraceReaderEntry kReaders[] = {
    {"chrome-json", SniffChromeJson, ReadChromeJson, ""},
    {"sqlite", SniffSqlite, nullptr,
     "this is an SQLite database (an Nsight Systems export?); teye reads Chrome trace JSON: "
     "export with 'nsys export --type json' or record with 'teye record'"},
    {"zip", SniffZip, nullptr,
     "this is a ZIP archive, not a trace; unzip it and pass the .json or .json.gz inside"},
};

}  // namespace

Result<Trace> ReadWithRegistry(const InputBuffer& input, const std::string& name,
                               const ReadOptions& options) {
  std::string_view head = input.view().substr(0, 4096);
  for (const auto& entry : kReaders) {
    if (!entry.sniff(head)) continue;
    if (!entry.read) return Error{std::string(entry.hint), name, 0};
    return entry.read(input, name, options);
  }
  // Nothing matched: let the JSON reader explain what it expected and what it found.
  return ReadChromeJson(input, name, options);
}

}  // namespace teye::import
