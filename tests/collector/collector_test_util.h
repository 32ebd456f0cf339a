// Helpers for the collector's tests: temporary directories, running programs with the collector
// injected, and reading the traces it wrote (with teye's reader and as plain JSON).
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace teye::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/teye-collector-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    path_ = made ? made : "/tmp";
  }
  ~TempDir() {
    if (path_.rfind("/tmp/teye-collector-test-", 0) == 0 && !std::getenv("TEYE_KEEP_TEST_DIRS"))
      std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<std::string> ListDir(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline nlohmann::json LoadJson(const std::string& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
}

// Events of a trace (object form) whose cat equals `cat` (all when empty), optionally with ph.
inline std::vector<nlohmann::json> Events(const nlohmann::json& trace, const std::string& cat = "",
                                          const std::string& ph = "") {
  std::vector<nlohmann::json> out;
  if (!trace.is_object() || !trace.contains("traceEvents")) return out;
  for (const auto& e : trace["traceEvents"]) {
    if (!cat.empty() && e.value("cat", "") != cat) continue;
    if (!ph.empty() && e.value("ph", "") != ph) continue;
    out.push_back(e);
  }
  return out;
}

struct ProcessResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  std::string out;
  std::string err;
};

// A child process with captured stdout/stderr; with `own_group` it leads a process group of its
// own, so that a signal sent to the group (what a terminal, timeout or Slurm send) reaches it and
// its children and not the test; with `cwd` it starts in that directory.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          const std::vector<std::string>& unset_env = {}, bool own_group = false,
          const std::string& cwd = "") {
    int out_pipe[2], err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) return;
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      const std::string key = kv.substr(0, kv.find('='));
      if (env.count(key)) continue;
      bool unset = false;
      for (const auto& u : unset_env)
        unset |= u == key;
      if (!unset) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env)
      env_strings.push_back(k + "=" + v);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (own_group) ::setpgid(0, 0);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::dup2(out_pipe[1], 1);
      ::dup2(err_pipe[1], 2);
      ::close(out_pipe[0]);
      ::close(err_pipe[0]);
      std::vector<char*> args, envp;
      for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      for (auto& kv : env_strings)
        envp.push_back(kv.data());
      envp.push_back(nullptr);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    if (own_group && pid_ > 0) ::setpgid(pid_, pid_);  // before any signal to the group
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
  }
  ~Process() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      Wait(5);
    }
  }
  // Sends `sig` to the process's group (own_group) — the whole job, as a terminal's Ctrl-C does.
  void SignalGroup(int sig) const { ::kill(-pid_, sig); }

  pid_t pid() const { return pid_; }

  // Reads output until `text` appears on stdout or the timeout passes.
  bool WaitForOutput(const std::string& text, int timeout_s = 30) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (result_.out.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (!Pump(100)) return result_.out.find(text) != std::string::npos;
    }
    return true;
  }

  ProcessResult Wait(int timeout_s = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (Pump(100)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ADD_FAILURE() << "process timed out";
        break;
      }
    }
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    waited_ = true;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    out_fd_ = err_fd_ = -1;
    return result_;
  }

 private:
  // Reads what is available; false once both pipes are closed.
  bool Pump(int timeout_ms) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    ::poll(fds, 2, timeout_ms);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        (i == 0 ? out_fd_ : err_fd_) = -1;
      }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool waited_ = false;
  ProcessResult result_;
};

inline ProcessResult RunProgram(const std::vector<std::string>& argv,
                                const std::map<std::string, std::string>& env = {},
                                const std::vector<std::string>& unset_env = {},
                                int timeout_s = 120) {
  Process p(argv, env, unset_env);
  return p.Wait(timeout_s);
}

// Environment that injects the collector into a program, writing into `dir`.
inline std::map<std::string, std::string> CollectorEnv(const std::string& dir) {
  return {{"LD_PRELOAD", TEYE_COLLECTOR_LIB},
          {"TEYE_OUTPUT_DIR", dir},
          {"TEYE_FLUSH_MS", "100"},
          {"TEYE_SAMPLE_MS", "50"}};
}

// The variables a test must not inherit from whoever runs it.
inline std::vector<std::string> CollectorUnset() {
  return {"CUDA_INJECTION64_PATH",
          "NVTX_INJECTION64_PATH",
          "NCCL_PROFILER_PLUGIN",
          "TEYE_NVTX_CHAIN",
          "TEYE_COLLECTOR_PRIMARY",
          "PYTHONPATH",
          "TEYE_ENABLE",
          "TEYE_IO",
          "TEYE_CUPTI",
          "RANK",
          "LOCAL_RANK",
          "WORLD_SIZE"};
}

}  // namespace teye::test
