#include "output.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/ioctl.h>
#include <unistd.h>

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

int TextColumns(bool to_tty) {
  constexpr int kDefault = 100, kNarrowest = 60, kWidest = 1000;
  int columns = 0;
  winsize size{};
  if (to_tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) columns = size.ws_col;
  if (columns <= 0)
    if (const char* env = std::getenv("COLUMNS")) columns = std::atoi(env);
  if (columns <= 0) columns = kDefault;
  return std::clamp(columns, kNarrowest, kWidest);
}

}  // namespace teye::cli
