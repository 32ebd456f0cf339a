#include "real_tiles.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include <zlib.h>

namespace teye::bench {
namespace {

namespace fs = std::filesystem;

// End of the JSON object or array that opens at `pos` (just past its closing bracket).
size_t ValueEnd(std::string_view s, size_t pos) {
  int depth = 0;
  for (size_t i = pos; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// The integer after `"key": ` in `event`, or -1.
int64_t Field(std::string_view event, std::string_view quoted_key) {
  size_t at = event.find(quoted_key);
  if (at == std::string_view::npos) return -1;
  at += quoted_key.size();
  while (at < event.size() && (event[at] == ' ' || event[at] == ':'))
    ++at;
  int64_t v = -1;
  std::from_chars(event.data() + at, event.data() + event.size(), v);
  return v;
}

struct Source {
  std::string_view header;  // up to and including the '[' of traceEvents
  std::string_view footer;  // from the ']' of traceEvents to the end
  std::vector<std::string_view> events;
  int64_t first_ts = INT64_MAX;
  int64_t last_end = 0;
  int64_t max_id = 0;
  std::set<int64_t> steps;
};

Source Split(std::string_view s) {
  Source src;
  const size_t key = s.find("\"traceEvents\"");
  const size_t open = key == std::string_view::npos ? s.find('[') : s.find('[', key);
  if (open == std::string_view::npos) return src;
  src.header = s.substr(0, open + 1);
  size_t pos = open + 1;
  while (pos < s.size()) {
    while (pos < s.size() &&
           (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t' || s[pos] == ','))
      ++pos;
    if (pos >= s.size() || s[pos] != '{') break;
    const size_t end = ValueEnd(s, pos);
    if (end == std::string_view::npos) break;
    std::string_view e = s.substr(pos, end - pos);
    src.events.push_back(e);
    const int64_t ts = Field(e, "\"ts\"");
    if (ts > 0) {
      src.first_ts = std::min(src.first_ts, ts);
      src.last_end = std::max(src.last_end, ts + std::max<int64_t>(0, Field(e, "\"dur\"")));
    }
    for (std::string_view k : {"\"id\"", "\"correlation\"", "\"External id\""})
      src.max_id = std::max(src.max_id, Field(e, k));
    if (size_t p = e.find("ProfilerStep#"); p != std::string_view::npos) {
      int64_t n = 0;
      std::from_chars(e.data() + p + 13, e.data() + e.size(), n);
      src.steps.insert(n);
    }
    pos = end;
  }
  while (pos < s.size() && s[pos] != ']')
    ++pos;
  src.footer = s.substr(std::min(pos, s.size()));
  return src;
}

// Appends `event` with every `"key": <integer>` of the keys given moved by its delta, and
// ProfilerStep#N numbers by `step_delta`.
void AppendShifted(std::string& out, std::string_view event, int64_t ts_delta, int64_t id_delta,
                   int64_t step_delta) {
  struct Key {
    std::string_view quoted;
    int64_t delta;
  };
  const Key keys[] = {{"\"ts\"", ts_delta},
                      {"\"id\"", id_delta},
                      {"\"correlation\"", id_delta},
                      {"\"External id\"", id_delta}};
  size_t pos = 0;
  while (pos < event.size()) {
    size_t best = std::string_view::npos, best_len = 0;
    int64_t delta = 0;
    for (const Key& k : keys) {
      size_t at = event.find(k.quoted, pos);
      if (at < best) best = at, best_len = k.quoted.size(), delta = k.delta;
    }
    size_t step = event.find("ProfilerStep#", pos);
    if (step < best) best = step, best_len = 13, delta = step_delta;
    if (best == std::string_view::npos) break;
    size_t num = best + best_len;
    while (num < event.size() && (event[num] == ' ' || event[num] == ':'))
      ++num;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(event.data() + num, event.data() + event.size(), v);
    out.append(event.substr(pos, num - pos));
    if (ec == std::errc()) {
      char buf[24];
      auto [p, e2] = std::to_chars(buf, buf + sizeof buf, v + delta);
      out.append(buf, p);
      pos = static_cast<size_t>(end - event.data());
    } else {
      pos = num;
    }
  }
  out.append(event.substr(pos));
}

// Whether `event` is a metadata event (`"ph": "M"`, any spacing).
bool IsMetadata(std::string_view event) {
  size_t at = event.find("\"ph\"");
  if (at == std::string_view::npos) return false;
  at += 4;
  while (at < event.size() && (event[at] == ' ' || event[at] == ':'))
    ++at;
  return event.substr(at, 3) == "\"M\"";
}

// Writes `copies` copies of the events of `src`; the number of events written.
int64_t WriteTiles(const Source& src, int copies, std::ostream& os) {
  const int64_t period = src.last_end - src.first_ts + 1000;
  const int64_t id_step = src.max_id + 1;
  const int64_t step_step = static_cast<int64_t>(src.steps.size());
  os << src.header;
  std::string buf;
  bool first = true;
  int64_t n = 0;
  for (int k = 0; k < copies; ++k) {
    buf.clear();
    for (std::string_view e : src.events) {
      if (k > 0 && IsMetadata(e)) continue;
      buf.append(first ? "\n  " : ",\n  ");
      first = false;
      AppendShifted(buf, e, k * period, k * id_step, k * step_step);
      ++n;
    }
    os << buf;
  }
  os << "\n  " << src.footer;
  return n;
}

bool Gzip(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return false;
  gzFile out = gzopen(to.c_str(), "wb6");
  if (!out) return false;
  std::vector<char> buf(size_t{1} << 20);
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<unsigned>(in.gcount());
    if (n > 0) ok = gzwrite(out, buf.data(), n) == static_cast<int>(n);
  }
  return gzclose(out) == Z_OK && ok;
}

}  // namespace

std::string ReadSourceTrace(const std::string& path) {
  std::string out;
  gzFile in = gzopen(path.c_str(), "rb");  // reads plain files as they are
  if (!in) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(in, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  if (n < 0) out.clear();
  gzclose(in);
  return out;
}

RealTile WriteRealTile(const std::string& dir, const std::string& name,
                       std::string_view source_json, int target_mb) {
  RealTile t;
  const Source src = Split(source_json);
  if (src.events.empty()) return t;
  const int copies = std::max<int>(
      1, static_cast<int>(
             static_cast<double>(target_mb) * 1e6 / static_cast<double>(source_json.size()) + 0.5));
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  t.events = WriteTiles(src, copies, out);
  out.close();
  if (!out) return t;
  t.path = path;
  t.bytes = t.json_bytes = static_cast<int64_t>(fs::file_size(path));
  return t;
}

RealTile GzipRealTile(const RealTile& plain) {
  RealTile t = plain;
  t.path.clear();
  const std::string path = plain.path + ".gz";
  if (!Gzip(plain.path, path)) return t;
  t.path = path;
  t.bytes = static_cast<int64_t>(fs::file_size(path));
  return t;
}

}  // namespace teye::bench
