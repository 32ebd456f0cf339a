#include "output.h"

#include <cstdio>
#include <fstream>

#include "verbs.h"

namespace teye::cli {

int WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    std::fprintf(stderr, "teye: %s: cannot write the output\n", path.c_str());
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace teye::cli
