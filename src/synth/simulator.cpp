// The training-loop simulation behind `teye synth`.
//
// Host: one thread runs the loop. Every framework op costs dispatch time; every launch costs
// host time and puts work on a stream. Streams are FIFO: work starts when it was enqueued (plus
// a launch latency), the stream is free, and any event it waits on has completed. Synchronizing
// calls block the host until the stream drains; pageable host-to-device copies block the host
// for the copy. The DataLoader's workers each produce one batch at a time, at most
// `prefetch_factor` ahead, so a step waits when batches take longer than the step consumes them.
// Only what a profiler would record is written; warm-up steps are simulated but not written.
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "teye/synth/synth.h"

#include "gpu_specs.h"
#include "kineto_writer.h"
#include "rendezvous.h"

namespace teye::synth {
namespace {

using Ns = int64_t;
constexpr Ns kUs = 1000;
constexpr Ns kMs = 1000 * 1000;
constexpr int kComputeStream = 7;
constexpr int kCopyStream = 13;
constexpr int kCommStream = 21;
constexpr int kMinWarmupSteps = 12;    // steps simulated before profiling starts, at least...
constexpr int kMaxWarmupSteps = 4000;  // ...and until a host that runs ahead has filled the queue
constexpr int64_t kBaseTimeNs = 1767225600000000000;  // 2026-01-01, as Kineto's baseTimeNanoseconds
constexpr int kPid = 4242;
constexpr int kAutogradTid = 4243;  // PyTorch runs backward on its autograd engine thread

// GEMM rate the simulated kernels reach: below peak, as real cuBLAS GEMMs do.
double EffectiveGemmTflops(const GpuSpec& gpu, Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return gpu.fp32_tflops * 0.75;
    case Precision::kTf32:
      return (gpu.tf32_tflops > 0 ? gpu.tf32_tflops : gpu.fp32_tflops) * 0.6;
    case Precision::kBf16:
      return gpu.bf16_tflops * 0.6;
  }
  return gpu.fp32_tflops;
}

struct KernelSpec {
  std::string name;
  Ns duration = 0;
  int grid = 1;
  int block = 128;
  int registers = 32;
  int shared_memory = 0;
  std::string collective_args;  // extra args JSON (NCCL kernels)
};

class Simulation {
 public:
  Simulation(const Knobs& k, std::ostream& out, Rendezvous* rendezvous)
      : k_(k),
        gpu_(FindGpu(k.gpu)),
        rng_(k.seed * 0x9E3779B97F4A7C15ull + 17),
        writer_(out),
        rendezvous_(rendezvous) {}

  SimulationSummary Run();

 private:
  // --- primitives -------------------------------------------------------------------------
  double Jitter(double rel) {
    std::normal_distribution<double> d(1.0, rel);
    return std::clamp(d(rng_), 1.0 - 3 * rel, 1.0 + 3 * rel);
  }
  Ns Us(double us) const { return static_cast<Ns>(std::llround(us * kUs)); }
  // This rank's slowdown for `cause` (1 unless it is the straggler, slow for that reason).
  double Slow(StragglerCause cause) const {
    return k_.straggler_cause == cause ? k_.straggler_slowdown : 1.0;
  }

  void Begin(std::string_view cat, std::string name, std::string args = {}) {
    stack_.push_back(
        {std::string(cat), std::move(name), host_, next_external_++, std::move(args), host_tid_});
  }
  void End() {
    Open o = std::move(stack_.back());
    stack_.pop_back();
    std::string args = fmt::format("\"External id\": {}", o.external);
    if (!o.args.empty()) args += ", " + o.args;
    Emit(fmt::format(R"J("ph": "X", "cat": "{}", "name": "{}", "pid": {}, "tid": {}, "ts": {}, )J"
                     R"J("dur": {}, "args": {{{}}})J",
                     o.cat, KinetoWriter::Escape(o.name), kPid, o.tid, Ts(o.start),
                     KinetoWriter::Micros(host_ - o.start), args));
  }
  void Work(Ns d) { host_ += std::max<Ns>(0, d); }
  void Op(std::string name) {
    Begin("cpu_op", std::move(name));
    Work(static_cast<Ns>(Us(k_.op_overhead_us) * Slow(StragglerCause::kHost) * Jitter(0.15)));
  }

  Ns& StreamFree(int stream) { return stream_free_[stream]; }

  // A runtime call [host, host + cost) that enqueues `gpu` work on `stream` at its end.
  Ns Runtime(std::string_view name, Ns cost, int64_t* correlation) {
    const Ns start = host_;
    Work(cost);
    *correlation = next_correlation_++;
    Emit(fmt::format(R"J("ph": "X", "cat": "cuda_runtime", "name": "{}", "pid": {}, "tid": {}, )J"
                     R"J("ts": {}, "dur": {}, "args": {{"External id": {}, "cbid": 211, )J"
                     R"J("correlation": {}}})J",
                     name, kPid, host_tid_, Ts(start), KinetoWriter::Micros(host_ - start),
                     CurrentExternal(), *correlation));
    return start;
  }

  int64_t CurrentExternal() const { return stack_.empty() ? 0 : stack_.back().external; }

  // CUDA's launch queue is finite and per device: the k-th launch cannot complete before the
  // work launched launch_queue_depth launches earlier has started, so a host that runs ahead is
  // held back.
  void WaitForQueueSpace() {
    const auto depth = static_cast<size_t>(std::max(1, k_.launch_queue_depth));
    if (launch_starts_.size() >= depth)
      host_ = std::max(host_, launch_starts_[launch_starts_.size() - depth]);
  }

  // Schedules device work enqueued now; returns its end. Nodes of a CUDA graph after the first
  // share the graph's one launch.
  Ns Schedule(int stream, Ns duration, Ns enqueue, bool new_launch = true) {
    if (new_launch) WaitForQueueSpace();
    enqueue = std::max(enqueue, host_);
    Ns start = std::max(enqueue + Us(k_.launch_latency_us), StreamFree(stream));
    if (new_launch) launch_starts_.push_back(start);
    StreamFree(stream) = start + duration;
    last_start_ = start;
    return start + duration;
  }

  void EmitFlow(int64_t correlation, Ns host_ts, int stream, Ns gpu_ts) {
    Emit(fmt::format(R"J("ph": "s", "id": {}, "pid": {}, "tid": {}, "ts": {}, "cat": "ac2g", )J"
                     R"J("name": "ac2g")J",
                     correlation, kPid, host_tid_, Ts(host_ts)));
    EmitDevice(fmt::format(R"J("ph": "f", "id": {}, "pid": 0, "tid": {}, "ts": {}, )J"
                           R"J("cat": "ac2g", "name": "ac2g", "bp": "e")J",
                           correlation, stream, Ts(gpu_ts)),
               gpu_ts);
  }

  void Launch(const KernelSpec& spec, int stream) {
    if (k_.cpu_only) {  // the op computes on the CPU itself
      Work(static_cast<Ns>(static_cast<double>(spec.duration) * k_.cpu_slowdown));
      return;
    }
    int64_t corr;
    Ns call = Runtime("cudaLaunchKernel",
                      static_cast<Ns>(Us(k_.launch_us) * Slow(StragglerCause::kHost) * Jitter(0.1)),
                      &corr);
    const Ns before = host_;
    Ns end = Schedule(stream, spec.duration, host_);
    if (rendezvous_ && !spec.collective_args.empty()) {
      // NCCL: the kernel starts when this rank arrives and ends when the last one has, plus the
      // transfer.
      end = rendezvous_->Arrive(collective_index_++, last_start_, spec.duration);
      StreamFree(stream) = end;
    }
    if (host_ != before) PatchLastRuntimeEnd(call);  // the call waited for queue space
    EmitKernel(spec, stream, corr, last_start_, end);
    EmitFlow(corr, call, stream, last_start_);
  }

  void EmitKernel(const KernelSpec& spec, int stream, int64_t corr, Ns start, Ns end) {
    std::string extra = spec.collective_args.empty() ? "" : ", " + spec.collective_args;
    EmitDevice(
        fmt::format(
            R"J("ph": "X", "cat": "kernel", "name": "{}", "pid": 0, "tid": {}, "ts": {}, "dur": {}, )J"
            R"J("args": {{"External id": {}, "queued": 0, "device": 0, "context": 1, "stream": {}, )J"
            R"J("correlation": {}, "registers per thread": {}, "shared memory": {}, )J"
            R"J("grid": [{}, 1, 1], "block": [{}, 1, 1]{}}})J",
            KinetoWriter::Escape(spec.name), stream, Ts(start), KinetoWriter::Micros(end - start),
            CurrentExternal(), stream, corr, spec.registers, spec.shared_memory, spec.grid,
            spec.block, extra),
        start);
  }

  // cudaMemcpyAsync; pageable host memory makes the host wait for the copy itself.
  void Memcpy(double bytes, bool to_device, bool pinned, int stream) {
    if (k_.cpu_only) return;
    const double gbps = k_.h2d_scale * (pinned ? gpu_.h2d_pinned_gbps : gpu_.h2d_pageable_gbps);
    const Ns duration = static_cast<Ns>(bytes / gbps + 2 * kUs);
    int64_t corr;
    Ns call = Runtime("cudaMemcpyAsync", Us(5), &corr);
    Ns end = Schedule(stream, duration, host_);
    Ns start = last_start_;
    if (!pinned) host_ = std::max(host_, end + Us(3));  // staging through a pageable buffer
    // The runtime event's duration covers the wait: rewrite it by emitting the wait separately
    // is not what Kineto does; Kineto shows one long cudaMemcpyAsync. Patch the last event.
    if (!pinned) PatchLastRuntimeEnd(call);
    std::string name =
        to_device ? fmt::format("Memcpy HtoD ({} -> Device)", pinned ? "Pinned" : "Pageable")
                  : fmt::format("Memcpy DtoH (Device -> {})", pinned ? "Pinned" : "Pageable");
    EmitDevice(
        fmt::format(
            R"J("ph": "X", "cat": "gpu_memcpy", "name": "{}", "pid": 0, "tid": {}, "ts": {}, )J"
            R"J("dur": {}, "args": {{"External id": {}, "device": 0, "context": 1, "stream": {}, )J"
            R"J("correlation": {}, "bytes": {}, "memory bandwidth (GB/s)": {:.3f}}})J",
            name, stream, Ts(start), KinetoWriter::Micros(end - start), CurrentExternal(), stream,
            corr, static_cast<int64_t>(bytes), bytes / static_cast<double>(end - start)),
        start);
    EmitFlow(corr, call, stream, start);
  }

  void StreamSynchronize(int stream) {
    if (k_.cpu_only) return;
    int64_t corr;
    Ns call = host_;
    Runtime("cudaStreamSynchronize", Us(2), &corr);
    host_ = std::max(host_, StreamFree(stream) + Us(2));
    PatchLastRuntimeEnd(call);
  }

  // cudaEventRecord on `from`, cudaStreamWaitEvent on `to`.
  void StreamWait(int to, int from) {
    if (k_.cpu_only) return;
    int64_t corr;
    Runtime("cudaEventRecord", Us(2), &corr);
    Runtime("cudaStreamWaitEvent", Us(2), &corr);
    StreamFree(to) = std::max(StreamFree(to), StreamFree(from));
  }

  // tensor.item(): a 4-byte device-to-host copy and a stream synchronize.
  void Item() {
    Op("aten::item");
    Op("aten::_local_scalar_dense");
    if (k_.cpu_only) {
      End();
      End();
      return;
    }
    int64_t corr;
    Runtime("cudaMemcpyAsync", Us(4), &corr);
    Ns end = Schedule(kComputeStream, 2 * kUs, host_);
    EmitDevice(
        fmt::format(
            R"J("ph": "X", "cat": "gpu_memcpy", "name": "Memcpy DtoH (Device -> Pageable)", "pid": 0, )J"
            R"J("tid": {}, "ts": {}, "dur": {}, "args": {{"device": 0, "context": 1, "stream": {}, )J"
            R"J("correlation": {}, "bytes": 4, "memory bandwidth (GB/s)": 0.002}})J",
            kComputeStream, Ts(last_start_), KinetoWriter::Micros(end - last_start_),
            kComputeStream, corr),
        last_start_);
    StreamSynchronize(kComputeStream);
    End();
    End();
  }

  // --- the model --------------------------------------------------------------------------
  double GemmTflops() const { return EffectiveGemmTflops(gpu_, k_.precision); }
  std::string_view GemmName() const {
    switch (k_.precision) {
      case Precision::kFp32:
        return gpu_.sgemm;
      case Precision::kTf32:
        return gpu_.tf32_gemm;
      case Precision::kBf16:
        return gpu_.bf16_gemm;
    }
    return gpu_.sgemm;
  }
  KernelSpec Gemm(double gflop) {
    KernelSpec s;
    s.name = std::string(GemmName());
    s.duration = static_cast<Ns>(gflop / GemmTflops() * 1e6 * Slow(StragglerCause::kCompute) *
                                 Jitter(0.03)) +
                 4 * kUs;
    s.grid = 432;
    s.block = 256;
    s.registers = 128;
    s.shared_memory = 49152;
    return s;
  }
  KernelSpec Elementwise(int which, double mb) {
    static const char* kNames[] = {
        "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
        "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, "
        "at::detail::Array<char*, 3>)",
        "void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl("
        "at::TensorIteratorBase&, at::native::GeluType)::{lambda()#2}::operator()() const::"
        "{lambda()#2}::operator()() const::{lambda(float)#1}, at::detail::Array<char*, 2> >(int, "
        "at::native::GeluCUDAKernelImpl(at::TensorIteratorBase&, at::native::GeluType)::"
        "{lambda()#2}::operator()() const::{lambda()#2}::operator()() const::{lambda(float)#1}, "
        "at::detail::Array<char*, 2>)",
        "void at::native::vectorized_elementwise_kernel<4, at::native::BinaryFunctor<float, "
        "float, float, at::native::binary_internal::MulFunctor<float> >, at::detail::Array<char*, "
        "3> >(int, at::native::BinaryFunctor<float, float, float, "
        "at::native::binary_internal::MulFunctor<float> >, at::detail::Array<char*, 3>)",
        "void at::native::vectorized_elementwise_kernel<4, at::native::(anonymous namespace)::"
        "silu_kernel(at::TensorIteratorBase&)::{lambda()#1}::operator()() const::{lambda()#2}::"
        "operator()() const::{lambda(float)#1}, at::detail::Array<char*, 2> >(int, "
        "at::native::(anonymous namespace)::silu_kernel(at::TensorIteratorBase&)::{lambda()#1}::"
        "operator()() const::{lambda()#2}::operator()() const::{lambda(float)#1}, "
        "at::detail::Array<char*, 2>)",
    };
    KernelSpec s;
    s.name = kNames[which % 4];
    // Read and write `mb` each: memory-bound at ~80% of HBM bandwidth.
    s.duration = static_cast<Ns>(2 * mb * 1e6 / (gpu_.mem_gbps * 0.8) *
                                 Slow(StragglerCause::kCompute) * Jitter(0.05)) +
                 2 * kUs;
    s.grid = 1728;
    s.block = 128;
    s.registers = 24;
    return s;
  }
  static std::string_view ElementwiseOp(int which) {
    static const char* kOps[] = {"aten::add", "aten::gelu", "aten::mul", "aten::silu"};
    return kOps[which % 4];
  }

  void ForwardLayer(int layer) {
    Op("aten::linear");
    Op("aten::addmm");
    Launch(Gemm(k_.gemm_gflop), kComputeStream);
    End();
    End();
    ElementwiseChain(layer, 1.0);
    // e.g. `if loss.item() > ...: log(...)`: read a value back, then host work that uses it.
    for (int i = 0; i < k_.syncs_per_layer; ++i)
      Item();
    if (k_.python_overhead_us > 0)
      Work(static_cast<Ns>(Us(k_.python_overhead_us) * Slow(StragglerCause::kHost) * Jitter(0.2)));
  }

  void ElementwiseChain(int layer, double scale) {
    if (k_.elementwise_per_layer <= 0) return;
    if (k_.fused_elementwise) {
      Op("triton_poi_fused_add_gelu_mul_0");
      KernelSpec s = Elementwise(0, k_.activation_mb * scale * k_.fused_traffic);
      s.name = "triton_poi_fused_add_gelu_mul_0";
      Launch(s, kComputeStream);
      End();
      return;
    }
    for (int e = 0; e < k_.elementwise_per_layer; ++e) {
      Op(std::string(ElementwiseOp(layer + e)));
      Launch(Elementwise(layer + e, k_.activation_mb * scale), kComputeStream);
      End();
    }
  }

  void BackwardLayer(int layer) {
    Op("autograd::engine::evaluate_function: AddmmBackward0");
    Op("aten::mm");
    Launch(Gemm(k_.gemm_gflop), kComputeStream);  // grad input
    End();
    Op("aten::mm");
    Launch(Gemm(k_.gemm_gflop), kComputeStream);  // grad weight
    End();
    End();
    ElementwiseChain(layer, 1.0);
  }

  // One DDP bucket: the comm stream waits for the gradients, then all-reduces.
  void AllReduce(double mb) {
    Begin("user_annotation", "nccl:all_reduce");
    const double n = k_.world_size;
    const int64_t elems = static_cast<int64_t>(mb * 1e6 / 4);
    Op("record_param_comms");
    End();
    StreamWait(kCommStream, kComputeStream);
    KernelSpec s;
    s.name = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
    const double bytes = mb * 1e6 * 2 * (n - 1) / n;
    s.duration = Us(k_.nccl_latency_us) + static_cast<Ns>(bytes / k_.link_gbps * Jitter(0.05));
    s.grid = 16;
    s.block = 640;
    s.registers = 96;
    s.collective_args = fmt::format(
        R"J("Collective name": "allreduce", "In msg nelems": {}, "Out msg nelems": {}, )J"
        R"J("Group size": {}, "dtype": "Float", "Process Group Name": "0")J",
        elems, elems, k_.world_size);
    Launch(s, kCommStream);
    End();
  }

  void Optimizer() {
    Begin("user_annotation", "Optimizer.step#Adam.step");
    if (k_.world_size > 1) StreamWait(kComputeStream, kCommStream);
    // Adam reads param, grad, exp_avg, exp_avg_sq and writes three of them: ~7x the parameters.
    const double total_mb = k_.parameter_mb * 7;
    if (k_.fused_optimizer) {
      const int launches = std::max(1, k_.parameters / 96);
      for (int i = 0; i < launches; ++i) {
        Op("aten::_fused_adam_");
        KernelSpec s;
        s.name =
            "void at::native::(anonymous namespace)::multi_tensor_apply_kernel<at::native::"
            "(anonymous namespace)::TensorListMetadata<4>, at::native::(anonymous namespace)::"
            "FusedAdamMathFunctor<float, 4, (at::native::ADAM_MODE)0, false>, double*, double, "
            "double, double, double, double, bool, float*, float*>(...)";
        s.duration = static_cast<Ns>(total_mb / launches * 1e6 / (gpu_.mem_gbps * 0.8)) + 3 * kUs;
        s.grid = 320;
        s.block = 512;
        Launch(s, kComputeStream);
        End();
      }
    } else {
      // for-loop Adam: a handful of small elementwise kernels per parameter tensor.
      const double per_kernel_mb = k_.parameter_mb / k_.parameters;
      for (int p = 0; p < k_.parameters; ++p) {
        for (int e = 0; e < 4; ++e) {
          Op(std::string(ElementwiseOp(e + 2)));
          Launch(Elementwise(e + 2, per_kernel_mb * 1.75), kComputeStream);
          End();
        }
      }
    }
    End();
  }

  void Step(int index) {
    Begin("user_annotation", fmt::format("ProfilerStep#{}", index));
    Work(Us(20));

    NextBatch();
    if (k_.preprocess_ms > 0 && !k_.preprocess_in_workers) {
      // Transforms in the loop (PIL or Python code: no framework ops inside).
      Begin("user_annotation", "transforms.Compose");
      Work(static_cast<Ns>(k_.preprocess_ms * kMs * Jitter(0.1)));
      End();
    }

    // Input copy.
    Op("aten::to");
    Op("aten::copy_");
    const bool side_stream = k_.copy_stream && k_.non_blocking && k_.pin_memory;
    Memcpy(k_.batch_mb * 1e6, /*to_device=*/true, k_.pin_memory,
           side_stream ? kCopyStream : kComputeStream);
    End();
    End();
    if (side_stream) StreamWait(kComputeStream, kCopyStream);

    if (k_.cuda_graphs) {
      GraphStep();
    } else {
      Begin("user_annotation", "## forward ##");
      for (int l = 0; l < k_.layers; ++l)
        ForwardLayer(l);
      End();
      Op("aten::cross_entropy_loss");
      KernelSpec softmax = Elementwise(0, k_.activation_mb * 0.1);
      softmax.name =
          "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, "
          "at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)";
      Launch(softmax, kComputeStream);
      End();

      Begin("user_annotation", "## backward ##");
      if (k_.autograd_thread) host_tid_ = kAutogradTid;
      Backward();
      host_tid_ = kPid;
      End();
    }
    if (k_.world_size > 1 && !k_.overlap_comm) AllReduceAll();
    Optimizer();
    for (int i = 0; i < k_.item_syncs_per_step; ++i)
      Item();
    Begin("user_annotation", "Optimizer.zero_grad#Adam.zero_grad");
    Work(Us(30));
    End();
    End();  // ProfilerStep
  }

  // The next batch. With workers the loop waits until one is ready, then takes it (the hand-off:
  // unpickling, collation of the shared-memory handles). Without (num_workers=0) the loop reads,
  // decodes and collates the batch itself, inside __next__.
  void NextBatch() {
    if (k_.num_workers <= 0) {
      Begin("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__");
      const Ns cost = static_cast<Ns>(k_.batch_cost_ms * kMs * Slow(StragglerCause::kInput) *
                                      Jitter(k_.batch_jitter));
      // Per-sample decoding and augmentation, then the collate.
      constexpr int kSamplesShown = 4;
      for (int i = 0; i < kSamplesShown; ++i) {
        Begin("cpu_op", "aten::div_");
        Work(cost * 2 / 10 - Us(5));
        End();
        Work(Us(5));
      }
      Begin("cpu_op", "aten::stack");
      Work(cost - cost * 8 / 10);
      End();
      consumed_.push_back(host_);
      ++batch_index_;
      End();
      return;
    }
    Begin("user_annotation", "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__");
    Work(Us(40));  // asking the queue; then unpickling and collating the shared-memory handles
    host_ = std::max(host_, BatchReady(batch_index_));
    Work(static_cast<Ns>(Us(std::max(0.0, k_.batch_handoff_us - 40)) *
                         Jitter(k_.batch_handoff_jitter)));
    consumed_.push_back(host_);
    ++batch_index_;
    End();
  }

  void Backward() {
    // Each layer holds one weight and a few small tensors (bias, norm scale and shift); DDP
    // fills a bucket tensor by tensor as their gradients become ready.
    const int tensors = std::max(1, k_.parameters / k_.layers);
    const double layer_mb = k_.parameter_mb / k_.layers;
    const double small_mb = tensors > 1 ? std::min(0.01 * layer_mb, 0.5) : 0;
    double bucket = 0;
    // DDP closes its first bucket early (dist._DEFAULT_FIRST_BUCKET_BYTES), the rest at the cap.
    double cap = k_.first_bucket_mb > 0 ? k_.first_bucket_mb : k_.bucket_mb;
    for (int l = k_.layers - 1; l >= 0; --l) {
      BackwardLayer(l);
      for (int t = 0; t < tensors; ++t) {
        bucket += t == 0 ? layer_mb - small_mb * (tensors - 1) : small_mb;
        const bool last = l == 0 && t + 1 == tensors;
        if (k_.world_size > 1 && k_.overlap_comm && (bucket >= cap || last)) {
          AllReduce(bucket);
          bucket = 0;
          cap = k_.bucket_mb;
        }
      }
    }
  }

  void AllReduceAll() {
    const double total = k_.parameter_mb;
    for (double done = 0; done < total - 1e-9;) {
      const double mb = std::min(k_.bucket_mb, total - done);
      AllReduce(mb);
      done += mb;
    }
  }

  // Forward and backward replayed as one CUDA graph: one launch, kernels back to back.
  void GraphStep() {
    Begin("user_annotation", "## cuda graph replay ##");
    int64_t corr;
    Ns call = Runtime("cudaGraphLaunch", Us(20), &corr);
    Ns enqueue = host_;
    bool first_node = true;
    auto graph_kernel = [&](const KernelSpec& s) {
      Ns end = Schedule(kComputeStream, s.duration, enqueue, first_node);
      first_node = false;
      EmitKernel(s, kComputeStream, corr, last_start_, end);
      StreamFree(kComputeStream) = end + Us(k_.graph_node_gap_us);  // between graph nodes
    };
    bool first = true;
    for (int l = 0; l < k_.layers; ++l) {
      graph_kernel(Gemm(k_.gemm_gflop));
      if (first) {
        EmitFlow(corr, call, kComputeStream, last_start_);
        first = false;
      }
      for (int e = 0; e < (k_.fused_elementwise ? 1 : k_.elementwise_per_layer); ++e)
        graph_kernel(Elementwise(l + e, k_.activation_mb));
    }
    for (int l = k_.layers - 1; l >= 0; --l) {
      graph_kernel(Gemm(k_.gemm_gflop));
      graph_kernel(Gemm(k_.gemm_gflop));
      for (int e = 0; e < (k_.fused_elementwise ? 1 : k_.elementwise_per_layer); ++e)
        graph_kernel(Elementwise(l + e, k_.activation_mb));
    }
    End();
    if (k_.world_size > 1 && k_.overlap_comm) AllReduceAll();
  }

  // Worker w makes batches w, w+N, ...; a worker may run at most prefetch_factor batches
  // ahead of the one the loop consumes.
  Ns BatchReady(int64_t index) {
    while (static_cast<int64_t>(ready_.size()) <= index) {
      const int64_t b = static_cast<int64_t>(ready_.size());
      const int64_t n = std::max(1, k_.num_workers);
      Ns worker_free = b >= n ? ready_[b - n] : loader_start_;
      const int64_t gate = b - n * std::max(1, k_.prefetch_factor);
      Ns allowed = gate >= 0 && gate < static_cast<int64_t>(consumed_.size()) ? consumed_[gate]
                   : gate >= 0                                                ? host_
                                                                              : loader_start_;
      const double ms = k_.batch_cost_ms + (k_.preprocess_in_workers ? k_.preprocess_ms : 0);
      const Ns cost =
          static_cast<Ns>(ms * kMs * Slow(StragglerCause::kInput) * Jitter(k_.batch_jitter));
      ready_.push_back(std::max(worker_free, allowed) + cost);
    }
    return ready_[index];
  }

  // --- output -----------------------------------------------------------------------------
  std::string Ts(Ns t) const { return KinetoWriter::Micros(t + kTraceOffset); }
  void Emit(std::string body) {
    if (!emitting_) return;
    if (body.rfind(R"J("ph": "X", "cat": "cuda_runtime")J", 0) == 0) last_runtime_ = events_.size();
    events_.push_back(std::move(body));
  }
  // Device activity is kept when it runs inside the profiling window, whichever step launched
  // it, as a profiler records it; it waits here until the host clock passes its start.
  void EmitDevice(std::string body, Ns start) { future_.push_back({start, std::move(body)}); }
  // Writes device events that started before `until` (and inside the window), keeps later ones.
  void FlushDevice(Ns until, bool final) {
    std::vector<std::pair<Ns, std::string>> keep;
    for (auto& [start, body] : future_) {
      if (start < window_start_) continue;
      if (start <= until) {
        writer_.Event(body);
        ++device_events_;
      } else if (!final) {
        keep.emplace_back(start, std::move(body));
      }
    }
    future_.swap(keep);
  }

  // Stretches the most recent runtime event to end at host_ (a call that waited).
  void PatchLastRuntimeEnd(Ns call_start) {
    if (!emitting_ || last_runtime_ >= events_.size()) return;
    std::string& e = events_[last_runtime_];
    size_t p = e.find("\"dur\": ");
    size_t q = e.find(',', p);
    if (p == std::string::npos || q == std::string::npos) return;
    e.replace(p + 7, q - p - 7, KinetoWriter::Micros(host_ - call_start));
  }

  struct Open {
    std::string cat;
    std::string name;
    Ns start;
    int64_t external;
    std::string args;
    int tid;
  };

  static constexpr Ns kTraceOffset = 4200000000000000;  // ns; keeps ts large like Kineto's

  const Knobs& k_;
  const GpuSpec& gpu_;
  std::mt19937_64 rng_;
  KinetoWriter writer_;
  Ns host_ = 0;
  Ns last_start_ = 0;
  Ns loader_start_ = 0;
  std::map<int, Ns> stream_free_;
  std::vector<Ns> launch_starts_;  // start of the work of every launch, in launch order
  std::vector<Open> stack_;
  std::vector<Ns> ready_;
  std::vector<Ns> consumed_;
  int64_t batch_index_ = 0;
  int64_t next_correlation_ = 1;
  int64_t next_external_ = 1;
  bool emitting_ = false;
  std::vector<std::string> events_;
  std::vector<std::pair<Ns, std::string>> future_;
  Ns window_start_ = INT64_MAX;
  int64_t device_events_ = 0;
  size_t last_runtime_ = SIZE_MAX;
  int host_tid_ = kPid;  // the host thread events are recorded on
  Rendezvous* rendezvous_ = nullptr;
  int64_t collective_index_ = 0;
};

SimulationSummary Simulation::Run() {
  SimulationSummary summary;
  std::string header =
      k_.cpu_only
          ? std::string(R"J("deviceProperties": [])J")
          : fmt::format(
                R"J("deviceProperties": [{{"id": 0, "name": "{}", "totalGlobalMem": {}, )J"
                R"J("computeMajor": {}, "computeMinor": {}, "maxThreadsPerBlock": 1024, )J"
                R"J("maxThreadsPerMultiprocessor": 2048, "regsPerBlock": 65536, "warpSize": 32, )J"
                R"J("sharedMemPerBlock": 49152, "numSms": {}}}])J",
                gpu_.name, gpu_.total_mem, gpu_.compute_major, gpu_.compute_minor, gpu_.num_sms);
  if (k_.world_size > 1) {
    header +=
        fmt::format(R"J(, "distributedInfo": {{"backend": "nccl", "rank": {}, "world_size": {}, )J"
                    R"J("nccl_version": "2.21.5"}})J",
                    k_.rank, k_.world_size);
  }
  writer_.Begin(header);
  // The loader starts with the job, a little before the first step.
  loader_start_ = -static_cast<Ns>(k_.batch_cost_ms * kMs);
  auto gpu_done = [&] {  // when the device has done all it was given (now, without a GPU)
    Ns done = stream_free_.empty() ? host_ : INT64_MIN;
    for (auto& [stream, free] : stream_free_)
      done = std::max(done, free);
    return done;
  };
  // Warm up until the run is in its steady state: a host that runs ahead of the GPU does so
  // until the launch queue is full, after which its lead stops growing.
  Ns lead = 0;
  int steady_steps = 0;
  for (int s = 0; s < kMaxWarmupSteps; ++s) {
    emitting_ = false;
    const Ns before = host_;
    Step(0);
    std::erase_if(future_, [&](const auto& e) { return e.first < host_; });
    const Ns new_lead = gpu_done() - host_;
    steady_steps = std::abs(new_lead - lead) <= (host_ - before) / 50 ? steady_steps + 1 : 0;
    lead = new_lead;
    if (s + 1 >= kMinWarmupSteps && steady_steps >= 5) break;
  }
  if (k_.sync_around_profile) host_ = std::max(host_, gpu_done());  // torch.cuda.synchronize()
  std::vector<Ns> step_starts;
  std::vector<Ns> step_gpu_done{gpu_done()};
  for (int s = 0; s < k_.steps; ++s) {
    emitting_ = true;
    if (step_starts.empty()) window_start_ = host_;
    step_starts.push_back(host_);
    Step(100 + s);
    step_gpu_done.push_back(gpu_done());
    // Flush as we go so memory stays flat for big traces.
    {
      for (auto& e : events_)
        writer_.Event(e);
      summary.events += static_cast<int64_t>(events_.size());
      events_.clear();
      last_runtime_ = SIZE_MAX;
      FlushDevice(host_, false);
    }
  }
  const Ns end = host_;
  // The profiler stops with the last step: later activity is not recorded, unless the loop
  // synchronizes first (then every launched kernel ran inside the window).
  FlushDevice(k_.sync_around_profile ? std::max(end, gpu_done()) : end, true);
  summary.events += device_events_;
  step_starts.push_back(end);
  double total = 0;
  for (size_t i = 0; i + 1 < step_starts.size(); ++i)
    total += static_cast<double>(step_starts[i + 1] - step_starts[i]);
  summary.mean_step_ms = k_.steps > 0 ? total / k_.steps / kMs : 0;
  // Ground truth that does not depend on where the host is: consecutive steps' work completes
  // one period apart in the steady state.
  summary.period_ms =
      k_.steps > 0
          ? static_cast<double>(step_gpu_done.back() - step_gpu_done.front()) / k_.steps / kMs
          : 0;
  // Without a GPU the loop's own period is the truth.
  if (k_.cpu_only) summary.period_ms = summary.mean_step_ms;
  summary.true_step_ms = summary.period_ms;

  // Profiler bookkeeping events, as Kineto writes them.
  const Ns first = step_starts.front();
  writer_.Event(fmt::format(R"J("ph": "X", "cat": "Trace", "ts": {}, "dur": {}, "pid": "Spans", )J"
                            R"J("tid": "PyTorch Profiler", "name": "PyTorch Profiler (0)", )J"
                            R"J("args": {{"Op count": 0}})J",
                            Ts(first - 100 * kUs), KinetoWriter::Micros(end - first + 200 * kUs)));
  writer_.Event(
      fmt::format(R"J("name": "process_name", "ph": "M", "ts": {}, "pid": {}, "tid": 0, )J"
                  R"J("args": {{"name": "python"}})J",
                  Ts(first), kPid));
  writer_.Event(
      fmt::format(R"J("name": "thread_name", "ph": "M", "ts": {}, "pid": {}, "tid": {}, )J"
                  R"J("args": {{"name": "MainThread"}})J",
                  Ts(first), kPid, kPid));
  if (k_.autograd_thread) {
    writer_.Event(
        fmt::format(R"J("name": "thread_name", "ph": "M", "ts": {}, "pid": {}, "tid": {}, )J"
                    R"J("args": {{"name": "pt_autograd_0"}})J",
                    Ts(first), kPid, kAutogradTid));
    summary.events += 1;
  }
  for (int stream : {kComputeStream, kCopyStream, kCommStream}) {
    if (k_.cpu_only) break;
    writer_.Event(
        fmt::format(R"J("name": "thread_name", "ph": "M", "ts": {}, "pid": 0, "tid": {}, )J"
                    R"J("args": {{"name": "stream {}"}})J",
                    Ts(first), stream, stream));
  }
  summary.events += 3 + (k_.cpu_only ? 0 : 3);
  writer_.End(fmt::format(R"J("traceName": "teye-synth-seed{}.pt.trace.json", )J"
                          R"J("displayTimeUnit": "ms", "baseTimeNanoseconds": {})J",
                          k_.seed, kBaseTimeNs));
  return summary;
}

}  // namespace

double EstimateGpuStepMs(const Knobs& k) {
  const GpuSpec& gpu = FindGpu(k.gpu);
  const double gemm_ms = k.gemm_gflop / EffectiveGemmTflops(gpu, k.precision);
  const int chain = k.fused_elementwise ? 1 : k.elementwise_per_layer;
  const double elementwise_ms = 2 * k.activation_mb / (gpu.mem_gbps * 0.8);
  const double optimizer_ms = 7 * k.parameter_mb / (gpu.mem_gbps * 0.8);
  return k.layers * (3 * gemm_ms + 2 * chain * elementwise_ms) + optimizer_ms;
}

SimulationSummary SimulateRank(const Knobs& knobs, std::ostream& out, Rendezvous* rendezvous) {
  Simulation sim(knobs, out, rendezvous);
  return sim.Run();
}

SimulationSummary Simulate(const Knobs& knobs, std::ostream& out) {
  return SimulateRank(knobs, out, nullptr);
}

}  // namespace teye::synth
