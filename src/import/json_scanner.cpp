#include "json_scanner.h"

#include <cstring>

namespace teye::import {
namespace {
inline bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
}  // namespace

size_t SkipWhitespace(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos]))
    ++pos;
  return pos;
}

size_t ScanStringEnd(std::string_view s, size_t pos) {
  ++pos;  // opening quote
  while (pos < s.size()) {
    const void* hit = std::memchr(s.data() + pos, '"', s.size() - pos);
    if (!hit) return kNotFound;
    size_t q = static_cast<const char*>(hit) - s.data();
    // The quote is escaped when an odd number of backslashes precede it.
    size_t backslashes = 0;
    while (q - backslashes > pos && s[q - backslashes - 1] == '\\')
      ++backslashes;
    if (backslashes % 2 == 0) return q + 1;
    pos = q + 1;
  }
  return kNotFound;
}

size_t ScanValueEnd(std::string_view s, size_t pos) {
  if (pos >= s.size()) return kNotFound;
  char c = s[pos];
  if (c == '"') return ScanStringEnd(s, pos);
  if (c != '{' && c != '[') {
    while (pos < s.size()) {
      char d = s[pos];
      if (d == ',' || d == '}' || d == ']' || IsSpace(d)) return pos;
      ++pos;
    }
    return kNotFound;  // a scalar running into the end may be cut short
  }
  size_t depth = 0;
  while (pos < s.size()) {
    char d = s[pos];
    if (d == '"') {
      pos = ScanStringEnd(s, pos);
      if (pos == kNotFound) return kNotFound;
      continue;
    }
    if (d == '{' || d == '[') {
      ++depth;
    } else if (d == '}' || d == ']') {
      if (--depth == 0) return pos + 1;
    }
    ++pos;
  }
  return kNotFound;
}

size_t FindSpeculativeBoundary(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    const void* hit = std::memchr(s.data() + pos, '}', s.size() - pos);
    if (!hit) return kNotFound;
    size_t p = static_cast<const char*>(hit) - s.data();
    size_t q = SkipWhitespace(s, p + 1);
    if (q < s.size() && s[q] == ',') {
      q = SkipWhitespace(s, q + 1);
      if (q < s.size() && s[q] == '{') return q;
    }
    pos = p + 1;
  }
  return kNotFound;
}

}  // namespace teye::import
