#include "number_parse.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include <climits>

namespace teye::import {
namespace {

std::string_view StripQuotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::optional<FileTime> FromDouble(std::string_view token) {
  std::string copy(token);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v) || std::fabs(v) > 9.2e18)
    return std::nullopt;
  double whole = std::floor(v);
  auto milli = static_cast<int32_t>(std::llround((v - whole) * 1000.0));
  auto w = static_cast<int64_t>(whole);
  if (milli >= 1000) {
    milli -= 1000;
    ++w;
  }
  return FileTime{w, milli};
}

}  // namespace

std::optional<FileTime> ParseFileTime(std::string_view token) {
  token = StripQuotes(token);
  if (token.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (token[0] == '-') {
    negative = true;
    ++i;
  }
  const size_t digits_begin = i;
  uint64_t whole = 0;
  // The first 18 digits cannot overflow int64 (every timestamp in µs or ns of this century).
  for (const size_t unchecked = std::min(token.size(), i + 18);
       i < unchecked && token[i] >= '0' && token[i] <= '9'; ++i)
    whole = whole * 10 + static_cast<uint64_t>(token[i] - '0');
  for (; i < token.size() && token[i] >= '0' && token[i] <= '9'; ++i) {
    // Beyond int64: a double is the best that can be done.
    if (__builtin_mul_overflow(whole, uint64_t{10}, &whole) ||
        __builtin_add_overflow(whole, static_cast<uint64_t>(token[i] - '0'), &whole) ||
        whole > static_cast<uint64_t>(INT64_MAX))
      return FromDouble(token);
  }
  if (i == digits_begin) return std::nullopt;
  // Fraction: keep three digits, round on the fourth.
  int64_t milli = 0;
  if (i < token.size() && token[i] == '.') {
    ++i;
    const size_t frac_begin = i;
    int taken = 0;
    bool round_up = false;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') {
      if (taken < 3) {
        milli = milli * 10 + (token[i] - '0');
        ++taken;
      } else if (taken == 3) {
        round_up = token[i] >= '5';
        ++taken;
      }
      ++i;
    }
    if (i == frac_begin) return std::nullopt;
    while (taken < 3) {
      milli *= 10;
      ++taken;
    }
    if (round_up) ++milli;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) return FromDouble(token);
  if (i != token.size()) return std::nullopt;

  auto w = static_cast<int64_t>(whole);
  if (milli >= 1000) {
    milli -= 1000;
    ++w;
  }
  if (negative) {
    // floor semantics: -1.25 → whole -2, milli 750
    w = -w;
    if (milli > 0) {
      w -= 1;
      milli = 1000 - milli;
    }
  }
  return FileTime{w, static_cast<int32_t>(milli)};
}

std::optional<int64_t> ParseInteger(std::string_view token, bool from_string) {
  if (token.empty()) return std::nullopt;
  {
    // The common case first: an optional '-' and up to 18 digits, which cannot overflow.
    const bool negative = token[0] == '-';
    const size_t begin = negative ? 1 : 0;
    if (token.size() > begin && token.size() - begin <= 18) {
      int64_t v = 0;
      size_t i = begin;
      for (; i < token.size() && token[i] >= '0' && token[i] <= '9'; ++i)
        v = v * 10 + (token[i] - '0');
      if (i == token.size()) return negative ? -v : v;
    }
  }
  int64_t value = 0;
  if (from_string && token.size() > 2 && token[0] == '0' && (token[1] == 'x' || token[1] == 'X')) {
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(token.data() + 2, token.data() + token.size(), u, 16);
    if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
    return static_cast<int64_t>(u);  // handles and pointers: keep the bits
  }
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec == std::errc() && p == token.data() + token.size()) return value;
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  // "1.0", "1e3": integral values written as floats.
  auto t = ParseFileTime(token);
  if (t && t->milli == 0) return t->whole;
  return std::nullopt;
}

}  // namespace teye::import
