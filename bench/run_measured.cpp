// teye_run_measured RESULT STDOUT STDERR -- PROGRAM ARGS...
// Runs PROGRAM as its child with stdout and stderr sent to the files given, waits for it and
// writes "<wall s> <CPU s> <peak RSS KiB> <exit status>" to RESULT: what a user meets when
// running PROGRAM (what GNU time reports, without depending on it).
//
// A separate small program because Linux counts a process's peak RSS from before its exec: the
// kernel keeps the larger of the high-water marks of the memory it had before exec and after, and
// a child spawned straight from the benchmark (vfork, or fork of a process holding a 1 GB tile)
// starts out as big as the benchmark. This program is a few MB when it forks, so its child's peak
// RSS is the child's own.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: teye_run_measured RESULT STDOUT STDERR -- PROGRAM ARGS...\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("teye_run_measured: fork");
    return 2;
  }
  if (pid == 0) {
    const int out = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) _exit(127);
    ::execvp(argv[5], argv + 5);
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) < 0) {
    std::perror("teye_run_measured: wait4");
    return 2;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  const int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* result = std::fopen(argv[1], "w");
  if (!result) {
    std::perror("teye_run_measured: result file");
    return 2;
  }
  std::fprintf(result, "%.6f %.6f %ld %d\n", wall, cpu, usage.ru_maxrss, exit_status);
  return std::fclose(result) == 0 ? 0 : 2;
}
