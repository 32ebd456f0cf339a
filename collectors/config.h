// The collector's configuration, read once from TEYE_* environment variables
// (docs/collector.md lists them). Bad values fall back to defaults with one message; they never
// stop the job.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace teye::collector {

enum class CuptiMode : uint8_t {
  kOff,
  kAuto,   // start at CUDA initialisation (CUDA_INJECTION64_PATH), or at load in CUDA programs
  kEager,  // start when the library loads
};
enum class DriverApiMode : uint8_t { kOff, kLaunch, kAll };
enum class RuntimeApiMode : uint8_t { kOff, kFiltered, kAll };

struct Config {
  bool enabled = true;                     // TEYE_ENABLE
  std::string output_dir = "teye-traces";  // TEYE_OUTPUT_DIR
  std::string trace_name;                  // TEYE_TRACE_NAME (default: the command line)
  bool io = true;                          // TEYE_IO
  int64_t io_min_ns = 0;                   // TEYE_IO_MIN_US, reads shorter than this are not kept
  bool nvtx = true;                        // TEYE_NVTX
  std::string nvtx_chain;                  // TEYE_NVTX_CHAIN: another NVTX tool to forward to
  CuptiMode cupti = CuptiMode::kAuto;      // TEYE_CUPTI
  RuntimeApiMode cupti_runtime = RuntimeApiMode::kFiltered;  // TEYE_CUPTI_RUNTIME
  DriverApiMode cupti_driver = DriverApiMode::kLaunch;       // TEYE_CUPTI_DRIVER
  bool cupti_graph_trace = false;                            // TEYE_CUPTI_GRAPH_TRACE
  uint32_t cupti_buffer_kb = 4096;    // TEYE_CUPTI_BUFFER_KB, one activity buffer
  uint32_t cupti_max_buffers = 64;    // TEYE_CUPTI_MAX_BUFFERS, outstanding buffers
  bool nccl_plugin = true;            // TEYE_NCCL_PLUGIN
  uint32_t sample_ms = 100;           // TEYE_SAMPLE_MS, 0 = no resource samples
  bool nvml = true;                   // TEYE_NVML
  uint32_t buffer_mb = 64;            // TEYE_BUFFER_MB, record memory per process
  uint32_t chunk_kb = 64;             // TEYE_CHUNK_KB, one thread's buffer chunk
  uint32_t flush_ms = 1000;           // TEYE_FLUSH_MS, how often records reach the file
  double start_delay_s = 0;           // TEYE_START_DELAY_S
  double duration_s = 0;              // TEYE_DURATION_S, 0 = until exit
  std::string clock = "auto";         // TEYE_CLOCK: auto, tsc, realtime
  bool quiet = false;                 // TEYE_QUIET
  bool forks = true;                  // TEYE_FORKS: record forked children
  bool announce = true;               // TEYE_ANNOUNCE: say where the trace went at exit
  std::vector<std::string> warnings;  // what was wrong with the environment
};

using GetEnvFn = std::function<const char*(const char*)>;

// Reads the configuration through get_env (getenv in the library, a map in tests).
Config LoadConfig(const GetEnvFn& get_env);

// The process's rank from RANK, OMPI_COMM_WORLD_RANK, PMI_RANK, SLURM_PROCID (first set wins),
// and world size from WORLD_SIZE, OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_NTASKS. -1 / 0 unknown.
struct RankInfo {
  int rank = -1;
  int local_rank = -1;
  int world_size = 0;
};
RankInfo ReadRankInfo(const GetEnvFn& get_env);

}  // namespace teye::collector
