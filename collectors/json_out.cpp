#include "json_out.h"

#include <charconv>
#include <cmath>

namespace teye::collector {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t ValidUtf8Length(const unsigned char* s, size_t i, size_t n) {
  const unsigned char c = s[i];
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && s[i + 1] < 0xA0) return 0;   // overlong
    if (c == 0xED && s[i + 1] >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && s[i + 1] < 0x90) return 0;
    if (c == 0xF4 && s[i + 1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

template <typename Sink>
void EscapeInto(std::string_view text, Sink&& sink) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = ValidUtf8Length(s, i, n);
      if (len) {
        i += len;
        continue;
      }
    }
    sink(text.data() + run, i - run);
    char esc[8];
    size_t esc_len = 2;
    esc[0] = '\\';
    switch (c) {
      case '"':
        esc[1] = '"';
        break;
      case '\\':
        esc[1] = '\\';
        break;
      case '\n':
        esc[1] = 'n';
        break;
      case '\r':
        esc[1] = 'r';
        break;
      case '\t':
        esc[1] = 't';
        break;
      case '\b':
        esc[1] = 'b';
        break;
      case '\f':
        esc[1] = 'f';
        break;
      default:
        if (c < 0x20) {
          std::memcpy(esc, "\\u00", 4);
          esc[4] = kHex[c >> 4];
          esc[5] = kHex[c & 15];
          esc_len = 6;
        } else {  // an invalid UTF-8 byte
          std::memcpy(esc, "\\ufffd", 6);
          esc_len = 6;
        }
    }
    sink(esc, esc_len);
    ++i;
    run = i;
  }
  sink(text.data() + run, n - run);
}

}  // namespace

bool JsonOut::Grow(size_t n) {
  if (failed_) return false;
  size_t cap = capacity_ ? capacity_ : 1 << 16;
  while (cap < size_ + n)
    cap *= 2;
  char* p = static_cast<char*>(std::realloc(data_, cap));
  if (!p) {
    failed_ = true;
    return false;
  }
  data_ = p;
  capacity_ = cap;
  return true;
}

void JsonOut::Double(double v) {
  if (!std::isfinite(v)) v = 0;
  if (!Ensure(32)) return;
  size_ = static_cast<size_t>(std::to_chars(data_ + size_, data_ + size_ + 32, v).ptr - data_);
}

void JsonOut::Escaped(std::string_view s) {
  EscapeInto(s, [this](const char* p, size_t n) {
    if (n) Raw(p, n);
  });
}

void AppendEscaped(std::string& out, std::string_view s) {
  EscapeInto(s, [&out](const char* p, size_t n) { out.append(p, n); });
}

}  // namespace teye::collector
