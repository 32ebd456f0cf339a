#include "teye/model/string_pool.h"

#include <string>

#include <gtest/gtest.h>

namespace teye {
namespace {

TEST(StringPool, EmptyStringIsIdZero) {
  StringPool pool;
  EXPECT_EQ(pool.Intern(""), kEmptyString);
  EXPECT_EQ(pool.Get(kEmptyString), "");
}

TEST(StringPool, InternsOnce) {
  StringPool pool;
  StringId a = pool.Intern("cudaLaunchKernel");
  StringId b = pool.Intern(std::string("cudaLaunch") + "Kernel");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, pool.Intern("cudaMemcpyAsync"));
  EXPECT_EQ(pool.Get(a), "cudaLaunchKernel");
  EXPECT_EQ(pool.Find("cudaMemcpyAsync"), pool.Intern("cudaMemcpyAsync"));
  EXPECT_EQ(pool.Find("never"), kEmptyString);
}

TEST(StringPool, ViewsStayValidAcrossGrowthAndHugeStrings) {
  StringPool pool;
  StringId first = pool.Intern("first");
  std::string_view view = pool.Get(first);
  std::string huge(3 << 20, 'x');  // larger than a block
  StringId big = pool.Intern(huge);
  for (int i = 0; i < 100000; ++i)
    pool.Intern("name" + std::to_string(i));
  EXPECT_EQ(view, "first");
  EXPECT_EQ(pool.Get(big).size(), huge.size());
  EXPECT_EQ(pool.Intern(huge), big);
}

}  // namespace
}  // namespace teye
