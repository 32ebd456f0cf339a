// cuda_train: a small data-parallel training loop to record with `teye record`.
//
// What a real job does, in miniature:
//   - a dataloader thread pread()s raw bytes from a data file, "decodes" them into floats (with an
//     optional per-sample CPU cost) and fills host buffers, pageable or pinned (--pinned);
//   - the training thread copies each batch to the GPU (cudaMemcpyAsync H2D), runs a stack of
//     fully connected layers as cuBLAS GEMMs (cublasGemmEx, FP32 or BF16 with --bf16) with its own
//     elementwise kernels (ReLU, loss, ReLU backward, SGD);
//   - with --nccl, one replica per visible GPU (a single-process communicator from
//     ncclCommInitAll) and an all-reduce of the gradients every step;
//   - NVTX ranges (NVTX 3 headers) for every step ("ProfilerStep#N", the name PyTorch uses, so
//     `teye analyze` finds the steps), forward, backward, all-reduce, optimizer and batch loads.
//
// --help prints the options without touching CUDA, so it runs on machines without a GPU.
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <deque>
#include <fcntl.h>
#include <mutex>
#include <nccl.h>
#include <nvtx3/nvToolsExt.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

// ---- Options ----------------------------------------------------------------------------------

struct Options {
  int steps = 50;
  int batch = 64;
  int hidden = 1024;
  int layers = 4;
  float lr = 0.01f;
  bool pinned = false;
  bool bf16 = false;
  bool nccl = false;
  int devices = 0;  // with --nccl: 0 = every visible GPU
  std::string data = "cuda_train.data";
  int data_mb = 64;
  int prefetch = 2;
  int decode_us = 0;  // CPU time per sample in the dataloader
  int log_every = 10;
};

const char kUsage[] =
    "usage: cuda_train [options]\n"
    "\n"
    "A data-parallel training loop (dataloader thread, H2D copies, cuBLAS GEMMs, elementwise\n"
    "kernels, optional NCCL all-reduce, NVTX ranges) to record with teye:\n"
    "  teye record -- ./cuda_train --pinned --bf16\n"
    "\n"
    "options:\n"
    "  --steps N        training steps (default 50)\n"
    "  --batch N        samples per step and GPU (default 64)\n"
    "  --hidden N       layer width (default 1024)\n"
    "  --layers N       fully connected layers (default 4)\n"
    "  --lr X           SGD learning rate (default 0.01)\n"
    "  --pinned         dataloader fills pinned (cudaMallocHost) buffers; default pageable\n"
    "  --bf16           BF16 weights and activations (GEMMs accumulate in FP32); default FP32\n"
    "  --nccl           one replica per GPU, gradients all-reduced with NCCL each step\n"
    "  --devices N      with --nccl: use the first N GPUs (default all)\n"
    "  --data PATH      data file read with pread (default cuda_train.data; made if missing)\n"
    "  --data-mb N      size of a generated data file in MiB (default 64)\n"
    "  --prefetch N     batches the dataloader may prepare ahead (default 2)\n"
    "  --decode-us N    CPU microseconds spent decoding each sample (default 0)\n"
    "  --log-every N    print the loss every N steps, 0 never (default 10)\n"
    "  -h, --help       this text\n";

bool ParseInt(const char* s, int lo, int& out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > (1 << 30)) return false;
  out = static_cast<int>(v);
  return true;
}

// 0: run, 1: --help, 2: bad usage.
int ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto integer = [&](int lo, int& field) {
      const char* v = value();
      if (v && ParseInt(v, lo, field)) return true;
      std::fprintf(stderr, "cuda_train: %s needs an integer >= %d\n", a.c_str(), lo);
      return false;
    };
    bool ok = true;
    if (a == "-h" || a == "--help") return 1;
    if (a == "--steps")
      ok = integer(1, o.steps);
    else if (a == "--batch")
      ok = integer(1, o.batch);
    else if (a == "--hidden")
      ok = integer(16, o.hidden);
    else if (a == "--layers")
      ok = integer(1, o.layers);
    else if (a == "--pinned")
      o.pinned = true;
    else if (a == "--bf16")
      o.bf16 = true;
    else if (a == "--nccl")
      o.nccl = true;
    else if (a == "--devices")
      ok = integer(1, o.devices);
    else if (a == "--data-mb")
      ok = integer(1, o.data_mb);
    else if (a == "--prefetch")
      ok = integer(1, o.prefetch);
    else if (a == "--decode-us")
      ok = integer(0, o.decode_us);
    else if (a == "--log-every")
      ok = integer(0, o.log_every);
    else if (a == "--data") {
      const char* v = value();
      if (!v)
        ok = false;
      else
        o.data = v;
    } else if (a == "--lr") {
      const char* v = value();
      char* end = nullptr;
      o.lr = v ? std::strtof(v, &end) : 0;
      ok = v && *v && !*end && o.lr > 0;
      if (!ok) std::fprintf(stderr, "cuda_train: --lr needs a positive number\n");
    } else {
      std::fprintf(stderr, "cuda_train: unknown option %s (try --help)\n", a.c_str());
      return 2;
    }
    if (!ok) return 2;
  }
  return 0;
}

// ---- Error checks -----------------------------------------------------------------------------

#define CUDA_CHECK(call)                                                                  \
  do {                                                                                    \
    cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      std::fprintf(stderr, "cuda_train: %s failed: %s\n", #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                       \
    }                                                                                     \
  } while (0)
#define CUBLAS_CHECK(call)                                                        \
  do {                                                                            \
    cublasStatus_t s_ = (call);                                                   \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                            \
      std::fprintf(stderr, "cuda_train: %s failed: status %d\n", #call, (int)s_); \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)
#define NCCL_CHECK(call)                                                                  \
  do {                                                                                    \
    ncclResult_t r_ = (call);                                                             \
    if (r_ != ncclSuccess) {                                                              \
      std::fprintf(stderr, "cuda_train: %s failed: %s\n", #call, ncclGetErrorString(r_)); \
      std::exit(1);                                                                       \
    }                                                                                     \
  } while (0)

// Scoped NVTX range.
struct Range {
  explicit Range(const char* name) { nvtxRangePushA(name); }
  ~Range() { nvtxRangePop(); }
  Range(const Range&) = delete;
  Range& operator=(const Range&) = delete;
};

// ---- Kernels ----------------------------------------------------------------------------------

__device__ __forceinline__ float ToFloat(float x) {
  return x;
}
__device__ __forceinline__ float ToFloat(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <typename T>
__device__ __forceinline__ T FromFloat(float x);
template <>
__device__ __forceinline__ float FromFloat<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}

#define GRID_STRIDE(i, n)                                                 \
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
       i += (size_t)blockDim.x * gridDim.x)

template <typename T>
__global__ void InitWeights(T* w, size_t n, uint32_t seed, float scale) {
  GRID_STRIDE(i, n) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    w[i] = FromFloat<T>((static_cast<float>(h & 0xffffff) / 16777216.0f - 0.5f) * 2.0f * scale);
  }
}

template <typename T>
__global__ void CastInput(const float* in, T* out, size_t n) {
  GRID_STRIDE(i, n) {
    out[i] = FromFloat<T>(in[i]);
  }
}

template <typename T>
__global__ void ReluForward(T* x, size_t n) {
  GRID_STRIDE(i, n) {
    const float v = ToFloat(x[i]);
    x[i] = FromFloat<T>(v > 0.0f ? v : 0.0f);
  }
}

// Loss 0.5 * mean((out - target)^2) and its gradient.
template <typename T>
__global__ void MseLoss(const T* out, const T* target, T* grad, float* loss, size_t n,
                        float inv_batch) {
  float local = 0.0f;
  GRID_STRIDE(i, n) {
    const float d = ToFloat(out[i]) - ToFloat(target[i]);
    grad[i] = FromFloat<T>(d * inv_batch);
    local += 0.5f * d * d * inv_batch;
  }
  // One atomic per warp, not per thread (blockDim is a multiple of 32).
  for (int offset = 16; offset > 0; offset /= 2)
    local += __shfl_down_sync(0xffffffffu, local, offset);
  if ((threadIdx.x & 31) == 0) atomicAdd(loss, local);
}

template <typename T>
__global__ void ReluBackward(const T* activation, T* grad, size_t n) {
  GRID_STRIDE(i, n) {
    if (!(ToFloat(activation[i]) > 0.0f)) grad[i] = FromFloat<T>(0.0f);
  }
}

template <typename T>
__global__ void SgdUpdate(T* w, const T* g, float lr, size_t n) {
  GRID_STRIDE(i, n) {
    w[i] = FromFloat<T>(ToFloat(w[i]) - lr * ToFloat(g[i]));
  }
}

dim3 Blocks(size_t n) {
  size_t b = (n + 255) / 256;
  return dim3(static_cast<unsigned>(b < 4096 ? b : 4096));
}

// ---- Dataloader -------------------------------------------------------------------------------

// One step's input for every replica: floats, pageable or pinned.
struct Slot {
  float* host = nullptr;
  int step = -1;
  std::vector<cudaEvent_t> copied;  // per replica: the H2D copy out of this slot is done
};

class DataLoader {
 public:
  DataLoader(const Options& o, int replicas, std::vector<Slot>& slots)
      : o_(o),
        slots_(slots),
        sample_bytes_(static_cast<size_t>(o.hidden)),
        step_samples_(static_cast<size_t>(o.batch) * replicas) {
    for (size_t i = 0; i < slots_.size(); ++i)
      free_.push_back(static_cast<int>(i));
  }
  ~DataLoader() { Stop(); }

  void Start() {
    fd_ = ::open(o_.data.c_str(), O_RDONLY);
    if (fd_ < 0) {
      std::perror(("cuda_train: " + o_.data).c_str());
      std::exit(1);
    }
    struct stat st {};
    ::fstat(fd_, &st);
    file_bytes_ = static_cast<size_t>(st.st_size);
    if (file_bytes_ < step_samples_ * sample_bytes_) {
      std::fprintf(stderr, "cuda_train: %s is smaller than one step's data (%zu bytes)\n",
                   o_.data.c_str(), step_samples_ * sample_bytes_);
      std::exit(1);
    }
    thread_ = std::thread([this] { Run(); });
  }

  // The next filled slot, in step order.
  int Next() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return !ready_.empty(); });
    const int s = ready_.front();
    ready_.pop_front();
    return s;
  }
  void Release(int slot) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(slot);
    }
    free_cv_.notify_one();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    free_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void Run() {
    nvtxNameOsThreadA(static_cast<uint32_t>(::gettid()), "dataloader");
    std::vector<uint8_t> raw(step_samples_ * sample_bytes_);
    size_t offset = 0;
    for (int step = 0; step < o_.steps; ++step) {
      int s;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        free_cv_.wait(lock, [&] { return stop_ || !free_.empty(); });
        if (stop_) return;
        s = free_.front();
        free_.pop_front();
      }
      {
        Range r("load_batch");
        // One pread per sample, as a dataset of records would do.
        for (size_t i = 0; i < step_samples_; ++i) {
          if (offset + sample_bytes_ > file_bytes_) offset = 0;
          ssize_t got = ::pread(fd_, raw.data() + i * sample_bytes_, sample_bytes_,
                                static_cast<off_t>(offset));
          if (got != static_cast<ssize_t>(sample_bytes_)) {
            std::perror("cuda_train: pread");
            std::exit(1);
          }
          offset += sample_bytes_;
        }
        Range d("decode");
        float* out = slots_[s].host;
        for (size_t i = 0; i < step_samples_; ++i) {
          const uint8_t* in = raw.data() + i * sample_bytes_;
          for (size_t j = 0; j < sample_bytes_; ++j)
            out[i * sample_bytes_ + j] = static_cast<float>(in[j]) / 255.0f - 0.5f;
          if (o_.decode_us > 0) {
            const auto until =
                std::chrono::steady_clock::now() + std::chrono::microseconds(o_.decode_us);
            while (std::chrono::steady_clock::now() < until) {
            }
          }
        }
      }
      slots_[s].step = step;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(s);
      }
      ready_cv_.notify_one();
    }
  }

  const Options& o_;
  std::vector<Slot>& slots_;
  const size_t sample_bytes_;
  const size_t step_samples_;
  int fd_ = -1;
  size_t file_bytes_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable free_cv_, ready_cv_;
  std::deque<int> free_, ready_;
  bool stop_ = false;
};

void MakeDataFile(const Options& o) {
  if (::access(o.data.c_str(), R_OK) == 0) return;
  Range r("make_data_file");
  const int fd = ::open(o.data.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror(("cuda_train: " + o.data).c_str());
    std::exit(1);
  }
  std::vector<uint8_t> block(1 << 20);
  uint32_t x = 12345;
  for (int mb = 0; mb < o.data_mb; ++mb) {
    for (auto& b : block) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<uint8_t>(x >> 24);
    }
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      std::perror("cuda_train: writing the data file");
      std::exit(1);
    }
  }
  ::close(fd);
  std::printf("made %s (%d MiB)\n", o.data.c_str(), o.data_mb);
}

// ---- The model, one replica per GPU -----------------------------------------------------------

struct Replica {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  ncclComm_t comm = nullptr;
  void* weights = nullptr;  // layers * hidden * hidden
  void* grads = nullptr;    // same layout: one all-reduce for all layers
  std::vector<void*> acts;  // layers + 1 activations, hidden x batch (column-major)
  void* grad_a = nullptr;   // two gradient buffers, hidden x batch
  void* grad_b = nullptr;
  float* input = nullptr;  // the batch as copied from the host
  float* loss = nullptr;
};

template <typename T>
class Trainer {
 public:
  Trainer(const Options& o, std::vector<Replica>& replicas) : o_(o), replicas_(replicas) {}

  void Init() {
    const size_t h = o_.hidden, b = o_.batch, w = h * h * o_.layers;
    for (Replica& r : replicas_) {
      CUDA_CHECK(cudaSetDevice(r.device));
      CUDA_CHECK(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking));
      CUBLAS_CHECK(cublasCreate(&r.cublas));
      CUBLAS_CHECK(cublasSetStream(r.cublas, r.stream));
      CUDA_CHECK(cudaMalloc(&r.weights, w * sizeof(T)));
      CUDA_CHECK(cudaMalloc(&r.grads, w * sizeof(T)));
      r.acts.resize(o_.layers + 1);
      for (void*& a : r.acts)
        CUDA_CHECK(cudaMalloc(&a, h * b * sizeof(T)));
      CUDA_CHECK(cudaMalloc(&r.grad_a, h * b * sizeof(T)));
      CUDA_CHECK(cudaMalloc(&r.grad_b, h * b * sizeof(T)));
      CUDA_CHECK(cudaMalloc(&r.input, h * b * sizeof(float)));
      CUDA_CHECK(cudaMalloc(&r.loss, sizeof(float)));
      // Same seed on every replica: data parallelism starts from identical weights.
      InitWeights<T><<<Blocks(w), 256, 0, r.stream>>>(static_cast<T*>(r.weights), w, 42u,
                                                      1.0f / std::sqrt(static_cast<float>(h)));
      CUDA_CHECK(cudaGetLastError());
    }
  }

  // Copies this replica's part of the slot to the device.
  void CopyIn(Replica& r, const float* host) {
    const size_t n = static_cast<size_t>(o_.hidden) * o_.batch;
    CUDA_CHECK(cudaSetDevice(r.device));
    CUDA_CHECK(cudaMemcpyAsync(r.input, host, n * sizeof(float), cudaMemcpyHostToDevice, r.stream));
    CastInput<T><<<Blocks(n), 256, 0, r.stream>>>(r.input, Act(r, 0), n);
  }

  void Forward(Replica& r) {
    const size_t n = static_cast<size_t>(o_.hidden) * o_.batch;
    CUDA_CHECK(cudaSetDevice(r.device));
    for (int l = 0; l < o_.layers; ++l) {
      // acts[l+1] = W_l * acts[l]   (hidden x hidden) * (hidden x batch)
      Gemm(r, CUBLAS_OP_N, CUBLAS_OP_N, o_.hidden, o_.batch, o_.hidden, Weight(r, l), Act(r, l),
           Act(r, l + 1));
      ReluForward<T><<<Blocks(n), 256, 0, r.stream>>>(Act(r, l + 1), n);
    }
    CUDA_CHECK(cudaMemsetAsync(r.loss, 0, sizeof(float), r.stream));
    // An autoencoder's loss: reproduce the input.
    MseLoss<T><<<Blocks(n), 256, 0, r.stream>>>(Act(r, o_.layers), Act(r, 0),
                                                static_cast<T*>(r.grad_a), r.loss, n,
                                                1.0f / static_cast<float>(o_.batch));
  }

  void Backward(Replica& r) {
    const size_t n = static_cast<size_t>(o_.hidden) * o_.batch;
    CUDA_CHECK(cudaSetDevice(r.device));
    T* grad = static_cast<T*>(r.grad_a);
    T* other = static_cast<T*>(r.grad_b);
    for (int l = o_.layers - 1; l >= 0; --l) {
      ReluBackward<T><<<Blocks(n), 256, 0, r.stream>>>(Act(r, l + 1), grad, n);
      // dW_l = dZ * acts[l]^T
      Gemm(r, CUBLAS_OP_N, CUBLAS_OP_T, o_.hidden, o_.hidden, o_.batch, grad, Act(r, l),
           Grad(r, l));
      if (l > 0) {
        // d acts[l] = W_l^T * dZ
        Gemm(r, CUBLAS_OP_T, CUBLAS_OP_N, o_.hidden, o_.batch, o_.hidden, Weight(r, l), grad,
             other);
        std::swap(grad, other);
      }
    }
  }

  void Optimizer(Replica& r, float lr) {
    const size_t w = static_cast<size_t>(o_.hidden) * o_.hidden * o_.layers;
    CUDA_CHECK(cudaSetDevice(r.device));
    SgdUpdate<T><<<Blocks(w), 256, 0, r.stream>>>(static_cast<T*>(r.weights),
                                                  static_cast<const T*>(r.grads), lr, w);
  }

 private:
  T* Weight(Replica& r, int l) {
    return static_cast<T*>(r.weights) + static_cast<size_t>(l) * o_.hidden * o_.hidden;
  }
  T* Grad(Replica& r, int l) {
    return static_cast<T*>(r.grads) + static_cast<size_t>(l) * o_.hidden * o_.hidden;
  }
  T* Act(Replica& r, int l) { return static_cast<T*>(r.acts[l]); }

  // C (m x n) = op(A) * op(B), column-major, FP32 accumulation.
  void Gemm(Replica& r, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* a,
            const T* b, T* c) {
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType type = sizeof(T) == 2 ? CUDA_R_16BF : CUDA_R_32F;
    const int lda = ta == CUBLAS_OP_N ? m : k;
    const int ldb = tb == CUBLAS_OP_N ? k : n;
    CUBLAS_CHECK(cublasGemmEx(r.cublas, ta, tb, m, n, k, &one, a, type, lda, b, type, ldb, &zero, c,
                              type, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }

  const Options& o_;
  std::vector<Replica>& replicas_;
};

template <typename T>
int Train(const Options& o, std::vector<Replica>& replicas) {
  Trainer<T> trainer(o, replicas);
  trainer.Init();

  const size_t step_floats = static_cast<size_t>(o.hidden) * o.batch * replicas.size();
  std::vector<Slot> slots(o.prefetch);
  for (Slot& s : slots) {
    CUDA_CHECK(cudaSetDevice(replicas[0].device));
    if (o.pinned)
      CUDA_CHECK(cudaMallocHost(&s.host, step_floats * sizeof(float)));
    else
      s.host = static_cast<float*>(std::malloc(step_floats * sizeof(float)));
    if (!s.host) {
      std::fprintf(stderr, "cuda_train: out of host memory\n");
      return 1;
    }
    s.copied.resize(replicas.size());
    for (size_t i = 0; i < replicas.size(); ++i) {
      CUDA_CHECK(cudaSetDevice(replicas[i].device));
      CUDA_CHECK(cudaEventCreateWithFlags(&s.copied[i], cudaEventDisableTiming));
    }
  }
  DataLoader loader(o, static_cast<int>(replicas.size()), slots);
  loader.Start();

  const size_t per_replica = static_cast<size_t>(o.hidden) * o.batch;
  const size_t weights = static_cast<size_t>(o.hidden) * o.hidden * o.layers;
  const ncclDataType_t nccl_type = sizeof(T) == 2 ? ncclBfloat16 : ncclFloat32;
  // Gradients are summed over replicas: average them in the update.
  const float lr = o.lr / static_cast<float>(replicas.size());
  const auto started = std::chrono::steady_clock::now();
  for (int step = 0; step < o.steps; ++step) {
    char name[32];
    std::snprintf(name, sizeof name, "ProfilerStep#%d", step);
    Range step_range(name);
    int s;
    {
      Range r("wait_for_data");
      s = loader.Next();
    }
    {
      Range r("copy_in");
      for (size_t i = 0; i < replicas.size(); ++i) {
        trainer.CopyIn(replicas[i], slots[s].host + i * per_replica);
        CUDA_CHECK(cudaEventRecord(slots[s].copied[i], replicas[i].stream));
      }
    }
    {
      Range r("forward");
      for (Replica& rep : replicas)
        trainer.Forward(rep);
    }
    {
      Range r("backward");
      for (Replica& rep : replicas)
        trainer.Backward(rep);
    }
    if (o.nccl) {
      Range r("allreduce");
      NCCL_CHECK(ncclGroupStart());
      for (Replica& rep : replicas)
        NCCL_CHECK(
            ncclAllReduce(rep.grads, rep.grads, weights, nccl_type, ncclSum, rep.comm, rep.stream));
      NCCL_CHECK(ncclGroupEnd());
    }
    {
      Range r("optimizer");
      for (Replica& rep : replicas)
        trainer.Optimizer(rep, lr);
    }
    // The dataloader may refill the slot once its copies are done (pageable copies are by now);
    // the rest of the step stays queued on the GPU while the next one is prepared.
    for (cudaEvent_t e : slots[s].copied)
      CUDA_CHECK(cudaEventSynchronize(e));
    loader.Release(s);
    if (o.log_every > 0 && (step + 1) % o.log_every == 0) {
      Range r("log_loss");
      float loss = 0;
      CUDA_CHECK(cudaSetDevice(replicas[0].device));
      CUDA_CHECK(cudaMemcpyAsync(&loss, replicas[0].loss, sizeof loss, cudaMemcpyDeviceToHost,
                                 replicas[0].stream));
      CUDA_CHECK(cudaStreamSynchronize(replicas[0].stream));
      std::printf("step %d loss %.5f\n", step + 1, loss);
      std::fflush(stdout);
    }
  }
  for (Replica& rep : replicas) {
    CUDA_CHECK(cudaSetDevice(rep.device));
    CUDA_CHECK(cudaStreamSynchronize(rep.stream));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%d steps in %.2f s (%.1f ms/step), %zu GPU(s), %s, %s host buffers\n", o.steps,
              seconds, 1e3 * seconds / o.steps, replicas.size(), sizeof(T) == 2 ? "bf16" : "fp32",
              o.pinned ? "pinned" : "pageable");
  loader.Stop();
  for (Slot& s : slots) {
    if (o.pinned)
      cudaFreeHost(s.host);
    else
      std::free(s.host);
    for (cudaEvent_t e : s.copied)
      cudaEventDestroy(e);
  }
  for (Replica& rep : replicas) {
    cudaSetDevice(rep.device);
    if (rep.comm) ncclCommDestroy(rep.comm);
    cublasDestroy(rep.cublas);
    for (void* a : rep.acts)
      cudaFree(a);
    cudaFree(rep.weights);
    cudaFree(rep.grads);
    cudaFree(rep.grad_a);
    cudaFree(rep.grad_b);
    cudaFree(rep.input);
    cudaFree(rep.loss);
    cudaStreamDestroy(rep.stream);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  switch (ParseOptions(argc, argv, o)) {
    case 1:
      std::fputs(kUsage, stdout);
      return 0;
    case 2:
      return 2;
    default:
      break;
  }
  // Everything above runs without a GPU; CUDA starts here.
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || count == 0) {
    std::fprintf(stderr, "cuda_train: no CUDA device (%s)\n",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 1;
  }
  int use = 1;
  if (o.nccl) use = o.devices > 0 && o.devices < count ? o.devices : count;
  std::vector<Replica> replicas(use);
  std::vector<int> devices(use);
  for (int i = 0; i < use; ++i)
    replicas[i].device = devices[i] = i;
  if (o.nccl) {
    std::vector<ncclComm_t> comms(use);
    NCCL_CHECK(ncclCommInitAll(comms.data(), use, devices.data()));
    for (int i = 0; i < use; ++i)
      replicas[i].comm = comms[i];
  }
  MakeDataFile(o);
  return o.bf16 ? Train<__nv_bfloat16>(o, replicas) : Train<float>(o, replicas);
}
