#include "number_parse.h"

#include <gtest/gtest.h>

namespace teye::import {
namespace {

void ExpectTime(std::string_view token, int64_t whole, int32_t milli) {
  auto t = ParseFileTime(token);
  ASSERT_TRUE(t.has_value()) << token;
  EXPECT_EQ(t->whole, whole) << token;
  EXPECT_EQ(t->milli, milli) << token;
}

TEST(ParseFileTime, IntegersAndFractions) {
  ExpectTime("0", 0, 0);
  ExpectTime("1712195495519689", 1712195495519689, 0);
  ExpectTime("1712195495519689.0", 1712195495519689, 0);
  ExpectTime("1712195495519695.8", 1712195495519695, 800);
  ExpectTime("63.813", 63, 813);
  ExpectTime("0.0005", 0, 1);       // rounds half up on the 4th digit
  ExpectTime("0.9996", 1, 0);       // carries into the whole part
  ExpectTime("\"2560\"", 2560, 0);  // numbers written as strings
}

TEST(ParseFileTime, NegativeValuesUseFloor) {
  ExpectTime("-1", -1, 0);
  ExpectTime("-1.25", -2, 750);
}

TEST(ParseFileTime, ExponentsAndHugeValues) {
  ExpectTime("1.5e3", 1500, 0);
  ExpectTime("1700000000000000000", 1700000000000000000, 0);
  ExpectTime("1.7e18", 1700000000000000000, 0);
}

TEST(ParseFileTime, RejectsNonNumbers) {
  EXPECT_FALSE(ParseFileTime("").has_value());
  EXPECT_FALSE(ParseFileTime("abc").has_value());
  EXPECT_FALSE(ParseFileTime("1.2.3").has_value());
  EXPECT_FALSE(ParseFileTime("-").has_value());
  EXPECT_FALSE(ParseFileTime("1e999").has_value());
  EXPECT_FALSE(ParseFileTime("NaN").has_value());
}

TEST(ParseInteger, DecimalHexAndFloats) {
  EXPECT_EQ(ParseInteger("42"), 42);
  EXPECT_EQ(ParseInteger("-1"), -1);
  EXPECT_EQ(ParseInteger("7.0"), 7);
  EXPECT_EQ(ParseInteger("0x1f", /*from_string=*/true), 31);
  EXPECT_FALSE(ParseInteger("18446744073709551615").has_value());  // beyond int64
  EXPECT_FALSE(ParseInteger("1.5").has_value());
  EXPECT_FALSE(ParseInteger("x").has_value());
}

}  // namespace
}  // namespace teye::import
