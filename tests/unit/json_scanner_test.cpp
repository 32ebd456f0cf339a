#include "json_scanner.h"

#include <string>

#include <gtest/gtest.h>

namespace teye::import {
namespace {

TEST(JsonScanner, ValueEnds) {
  std::string s = R"({"a": "x}\"y", "b": [1, {"c": 2}]} tail)";
  EXPECT_EQ(ScanValueEnd(s, 0), s.find(" tail"));
  EXPECT_EQ(ScanStringEnd(R"("ab\\")", 0), 6u);
  EXPECT_EQ(ScanValueEnd("123, 4", 0), 3u);
  EXPECT_EQ(ScanValueEnd(R"({"unterminated": ")", 0), kNotFound);
  EXPECT_EQ(ScanValueEnd("[[[", 0), kNotFound);
}

TEST(JsonScanner, DeepNestingDoesNotRecurse) {
  std::string s(200000, '[');
  s += std::string(200000, ']');
  EXPECT_EQ(ScanValueEnd(s, 0), s.size());
}

TEST(JsonScanner, SpeculativeBoundaries) {
  std::string s = R"({"a":1},{"b":"},{"}, {"c":3})";
  size_t first = FindSpeculativeBoundary(s, 1);
  EXPECT_EQ(s[first], '{');
  EXPECT_EQ(first, s.find(R"({"b")"));
  // The next candidate lies inside the string "},{" — speculative, and that is allowed.
  size_t second = FindSpeculativeBoundary(s, first + 1);
  EXPECT_LT(second, s.find(R"({"c")"));
}

}  // namespace
}  // namespace teye::import
