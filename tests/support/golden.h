// Golden files: expected outputs kept in tests/golden/, compared byte for byte. They are
// regenerated only when TEYE_UPDATE_GOLDEN=1 (`make golden-update`) and reviewed as a diff.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace teye::test {

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(TEYE_GOLDEN_DIR) + "/" + name;
  const char* update = std::getenv("TEYE_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream probe(path);
  ASSERT_TRUE(probe.good()) << "missing golden file " << path
                            << " — create it with `make golden-update` and review it";
  const std::string expected = ReadFileText(path);
  if (expected == actual) return;
  // Point at the first difference and keep the actual output for `diff`.
  std::istringstream e(expected), a(actual);
  std::string el, al;
  int line = 0;
  while (true) {
    ++line;
    bool he = static_cast<bool>(std::getline(e, el));
    bool ha = static_cast<bool>(std::getline(a, al));
    if (!he && !ha) break;
    if (el != al || he != ha) break;
  }
  const std::string out = ::testing::TempDir() + name + ".actual";
  std::ofstream(out, std::ios::binary) << actual;
  ADD_FAILURE() << "output differs from " << path << " at line " << line << ":\n  expected: " << el
                << "\n  actual:   " << al << "\nfull output: " << out
                << "\n(if the change is intended: make golden-update, then review the diff)";
}

}  // namespace teye::test
