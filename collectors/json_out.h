// A minimal, fast JSON text builder for the trace writer: appends into one growing buffer, no
// DOM. Strings are escaped and made valid UTF-8 (invalid bytes become U+FFFD), because one bad
// byte in a file name must not make the whole trace unreadable.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace teye::collector {

#define TEYE_INLINE inline __attribute__((always_inline))

// Writes v in decimal at p and returns the end (two digits at a time, no division by ten per
// digit: the writer formats millions of numbers per second).
TEYE_INLINE char* FormatU64(char* p, uint64_t v) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  static constexpr uint64_t kPow10[] = {1ull,
                                        10ull,
                                        100ull,
                                        1000ull,
                                        10000ull,
                                        100000ull,
                                        1000000ull,
                                        10000000ull,
                                        100000000ull,
                                        1000000000ull,
                                        10000000000ull,
                                        100000000000ull,
                                        1000000000000ull,
                                        10000000000000ull,
                                        100000000000000ull,
                                        1000000000000000ull,
                                        10000000000000000ull,
                                        100000000000000000ull,
                                        1000000000000000000ull,
                                        10000000000000000000ull};
  // digits = floor(log10(v)) + 1, from the bit length (1233/4096 ~ log10(2)).
  const int bits = 64 - __builtin_clzll(v | 1);
  int digits = (bits * 1233) >> 12;
  digits += v >= kPow10[digits];
  digits += digits == 0;  // v == 0
  char* end = p + digits;
  char* q = end;
  while (v >= 100) {
    const unsigned pair = static_cast<unsigned>(v % 100) * 2;
    v /= 100;
    *--q = kPairs[pair + 1];
    *--q = kPairs[pair];
  }
  if (v >= 10) {
    const unsigned pair = static_cast<unsigned>(v) * 2;
    *--q = kPairs[pair + 1];
    *--q = kPairs[pair];
  } else {
    *--q = static_cast<char>('0' + v);
  }
  return end;
}

// Nanoseconds as microseconds with exactly three decimals ("1700000000123456.789").
TEYE_INLINE char* FormatTimeUs(char* p, int64_t ns) {
  if (ns < 0) {
    *p++ = '-';
    ns = -ns;
  }
  const uint64_t u = static_cast<uint64_t>(ns);
  p = FormatU64(p, u / 1000);
  const uint32_t frac = static_cast<uint32_t>(u % 1000);
  p[0] = '.';
  p[1] = static_cast<char>('0' + frac / 100);
  p[2] = static_cast<char>('0' + frac / 10 % 10);
  p[3] = static_cast<char>('0' + frac % 10);
  return p + 4;
}

class JsonOut {
 public:
  JsonOut() = default;
  ~JsonOut() { std::free(data_); }
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  void clear() { size_ = 0; }
  bool ok() const { return !failed_; }

  TEYE_INLINE void Raw(const char* s, size_t n) {
    if (!Ensure(n)) return;
    std::memcpy(data_ + size_, s, n);
    size_ += n;
  }
  TEYE_INLINE void Raw(std::string_view s) { Raw(s.data(), s.size()); }
  template <size_t N>
  TEYE_INLINE void Lit(const char (&s)[N]) {
    Raw(s, N - 1);
  }
  TEYE_INLINE void Char(char c) {
    if (!Ensure(1)) return;
    data_[size_++] = c;
  }
  TEYE_INLINE void U64(uint64_t v) {
    if (!Ensure(24)) return;
    size_ = static_cast<size_t>(FormatU64(data_ + size_, v) - data_);
  }
  TEYE_INLINE void I64(int64_t v) {
    if (!Ensure(24)) return;
    char* p = data_ + size_;
    if (v < 0) {
      *p++ = '-';
      size_ = static_cast<size_t>(FormatU64(p, 0 - static_cast<uint64_t>(v)) - data_);
    } else {
      size_ = static_cast<size_t>(FormatU64(p, static_cast<uint64_t>(v)) - data_);
    }
  }
  // Finite doubles in shortest round-trip form; NaN/inf become 0.
  void Double(double v);
  // Nanoseconds as microseconds with exactly three decimals ("1700000000123456.789").
  // Timestamps since the epoch share their leading digits: the seconds are formatted once per
  // second, the rest at fixed width.
  TEYE_INLINE void TimeUs(int64_t ns) {
    if (!Ensure(32)) return;
    if (ns < 1000000000) {
      size_ = static_cast<size_t>(FormatTimeUs(data_ + size_, ns) - data_);
      return;
    }
    const uint64_t u = static_cast<uint64_t>(ns);
    const uint64_t sec = u / 1000000000;
    if (sec != cached_sec_) {
      cached_sec_ = sec;
      cached_sec_len_ =
          static_cast<uint8_t>(FormatU64(cached_sec_digits_, sec) - cached_sec_digits_);
    }
    char* p = data_ + size_;
    std::memcpy(p, cached_sec_digits_, 24);
    p += cached_sec_len_;
    uint32_t rem = static_cast<uint32_t>(u % 1000000000);
    const uint32_t frac = rem % 1000;
    rem /= 1000;  // microseconds within the second, 6 digits
    static constexpr char kPairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    const uint32_t hi = rem / 10000, mid = rem / 100 % 100, lo = rem % 100;
    p[0] = kPairs[hi * 2];
    p[1] = kPairs[hi * 2 + 1];
    p[2] = kPairs[mid * 2];
    p[3] = kPairs[mid * 2 + 1];
    p[4] = kPairs[lo * 2];
    p[5] = kPairs[lo * 2 + 1];
    p[6] = '.';
    p[7] = static_cast<char>('0' + frac / 100);
    p[8] = static_cast<char>('0' + frac / 10 % 10);
    p[9] = static_cast<char>('0' + frac % 10);
    size_ = static_cast<size_t>(p + 10 - data_);
  }
  // A quoted, escaped JSON string.
  void String(std::string_view s) {
    Char('"');
    Escaped(s);
    Char('"');
  }
  // Escaped contents without quotes.
  void Escaped(std::string_view s);

 private:
  TEYE_INLINE bool Ensure(size_t n) {
    if (size_ + n <= capacity_) [[likely]]
      return true;
    return Grow(n);
  }
  bool Grow(size_t n);

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  bool failed_ = false;
  uint64_t cached_sec_ = ~uint64_t{0};
  char cached_sec_digits_[24] = {};
  uint8_t cached_sec_len_ = 0;
};

// Escapes s into out (used to cache escaped names).
void AppendEscaped(std::string& out, std::string_view s);

}  // namespace teye::collector
