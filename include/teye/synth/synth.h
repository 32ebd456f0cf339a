// A training-loop simulator that writes PyTorch-profiler (Kineto) traces with known ground truth:
// the bundled demo sample, the scenarios the diagnosis is tested against, and the large traces
// the benchmarks read. It simulates a host thread issuing work to GPU streams (FIFO order, launch
// latency, cross-stream waits, host synchronization), a DataLoader with worker processes, and DDP
// all-reduce buckets, then writes what the profiler would have recorded.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "teye/model/result.h"
#include "teye/runtime/executor.h"

namespace teye::synth {

enum class Precision : uint8_t { kFp32, kTf32, kBf16 };
// What makes a straggler rank slow (cross-rank tests).
enum class StragglerCause : uint8_t { kInput, kCompute, kHost };

// Every knob of a simulated job. Times in microseconds unless named otherwise.
struct Knobs {
  int steps = 8;
  uint64_t seed = 1;
  std::string gpu = "A100";  // A100, H100, V100: peak rates and device properties

  // Input pipeline
  int num_workers = 4;
  double batch_cost_ms = 20;   // CPU time for one worker to produce one batch
  double batch_jitter = 0.10;  // relative standard deviation of batch_cost
  int prefetch_factor = 2;
  double batch_mb = 48;  // bytes copied host → device per step
  bool pin_memory = false;
  bool non_blocking = false;  // copies do not block the host (pinned memory only)
  bool copy_stream = false;   // copies on their own stream, overlapped with compute

  // Model: `layers` blocks, each a GEMM plus an elementwise chain, forward and backward.
  int layers = 24;
  double gemm_gflop = 40;  // forward GEMM work per layer (backward is twice this)
  Precision precision = Precision::kFp32;
  int elementwise_per_layer = 3;
  double activation_mb = 64;  // bytes each elementwise kernel reads and writes
  bool fused_elementwise = false;
  bool fused_optimizer = true;
  int parameters = 160;       // tensors the optimizer updates
  double parameter_mb = 400;  // total parameter size (fp32)

  // Distributed data parallel
  int world_size = 1;
  double bucket_mb = 25;
  bool overlap_comm = true;
  double link_gbps = 100;  // NCCL bus bandwidth, GB/s
  double nccl_latency_us = 15;
  int rank = 0;
  // This rank's slowdown (cross-rank tests): multiplies the batch cost (input), kernel durations
  // (compute) or framework dispatch, launch and Python time (host).
  double straggler_slowdown = 1.0;
  StragglerCause straggler_cause = StragglerCause::kInput;

  // Host
  double op_overhead_us = 12;     // framework dispatch per op
  double launch_us = 6;           // cudaLaunchKernel host time
  int item_syncs_per_step = 1;    // loss.item() and similar, per step
  int syncs_per_layer = 0;        // extra .item()-style syncs inside forward (host-bound jobs)
  bool cuda_graphs = false;       // replay forward/backward as one CUDA graph
  double python_overhead_us = 0;  // per-layer pure-Python time between ops
  bool autograd_thread = false;   // record backward on the autograd engine's thread, as PyTorch
                                  // does (benchmark traces; off keeps the goldens' one thread)

  // Input work on the training thread
  double preprocess_ms = 0;            // per-batch transforms after the loader hands over (0: none)
  bool preprocess_in_workers = false;  // the fix: they run in the workers' __getitem__ instead
  // num_workers = 0 loads each batch inline, inside _SingleProcessDataLoaderIter.__next__.

  // Runs with no GPU: every kernel's work runs on the CPU, inside its op, cpu_slowdown × longer.
  bool cpu_only = false;
  double cpu_slowdown = 30;
  // A benchmark loop that synchronizes before profiling and when the profiler stops: the host
  // starts the window with an empty launch queue and all device work is recorded.
  bool sync_around_profile = false;

  // The simulated machine's runtime constants. teye assumes or measures its own; scenarios draw
  // these per seed from ranges that differ from its assumptions (docs/synth.md), so the sweep's
  // ground truth is not the analyzer's model played back.
  int launch_queue_depth = 1024;      // launches the device holds before a launch blocks
  double launch_latency_us = 3;       // enqueue → earliest start on an idle stream
  double graph_node_gap_us = 1;       // between the kernels of a CUDA graph
  double fused_traffic = 1.0;         // a fused elementwise chain moves this × one member's bytes
  double h2d_scale = 1.0;             // × the GPU's nominal host-to-device bandwidths
  double first_bucket_mb = 0;         // DDP's first gradient bucket (real DDP: 1 MB); 0: bucket_mb
  double batch_handoff_us = 120;      // the loop's time to take a ready batch from the workers
  double batch_handoff_jitter = 0.2;  // relative spread of its part beyond the first 40 µs
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  std::string expected_bound;  // input, compute, memory, communication, host
  std::string fix;             // the --fix rule that removes the injected problem
};

// Scenario catalogue: "demo", and one family per bound class (see docs/synth.md).
std::vector<ScenarioInfo> Scenarios();
// Knobs of a scenario; the seed varies the magnitudes within the scenario's family.
Result<Knobs> ScenarioKnobs(const std::string& name, uint64_t seed);
// Applies one fix (a recommendation's change) to the knobs.
Result<Knobs> ApplyFix(Knobs knobs, const std::string& fix);
std::vector<std::string> Fixes();

struct SimulationSummary {
  int64_t events = 0;
  double mean_step_ms = 0;  // mean ProfilerStep duration, as a profiler sees it
  double period_ms = 0;     // steady-state time per step of the device's work completion
  // Ground truth from the simulator's own clock: the time per step of the profiled steps (the
  // device's completion period; the host loop's without a GPU).
  double true_step_ms = 0;
};

// The GPU work of one step in ms (kernels only, no waits): what scenarios size their problem by.
double EstimateGpuStepMs(const Knobs& knobs);

// Simulates and writes the trace (plain JSON) to `out`.
SimulationSummary Simulate(const Knobs& knobs, std::ostream& out);

// A job of knobs.world_size ranks run in lockstep, so a collective ends on every rank once the
// last rank has arrived plus the transfer time, as NCCL's do: ranks wait for a straggler inside
// their communication kernels. Rank `straggler` (-1: none) gets the knobs' slowdown, the others
// none. outs[r] receives rank r's trace. The ranks run on `executor` (Executor::RunTogether).
std::vector<SimulationSummary> SimulateJob(const Knobs& knobs, int straggler,
                                           const std::vector<std::ostream*>& outs,
                                           Executor& executor);
Result<StragglerCause> ParseStragglerCause(const std::string& text);

}  // namespace teye::synth
