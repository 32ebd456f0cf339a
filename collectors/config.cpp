#include "config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace teye::collector {
namespace {

bool ParseBool(const char* v, bool& out) {
  if (!std::strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
      !strcasecmp(v, "on")) {
    out = true;
    return true;
  }
  if (!std::strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
      !strcasecmp(v, "off")) {
    out = false;
    return true;
  }
  return false;
}

bool ParseUint(const char* v, uint64_t max, uint64_t& out) {
  if (!*v) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 10);
  if (errno || *end || v[0] == '-' || x > max) return false;
  out = x;
  return true;
}

bool ParseSeconds(const char* v, double& out) {
  if (!*v) return false;
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v, &end);
  if (errno || *end || !(x >= 0) || x > 1e9) return false;
  out = x;
  return true;
}

int ParseInt(const char* v) {
  if (!v || !*v) return -1;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end || x < 0 || x > (1 << 30)) return -1;
  return static_cast<int>(x);
}

}  // namespace

Config LoadConfig(const GetEnvFn& get_env) {
  Config c;
  auto bad = [&](const char* name, const char* value, const char* expected) {
    c.warnings.push_back(std::string("ignored ") + name + "='" + value + "' (expected " + expected +
                         ")");
  };
  auto flag = [&](const char* name, bool& field) {
    const char* v = get_env(name);
    if (v && *v && !ParseBool(v, field)) bad(name, v, "0 or 1");
  };
  auto number = [&](const char* name, uint64_t lo, uint64_t hi, auto& field) {
    const char* v = get_env(name);
    if (!v || !*v) return;
    uint64_t x;
    if (ParseUint(v, hi, x) && x >= lo)
      field = static_cast<std::remove_reference_t<decltype(field)>>(x);
    else
      bad(name, v,
          ("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]").c_str());
  };
  auto seconds = [&](const char* name, double& field) {
    const char* v = get_env(name);
    if (v && *v && !ParseSeconds(v, field)) bad(name, v, "seconds >= 0");
  };

  flag("TEYE_ENABLE", c.enabled);
  if (const char* v = get_env("TEYE_OUTPUT_DIR"); v && *v) c.output_dir = v;
  if (const char* v = get_env("TEYE_TRACE_NAME"); v && *v) c.trace_name = v;
  flag("TEYE_IO", c.io);
  uint64_t io_min_us = 0;
  number("TEYE_IO_MIN_US", 0, 60'000'000, io_min_us);
  c.io_min_ns = static_cast<int64_t>(io_min_us) * 1000;
  flag("TEYE_NVTX", c.nvtx);
  if (const char* v = get_env("TEYE_NVTX_CHAIN"); v && *v) c.nvtx_chain = v;

  if (const char* v = get_env("TEYE_CUPTI"); v && *v) {
    bool b;
    if (!strcasecmp(v, "auto"))
      c.cupti = CuptiMode::kAuto;
    else if (!strcasecmp(v, "eager"))
      c.cupti = CuptiMode::kEager;
    else if (ParseBool(v, b))
      c.cupti = b ? CuptiMode::kAuto : CuptiMode::kOff;
    else
      bad("TEYE_CUPTI", v, "auto, eager or 0");
  }
  if (const char* v = get_env("TEYE_CUPTI_RUNTIME"); v && *v) {
    bool b;
    if (!strcasecmp(v, "all"))
      c.cupti_runtime = RuntimeApiMode::kAll;
    else if (!strcasecmp(v, "filtered"))
      c.cupti_runtime = RuntimeApiMode::kFiltered;
    else if (ParseBool(v, b))
      c.cupti_runtime = b ? RuntimeApiMode::kFiltered : RuntimeApiMode::kOff;
    else
      bad("TEYE_CUPTI_RUNTIME", v, "filtered, all or 0");
  }
  if (const char* v = get_env("TEYE_CUPTI_DRIVER"); v && *v) {
    bool b;
    if (!strcasecmp(v, "all"))
      c.cupti_driver = DriverApiMode::kAll;
    else if (!strcasecmp(v, "launch"))
      c.cupti_driver = DriverApiMode::kLaunch;
    else if (ParseBool(v, b))
      c.cupti_driver = b ? DriverApiMode::kLaunch : DriverApiMode::kOff;
    else
      bad("TEYE_CUPTI_DRIVER", v, "launch, all or 0");
  }
  flag("TEYE_CUPTI_GRAPH_TRACE", c.cupti_graph_trace);
  number("TEYE_CUPTI_BUFFER_KB", 64, 262144, c.cupti_buffer_kb);
  number("TEYE_CUPTI_MAX_BUFFERS", 2, 4096, c.cupti_max_buffers);
  flag("TEYE_NCCL_PLUGIN", c.nccl_plugin);
  number("TEYE_SAMPLE_MS", 0, 3'600'000, c.sample_ms);
  if (c.sample_ms > 0 && c.sample_ms < 10) c.sample_ms = 10;
  flag("TEYE_NVML", c.nvml);
  number("TEYE_BUFFER_MB", 1, 65536, c.buffer_mb);
  number("TEYE_CHUNK_KB", 4, 16384, c.chunk_kb);
  number("TEYE_FLUSH_MS", 10, 3'600'000, c.flush_ms);
  seconds("TEYE_START_DELAY_S", c.start_delay_s);
  seconds("TEYE_DURATION_S", c.duration_s);
  if (const char* v = get_env("TEYE_CLOCK"); v && *v) {
    if (!strcasecmp(v, "auto") || !strcasecmp(v, "tsc") || !strcasecmp(v, "realtime"))
      c.clock = v;
    else
      bad("TEYE_CLOCK", v, "auto, tsc or realtime");
  }
  flag("TEYE_QUIET", c.quiet);
  flag("TEYE_FORKS", c.forks);
  flag("TEYE_ANNOUNCE", c.announce);
  if (static_cast<uint64_t>(c.chunk_kb) > static_cast<uint64_t>(c.buffer_mb) * 1024 / 4)
    c.chunk_kb = c.buffer_mb * 1024 / 4;
  return c;
}

RankInfo ReadRankInfo(const GetEnvFn& get_env) {
  RankInfo r;
  for (const char* name : {"RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    int x = ParseInt(get_env(name));
    if (x >= 0) {
      r.rank = x;
      break;
    }
  }
  for (const char* name : {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    int x = ParseInt(get_env(name));
    if (x >= 0) {
      r.local_rank = x;
      break;
    }
  }
  for (const char* name : {"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    int x = ParseInt(get_env(name));
    if (x > 0) {
      r.world_size = x;
      break;
    }
  }
  // A launcher that only gives LOCAL_RANK (single node) still names the rank.
  if (r.rank < 0 && r.local_rank >= 0) r.rank = r.local_rank;
  return r;
}

}  // namespace teye::collector
