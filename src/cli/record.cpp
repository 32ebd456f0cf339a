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

struct TraceFile {
  std::string name;
  long long bytes;
  bool partial;
};

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
    files.push_back({name, static_cast<long long>(st.st_size), partial});
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
  for (size_t i = 1; i <= out_dir.size(); ++i) {
    if (i == out_dir.size() || out_dir[i] == '/') {
      partial = out_dir.substr(0, i);
      ::mkdir(partial.c_str(), 0755);
    }
  }
  if (!IsDir(out_dir)) {
    std::fprintf(stderr, "teye record: cannot create the output directory %s: %s\n",
                 out_dir.c_str(), std::strerror(errno));
    return kExitBadInput;
  }
  const std::time_t started = std::time(nullptr);
  std::fflush(nullptr);
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

  const std::vector<TraceFile> traces = ListTraces(out_dir, started);
  size_t whole = 0;
  for (const TraceFile& t : traces)
    whole += !t.partial;
  std::fprintf(stderr, "teye: %zu trace%s in %s\n", whole, whole == 1 ? "" : "s", out_dir.c_str());
  for (const TraceFile& t : traces) {
    std::fprintf(stderr, "  %s  (%.1f MB)%s\n", t.name.c_str(), static_cast<double>(t.bytes) / 1e6,
                 t.partial ? "  partial: the process ended before writing it out" : "");
  }
  if (WIFSIGNALED(status))
    std::fprintf(stderr, "teye: the command was killed by signal %d\n", WTERMSIG(status));
  if (whole > 0) {
    for (const TraceFile& t : traces) {
      if (!t.partial) {
        std::fprintf(stderr, "teye: next: teye analyze %s/%s\n", out_dir.c_str(), t.name.c_str());
        break;
      }
    }
  }
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
  cmd->add_option("--duration", options->duration_s, "Stop recording after S seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--delay", options->delay_s, "Start recording after S seconds")
      ->check(CLI::NonNegativeNumber);
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
