// teye record [-o DIR] [--no-io] [--duration S] -- CMD... — run a command with the collector
// injected into it and every process it starts, then say where the traces went.
//
// Wiring only: the collector (libteye_collector.so) does the recording; this verb finds it, sets
// the environment that loads it (LD_PRELOAD, CUDA/NVTX injection, NCCL profiler plugin, the
// Python shim on PYTHONPATH, TEYE_* settings) and passes the command's exit code through.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <signal.h>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <climits>

#include "verbs.h"

#ifndef TEYE_COLLECTOR_BUILD_PATH
#define TEYE_COLLECTOR_BUILD_PATH ""
#endif
#ifndef TEYE_COLLECTOR_INSTALL_PATH
#define TEYE_COLLECTOR_INSTALL_PATH ""
#endif

namespace teye::cli {
namespace {

struct RecordOptions {
  std::string output;
  std::string collector;
  bool no_io = false;
  bool no_cupti = false;
  bool no_python = false;
  bool no_nccl = false;
  double duration_s = 0;
  double delay_s = 0;
  int sample_ms = -1;
  std::vector<std::string> command;
};

bool IsFile(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool IsDir(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

std::string ExecutableDir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return Dirname(buf);
}

// The collector library: --collector, $TEYE_COLLECTOR_LIB, next to the teye executable, the
// install location, the build tree it was built in.
std::string FindCollector(const std::string& flag) {
  std::vector<std::string> candidates;
  if (!flag.empty()) return IsFile(flag) ? Absolute(flag) : std::string();
  if (const char* env = std::getenv("TEYE_COLLECTOR_LIB"); env && *env) candidates.push_back(env);
  const std::string exe_dir = ExecutableDir();
  candidates.push_back(exe_dir + "/libteye_collector.so");
  candidates.push_back(exe_dir + "/../lib/teye/libteye_collector.so");
  candidates.push_back(TEYE_COLLECTOR_INSTALL_PATH);
  candidates.push_back(TEYE_COLLECTOR_BUILD_PATH);
  for (const std::string& c : candidates)
    if (IsFile(c)) return Absolute(c);
  return {};
}

std::string DefaultOutputDir() {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return std::string("teye-") + stamp;
}

void Prepend(const char* name, const std::string& value, char sep = ':') {
  const char* old = std::getenv(name);
  std::string v = value;
  if (old && *old) v += sep + std::string(old);
  ::setenv(name, v.c_str(), 1);
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

void SetUpEnvironment(const RecordOptions& o, const std::string& lib, const std::string& out_dir) {
  Prepend("LD_PRELOAD", lib);
  ::setenv("TEYE_COLLECTOR_LIB", lib.c_str(), 1);
  ::setenv("TEYE_OUTPUT_DIR", out_dir.c_str(), 1);
  ::setenv("TEYE_ANNOUNCE", "0", 1);  // this verb says where the traces went
  if (const char* cuda = std::getenv("CUDA_INJECTION64_PATH"); cuda && *cuda && lib != cuda) {
    std::fprintf(stderr,
                 "teye: CUDA_INJECTION64_PATH is set to %s (another tool): GPU activity is "
                 "recorded only for programs linked with CUDA\n",
                 cuda);
  } else {
    ::setenv("CUDA_INJECTION64_PATH", lib.c_str(), 1);
  }
  if (const char* nvtx = std::getenv("NVTX_INJECTION64_PATH"); nvtx && *nvtx && lib != nvtx)
    ::setenv("TEYE_NVTX_CHAIN", nvtx, 1);  // the collector forwards NVTX to that tool
  ::setenv("NVTX_INJECTION64_PATH", lib.c_str(), 1);
  if (o.no_nccl)
    ::setenv("TEYE_NCCL_PLUGIN", "0", 1);
  else if (!std::getenv("NCCL_PROFILER_PLUGIN"))
    ::setenv("NCCL_PROFILER_PLUGIN", lib.c_str(), 1);
  if (o.no_io) ::setenv("TEYE_IO", "0", 1);
  if (o.no_cupti) ::setenv("TEYE_CUPTI", "0", 1);
  if (o.duration_s > 0) ::setenv("TEYE_DURATION_S", Seconds(o.duration_s).c_str(), 1);
  if (o.delay_s > 0) ::setenv("TEYE_START_DELAY_S", Seconds(o.delay_s).c_str(), 1);
  if (o.sample_ms >= 0) ::setenv("TEYE_SAMPLE_MS", std::to_string(o.sample_ms).c_str(), 1);
  if (!o.no_python) {
    const std::string lib_dir = Dirname(lib);
    for (const std::string& shim : {lib_dir + "/teye-python", lib_dir + "/../share/teye/python"}) {
      if (IsFile(shim + "/sitecustomize.py")) {
        Prepend("PYTHONPATH", shim);
        break;
      }
    }
  }
}

// How long `teye record` waits, after the command ended, for processes it started that are still
// running (spawned DataLoader workers, multiprocessing's resource tracker, daemons).
constexpr int kDescendantWaitS = 10;

struct TraceFile {
  std::string name;
  long long bytes;
  bool partial;
  bool running;  // partial, and its process is still alive: being written
};

// The pid in "[rank<R>.]<host>.<pid>[.<n>].pt.trace.json[.partial]", or 0.
int PidOfTraceName(std::string name) {
  if (name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0)
    name.resize(name.size() - 8);
  const std::string suffix = ".pt.trace.json";
  if (name.size() <= suffix.size()) return 0;
  name.resize(name.size() - suffix.size());
  // The pid is the last dotted field, or the one before a numbered name's ".<n>".
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    fields.push_back(name.substr(start, dot - start));
  fields.push_back(name.substr(start));
  auto number = [](const std::string& f) {
    return !f.empty() && f.size() < 10 &&
           std::all_of(f.begin(), f.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (fields.size() < 2 || !number(fields.back())) return 0;
  // host.pid.n: two numbers at the end, and the host before them.
  if (fields.size() >= 3 && number(fields[fields.size() - 2]))
    return std::atoi(fields[fields.size() - 2].c_str());
  return std::atoi(fields.back().c_str());
}

bool Alive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// "12.3 MB", "45 kB", "310 bytes": a size that is never shown as 0.0.
std::string FormatSize(long long bytes) {
  char buf[32];
  if (bytes >= 100'000)
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.0f kB", static_cast<double>(bytes) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld bytes", bytes);
  return buf;
}

// Reaps what the command left behind (teye record is their subreaper), for up to `seconds`.
// Returns how many were still running at the end.
int WaitForDescendants(int seconds) {
  const std::time_t deadline = std::time(nullptr) + seconds;
  bool said = false;
  for (int round = 0;; ++round) {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) return 0;
    if (std::time(nullptr) >= deadline) break;
    if (round == 10 && !said) {  // after a second
      std::fprintf(stderr, "teye: waiting up to %d s for processes the command started to finish\n",
                   seconds);
      said = true;
    }
    ::usleep(100'000);
  }
  int left = 0;
  if (DIR* d = ::opendir("/proc")) {
    const int self = static_cast<int>(::getpid());
    while (dirent* e = ::readdir(d)) {
      const int pid = std::atoi(e->d_name);
      if (pid <= 0) continue;
      std::string stat;
      if (FILE* f = std::fopen(("/proc/" + std::string(e->d_name) + "/stat").c_str(), "r")) {
        char buf[512];
        const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        stat.assign(buf, n);
      }
      const size_t paren = stat.rfind(')');
      if (paren == std::string::npos) continue;
      int ppid = 0;
      char state = 0;
      if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 && ppid == self &&
          state != 'Z')
        ++left;
    }
    ::closedir(d);
  }
  return left;
}

std::vector<TraceFile> ListTraces(const std::string& dir, std::time_t since) {
  std::vector<TraceFile> files;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return files;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    const bool whole =
        name.size() > 14 && name.compare(name.size() - 14, 14, ".pt.trace.json") == 0;
    const bool partial = name.size() > 8 && name.compare(name.size() - 8, 8, ".partial") == 0;
    if (!whole && !partial) continue;
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || st.st_mtime + 1 < since) continue;
    files.push_back({name, static_cast<long long>(st.st_size), partial,
                     partial && Alive(PidOfTraceName(name))});
  }
  ::closedir(d);
  std::sort(files.begin(), files.end(),
            [](const TraceFile& a, const TraceFile& b) { return a.name < b.name; });
  return files;
}

pid_t g_child = -1;

void ForwardSignal(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

int RunRecord(const RecordOptions& o) {
  if (o.command.empty()) {
    std::fprintf(stderr, "teye record: give the command to run after '--'\n");
    return kExitBadInput;
  }
  const std::string lib = FindCollector(o.collector);
  if (lib.empty()) {
    std::fprintf(stderr,
                 "teye record: libteye_collector.so not found (looked next to teye, in "
                 "../lib/teye and $TEYE_COLLECTOR_LIB); build it or pass --collector PATH\n");
    return kExitBadInput;
  }
  const std::string out_dir = Absolute(o.output.empty() ? DefaultOutputDir() : o.output);
  std::string partial;
  int mkdir_error = 0;
  for (size_t i = 1; i <= out_dir.size(); ++i) {
    if (i == out_dir.size() || out_dir[i] == '/') {
      partial = out_dir.substr(0, i);
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) mkdir_error = errno;
    }
  }
  if (!IsDir(out_dir)) {
    std::fprintf(stderr, "teye record: cannot create the output directory %s: %s\n",
                 out_dir.c_str(), std::strerror(mkdir_error ? mkdir_error : ENOTDIR));
    return kExitBadInput;
  }
  const std::time_t started = std::time(nullptr);
  std::fflush(nullptr);
  // Processes the command leaves behind become ours, so that we can wait for their traces.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  const pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "teye record: fork failed: %s\n", std::strerror(errno));
    return kExitBadInput;
  }
  if (child == 0) {
    SetUpEnvironment(o, lib, out_dir);
    std::vector<char*> argv;
    for (const std::string& a : o.command)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "teye record: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  // The terminal sends Ctrl-C to the whole process group; the job decides what it means. Signals
  // sent to teye alone (a scheduler's SIGTERM) are passed on.
  g_child = child;
  struct sigaction ignore {
  }, forward{};
  ignore.sa_handler = SIG_IGN;
  forward.sa_handler = ForwardSignal;
  ::sigaction(SIGINT, &ignore, nullptr);
  ::sigaction(SIGQUIT, &ignore, nullptr);
  ::sigaction(SIGTERM, &forward, nullptr);
  ::sigaction(SIGHUP, &forward, nullptr);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : 1;

  const int still_running = WaitForDescendants(kDescendantWaitS);

  const std::vector<TraceFile> traces = ListTraces(out_dir, started);
  size_t whole = 0, partial_files = 0, running = 0;
  for (const TraceFile& t : traces) {
    whole += !t.partial;
    partial_files += t.partial && !t.running;
    running += t.running;
  }
  std::string counts;
  if (partial_files || running) {
    counts = " (" + std::to_string(whole) + " whole";
    if (partial_files) counts += ", " + std::to_string(partial_files) + " partial";
    if (running) counts += ", " + std::to_string(running) + " still being written";
    counts += ")";
  }
  std::fprintf(stderr, "teye: %zu trace%s in %s%s\n", traces.size(), traces.size() == 1 ? "" : "s",
               out_dir.c_str(), counts.c_str());
  for (const TraceFile& t : traces) {
    const char* note = t.running   ? "  still being written: its process is running"
                       : t.partial ? "  partial: the process ended before writing it out"
                                   : "";
    std::fprintf(stderr, "  %s  (%s)%s\n", t.name.c_str(), FormatSize(t.bytes).c_str(), note);
  }
  if (still_running > 0)
    std::fprintf(stderr,
                 "teye: %d process%s the command started %s still running after %d s; %s not "
                 "waited for\n",
                 still_running, still_running == 1 ? "" : "es", still_running == 1 ? "is" : "are",
                 kDescendantWaitS, still_running == 1 ? "it was" : "they were");
  if (WIFSIGNALED(status))
    std::fprintf(stderr, "teye: the command was killed by signal %d\n", WTERMSIG(status));
  // The folder: teye analyze folds each rank's worker processes into it (job_layout.h).
  if (whole > 0) std::fprintf(stderr, "teye: next: teye analyze %s\n", out_dir.c_str());
  return code;
}

}  // namespace

VerbRegistration SetupRecord(CLI::App& app) {
  auto options = std::make_shared<RecordOptions>();
  CLI::App* cmd = app.add_subcommand(
      "record", "Run a command with teye's collector injected; one trace per process");
  cmd->add_option("-o,--output", options->output,
                  "Directory for the traces (default: ./teye-<date>-<time>)");
  cmd->add_flag("--no-io", options->no_io, "Do not record file and socket reads");
  cmd->add_flag("--no-cupti", options->no_cupti, "Do not record GPU activity");
  cmd->add_flag("--no-python-shim", options->no_python,
                "Do not mark DataLoader and optimizer steps in Python jobs");
  cmd->add_flag("--no-nccl-plugin", options->no_nccl, "Do not load teye as NCCL's profiler plugin");
  const CLI::Validator seconds(
      [](const std::string& text) -> std::string {
        try {
          size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && v >= 0 && v < 1e9) return {};
        } catch (...) {
        }
        return "expected a number of seconds >= 0, got '" + text + "'";
      },
      "SECONDS>=0");
  cmd->add_option("--duration", options->duration_s, "Stop recording after S seconds")
      ->check(seconds);
  cmd->add_option("--delay", options->delay_s, "Start recording after S seconds")->check(seconds);
  cmd->add_option("--sample-ms", options->sample_ms,
                  "Resource sampling period in ms (0: no CPU/GPU samples)")
      ->check(CLI::Range(0, 3600000));
  cmd->add_option("--collector", options->collector, "Path to libteye_collector.so");
  cmd->add_option("command", options->command, "The command to run (after --)")->required();
  cmd->positionals_at_end();
  cmd->footer("Example: teye record -o run1 -- python train.py --epochs 1");
  return {cmd, [options] { return RunRecord(*options); }};
}

}  // namespace teye::cli
