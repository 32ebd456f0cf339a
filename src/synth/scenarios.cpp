// The scenario catalogue: each family injects one problem into an otherwise healthy job, and
// names the fix that removes it, so a diagnosis can be checked against ground truth.
#include <random>

#include "teye/synth/synth.h"

namespace teye::synth {
namespace {

struct Family {
  ScenarioInfo info;
  void (*make)(Knobs& k, std::mt19937_64& rng);
};

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
int UniformInt(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// A healthy baseline: fast loader, pinned overlapped copies, bf16 GEMMs, moderate activations.
void Healthy(Knobs& k, std::mt19937_64& rng) {
  k.gpu = UniformInt(rng, 0, 3) == 0 ? "H100" : "A100";
  k.num_workers = 8;
  k.batch_cost_ms = 20;
  k.pin_memory = true;
  k.non_blocking = true;
  k.copy_stream = true;
  k.batch_mb = 24;
  k.layers = UniformInt(rng, 16, 32);
  k.precision = Precision::kBf16;
  k.gemm_gflop = Uniform(rng, 150, 400);
  k.elementwise_per_layer = 2;
  k.activation_mb = Uniform(rng, 16, 48);
  k.item_syncs_per_step = 0;
}

// The machine's runtime constants, from a stream of their own (so a family's magnitudes do not
// depend on them), in ranges that differ from what teye assumes: launch queue 1024, 1 µs between
// graph nodes, a fused chain as long as its longest member, pinned host-to-device 50/24/12 GB/s
// by generation, 25 MB gradient buckets, a 75 µs batch hand-off (docs/synth.md).
void DrawMachine(Knobs& k, uint64_t seed) {
  std::mt19937_64 rng(seed * 104729 + 11);
  k.launch_queue_depth = UniformInt(rng, 640, 1600);
  k.launch_latency_us = Uniform(rng, 2, 7);
  k.graph_node_gap_us = Uniform(rng, 0.5, 3);
  k.fused_traffic = Uniform(rng, 1.0, 1.6);
  k.h2d_scale = Uniform(rng, 0.75, 1.15);
  k.first_bucket_mb = 1;  // DDP's default first bucket
  k.batch_handoff_us = Uniform(rng, 50, 300);
  k.batch_handoff_jitter = 0.05;
}

const Family kFamilies[] = {
    {{"demo",
      "A ResNet-like job on an A100: FP32 GEMMs, two DataLoader workers that cannot keep up, "
      "pageable input copies and a loss.item() every step",
      "input", "dataloader_workers"},
     [](Knobs& k, std::mt19937_64&) {
       k.steps = 8;
       k.num_workers = 2;
       k.batch_cost_ms = 640;
       k.batch_mb = 48;
       k.layers = 24;
       k.gemm_gflop = 40;
       k.precision = Precision::kFp32;
     }},
    {{"input", "DataLoader-bound: too few workers for the per-batch CPU cost", "input",
      "dataloader_workers"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.num_workers = UniformInt(rng, 1, 3);
       // Each worker slot delivers a batch 1.5–3x slower than the GPU consumes it.
       k.batch_cost_ms = k.num_workers * EstimateGpuStepMs(k) * Uniform(rng, 1.5, 3);
     }},
    {{"compute-fp32", "Compute-bound on FP32 SIMT GEMMs (no AMP/TF32)", "compute", "amp"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.precision = Precision::kFp32;
       k.gemm_gflop = Uniform(rng, 20, 60);
       k.layers = UniformInt(rng, 12, 24);
     }},
    {{"memory-elementwise",
      "Memory-bound: long chains of unfused elementwise kernels over large activations", "memory",
      "fuse_elementwise"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.gemm_gflop = Uniform(rng, 20, 60);
       k.elementwise_per_layer = UniformInt(rng, 6, 10);
       k.activation_mb = Uniform(rng, 192, 384);
     }},
    {{"comm-no-overlap",
      "Communication-bound: DDP all-reduce after backward, not overlapped, on a slow link",
      "communication", "overlap_comm"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.world_size = 8;
       k.overlap_comm = false;
       k.parameter_mb = Uniform(rng, 600, 1200);
       k.link_gbps = Uniform(rng, 8, 20);
     }},
    {{"comm-small-buckets",
      "Communication-bound: DDP with a tiny bucket_cap_mb sends every gradient tensor in its own "
      "all-reduce, paying NCCL's fixed cost hundreds of times per step",
      "communication", "bucketing"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.world_size = 8;
       k.overlap_comm = true;
       k.bucket_mb = 0.01;
       k.gemm_gflop = Uniform(rng, 20, 60);
       k.parameters = k.layers * UniformInt(rng, 8, 16);
       k.parameter_mb = Uniform(rng, 100, 300);
       k.nccl_latency_us = Uniform(rng, 60, 120);
       k.link_gbps = Uniform(rng, 50, 150);
     }},
    {{"host-launch", "Host-bound: many tiny kernels, each cheaper than its launch and dispatch",
      "host", "cuda_graphs"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.layers = UniformInt(rng, 48, 96);
       k.gemm_gflop = Uniform(rng, 0.02, 0.1);
       k.elementwise_per_layer = 4;
       k.activation_mb = Uniform(rng, 0.2, 1.0);
       k.op_overhead_us = Uniform(rng, 18, 35);
       k.fused_optimizer = true;
     }},
    {{"host-sync", "Host-bound: a .item() inside every layer drains the GPU queue", "host",
      "remove_sync"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.gemm_gflop = Uniform(rng, 5, 20);
       k.syncs_per_layer = 1;
       k.python_overhead_us = Uniform(rng, 150, 400);
     }},
    {{"ddp",
      "Data parallel over 8 ranks, compute-bound and healthy: overlapped all-reduce, fast loader "
      "(with 'teye synth --ranks N --straggler R' one rank is slowed down)",
      "compute", "-"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.gpu = "A100";
       k.world_size = 8;
       k.layers = 16;
       k.gemm_gflop = Uniform(rng, 28, 34);
       k.activation_mb = 32;
       k.parameter_mb = 200;
       k.num_workers = 8;
       k.batch_cost_ms = 32;
       k.python_overhead_us = 60;
       k.item_syncs_per_step = 1;  // the loss is logged every step: hosts stay in step
     }},
    {{"input-pageable", "Input copies from pageable memory block the host and are not overlapped",
      "input", "pin_memory"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.pin_memory = false;
       k.non_blocking = false;
       k.copy_stream = false;
       k.batch_mb = Uniform(rng, 400, 900);
     }},
    {{"input-inline",
      "Single-process loader (num_workers=0): the training thread reads, decodes and collates "
      "every batch itself, 1.4-3x the GPU's step",
      "input", "dataloader_workers"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.num_workers = 0;
       k.batch_cost_ms = EstimateGpuStepMs(k) * Uniform(rng, 1.4, 3);
     }},
    {{"input-few-workers",
      "Too few DataLoader workers (4-8) for the per-batch cost: they supply 50-77% of the batches "
      "the GPU could take",
      "input", "dataloader_workers"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.num_workers = UniformInt(rng, 4, 8);
       k.batch_cost_ms = k.num_workers * EstimateGpuStepMs(k) * Uniform(rng, 1.3, 2);
     }},
    {{"cpu-preprocess",
      "Per-batch transforms on the training thread, after the loader hands the batch over "
      "(1.2-2.5x the GPU's step)",
      "host", "move_cpu_work"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.preprocess_ms = EstimateGpuStepMs(k) * Uniform(rng, 1.2, 2.5);
     }},
    {{"host-ahead",
      "The host runs far ahead of the GPU: a loop that synchronized before profiling issues a "
      "few launches per step while each step's FP32 GEMMs take milliseconds",
      "compute", "amp"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.precision = Precision::kFp32;
       k.layers = UniformInt(rng, 3, 6);
       k.gemm_gflop = Uniform(rng, 60, 200);
       k.elementwise_per_layer = 1;
       k.sync_around_profile = true;
     }},
    {{"gpu-behind",
      "The GPU runs behind the host: each step's kernels end after the next step's host part has "
      "begun (a pageable input copy on the compute stream holds the host to one step ahead)",
      "compute", "amp"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.precision = Precision::kFp32;
       k.gemm_gflop = Uniform(rng, 20, 60);
       k.layers = UniformInt(rng, 8, 16);
       k.pin_memory = false;
       k.non_blocking = false;
       k.copy_stream = false;
       k.batch_mb = Uniform(rng, 4, 16);
     }},
    {{"cpu-only",
      "A job without a GPU: a single-process loader loads each batch on the training thread "
      "while the CPU computes, 0.6-1.5x the compute",
      "input", "dataloader_workers"},
     [](Knobs& k, std::mt19937_64& rng) {
       Healthy(k, rng);
       k.cpu_only = true;
       k.cpu_slowdown = Uniform(rng, 20, 60);
       k.layers = UniformInt(rng, 4, 8);
       k.gemm_gflop = Uniform(rng, 5, 20);
       k.num_workers = 0;
       k.batch_cost_ms = EstimateGpuStepMs(k) * k.cpu_slowdown * Uniform(rng, 0.6, 1.5);
     }},
};

}  // namespace

std::vector<ScenarioInfo> Scenarios() {
  std::vector<ScenarioInfo> out;
  for (const auto& f : kFamilies)
    out.push_back(f.info);
  return out;
}

Result<Knobs> ScenarioKnobs(const std::string& name, uint64_t seed) {
  for (const auto& f : kFamilies) {
    if (f.info.name != name) continue;
    Knobs k;
    k.seed = seed;
    std::mt19937_64 rng(seed * 7919 + 3);
    f.make(k, rng);
    if (f.info.name != "demo") DrawMachine(k, seed);  // the demo is the bundled sample's job
    return k;
  }
  std::string known;
  for (const auto& f : kFamilies)
    known += (known.empty() ? "" : ", ") + f.info.name;
  return Error{"unknown scenario '" + name + "' (known: " + known + ")"};
}

std::vector<std::string> Fixes() {
  return {"dataloader_workers", "pin_memory",  "amp",         "fuse_elementwise", "overlap_comm",
          "bucketing",          "cuda_graphs", "remove_sync", "fused_optimizer",  "move_cpu_work"};
}

Result<Knobs> ApplyFix(Knobs k, const std::string& fix) {
  if (fix == "dataloader_workers") {
    k.num_workers = std::max(8, k.num_workers * 4);
  } else if (fix == "pin_memory") {
    k.pin_memory = true;
    k.non_blocking = true;
  } else if (fix == "copy_stream") {
    k.pin_memory = true;
    k.non_blocking = true;
    k.copy_stream = true;
  } else if (fix == "amp") {
    k.precision = Precision::kBf16;
  } else if (fix == "fuse_elementwise") {
    k.fused_elementwise = true;
  } else if (fix == "overlap_comm") {
    k.overlap_comm = true;
  } else if (fix == "bucketing") {
    k.bucket_mb = 25;
  } else if (fix == "cuda_graphs") {
    k.cuda_graphs = true;
  } else if (fix == "remove_sync") {
    k.syncs_per_layer = 0;
    k.item_syncs_per_step = 0;
  } else if (fix == "fused_optimizer") {
    k.fused_optimizer = true;
  } else if (fix == "move_cpu_work") {
    k.preprocess_in_workers = true;
  } else {
    std::string known;
    for (const auto& f : Fixes())
      known += (known.empty() ? "" : ", ") + f;
    return Error{"unknown fix '" + fix + "' (known: " + known + ")"};
  }
  return k;
}

}  // namespace teye::synth
