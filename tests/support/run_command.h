// Runs a command line through the shell and captures its exit code, stdout and stderr.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace teye::test {

struct CommandResult {
  int exit_code = -1;
  bool crashed = false;  // killed by a signal
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline CommandResult RunCommand(const std::string& command) {
  static int counter = 0;
  const std::string base =
      "/tmp/teye_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string full = command + " >" + base + ".out 2>" + base + ".err";
  int status = std::system(full.c_str());
  CommandResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    // The shell reports a child killed by signal N as 128+N.
    r.crashed = r.exit_code > 128;
  } else {
    r.crashed = true;
  }
  r.out = Slurp(base + ".out");
  r.err = Slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

inline std::string Teye() {
  return std::string(TEYE_BINARY);
}

}  // namespace teye::test
