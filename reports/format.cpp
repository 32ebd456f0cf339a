#include "teye/reports/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace teye {
namespace {

void EraseAll(std::string& s, std::string_view what) {
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p))
    s.erase(p, what.size());
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string Ellipsize(std::string_view s, size_t max_chars) {
  if (Utf8Length(s) <= max_chars || max_chars == 0) return std::string(s);
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size() && chars + 1 < max_chars; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) ++chars;
    out.push_back(s[i]);
  }
  // Do not end on a partial UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
    out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
  return out + "…";
}

std::string TerminalSafe(std::string_view s, bool keep_sgr) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1B) {  // an escape sequence: dropped whole, so no half of it shows as text
      if (i + 1 < s.size() && s[i + 1] == '[') {  // CSI: parameters, intermediates, final byte
        size_t j = i + 2;
        while (j < s.size() && s[j] >= 0x30 && s[j] <= 0x3F)
          ++j;
        const size_t params_end = j;
        while (j < s.size() && s[j] >= 0x20 && s[j] <= 0x2F)
          ++j;
        const bool sgr =
            j < s.size() && s[j] == 'm' && params_end == j &&
            s.substr(i + 2, j - i - 2).find_first_not_of("0123456789;") == std::string_view::npos;
        if (sgr && keep_sgr) out.append(s.substr(i, j + 1 - i));
        i = std::min(j, s.size() - 1);
      } else if (i + 1 < s.size() && s[i + 1] == ']') {  // OSC: up to BEL or ESC backslash
        size_t j = i + 2;
        while (j < s.size() && s[j] != '\a' &&
               !(s[j] == 0x1B && j + 1 < s.size() && s[j + 1] == '\\'))
          ++j;
        i = j < s.size() && s[j] == 0x1B ? j + 1 : j;
      } else {
        ++i;  // a two-byte escape
      }
      continue;
    }
    if (c == '\t') {
      out.push_back(' ');
    } else if (c == '\n') {
      out.push_back('\n');
    } else if (c < 0x20 || c == 0x7F) {
      continue;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      ++i;  // a C1 control (U+0080–U+009F): CSI and OSC to some terminals
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string ShortKernelName(std::string_view name, size_t max_chars) {
  std::string s(name);
  if (s.starts_with("void ")) s.erase(0, 5);
  for (std::string_view noise :
       {"at::native::", "(anonymous namespace)::", "at::cuda::", "c10::", "std::", "at::detail::"})
    EraseAll(s, noise);
  // Drop the parameter list: the first '(' at template depth 0.
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++depth;
    if (s[i] == '>') --depth;
    if (s[i] == '(' && depth == 0 && i > 0) {
      s.resize(i);
      break;
    }
  }
  for (std::string_view noise :
       {"at::native::", "(anonymous namespace)::", "at::cuda::", "c10::", "std::", "at::detail::"})
    EraseAll(s, noise);
  return Ellipsize(s, max_chars);
}

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string FormatMs(double ms) {
  char buf[32];
  double a = std::fabs(ms);
  if (a >= 1000)
    std::snprintf(buf, sizeof buf, "%.0f", ms);
  else if (a >= 10)
    std::snprintf(buf, sizeof buf, "%.1f", ms);
  else if (a >= 1)
    std::snprintf(buf, sizeof buf, "%.2f", ms);
  else
    std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

std::string WithCommas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace teye
