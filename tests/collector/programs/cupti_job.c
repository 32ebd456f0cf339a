/* A job with its own CUPTI profiler, as torch.profiler's Kineto is: it subscribes, turns on the
 * runtime-API callback for kernel launches, sets CUPTI's clock to one of its own, registers
 * activity buffers, records kernels in a window, then ends its session with cuptiFinalize() and
 * launches more. Linked with the fake libcupti (fake_cupti.c). Its output must be the same with
 * teye's collector injected.
 *   cupti_job late    CUDA starts (and with it the collector's CUPTI) before the profiler
 *   cupti_job early   the profiler claims CUPTI before CUDA starts */
#define _GNU_SOURCE
#include <cupti.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fake_cupti_launch_kernel(const char* name);

static int g_tag;

/* The profiler's own clock, as Kineto registers the TSC: here half of CLOCK_REALTIME's ns. */
static uint64_t CUPTIAPI HalfClock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) / 2;
}
static int g_callbacks, g_wrong_userdata, g_kernels, g_other_records, g_buffers_out;

static void CUPTIAPI OnCallback(void* userdata, CUpti_CallbackDomain d, CUpti_CallbackId cbid,
                                const void* data) {
  (void)data;
  if (userdata != &g_tag) ++g_wrong_userdata;
  if (d == CUPTI_CB_DOMAIN_RUNTIME_API && cbid == CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000)
    ++g_callbacks;
}

static void CUPTIAPI OnRequest(uint8_t** buffer, size_t* size, size_t* max_records) {
  *size = 4096;
  *buffer = aligned_alloc(8, *size);
  *max_records = 0;
  ++g_buffers_out;
}

static void CUPTIAPI OnComplete(CUcontext c, uint32_t s, uint8_t* buffer, size_t size,
                                size_t valid) {
  (void)c;
  (void)s;
  (void)size;
  CUpti_Activity* r = NULL;
  while (cuptiActivityGetNextRecord(buffer, valid, &r) == CUPTI_SUCCESS) {
    if (r->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL &&
        strcmp(((CUpti_ActivityKernel10*)r)->name, "job_window_kernel") == 0)
      ++g_kernels;
    else
      ++g_other_records;
  }
  free(buffer);
  --g_buffers_out;
}

int main(int argc, char** argv) {
  const int early = argc > 1 && strcmp(argv[1], "early") == 0;
  int (*cuda_starts)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "InitializeInjection");
  if (!early && cuda_starts) {
    cuda_starts();
    for (int i = 0; i < 2; ++i)
      fake_cupti_launch_kernel("before_window_kernel");
  }

  CUpti_SubscriberHandle h = NULL;
  printf("subscribe %d\n", (int)cuptiSubscribe(&h, OnCallback, &g_tag));
  printf("enable callback %d\n",
         (int)cuptiEnableCallback(1, h, CUPTI_CB_DOMAIN_RUNTIME_API,
                                  CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000));
  printf("clock %d\n", (int)cuptiActivityRegisterTimestampCallback(HalfClock));
  printf("register %d\n", (int)cuptiActivityRegisterCallbacks(OnRequest, OnComplete));
  printf("enable kernels %d\n", (int)cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
  if (early && cuda_starts) cuda_starts();

  for (int i = 0; i < 5; ++i)
    fake_cupti_launch_kernel("job_window_kernel");
  cuptiActivityFlushAll(0);
  uint32_t state = 9;
  cuptiGetCallbackState(&state, h, CUPTI_CB_DOMAIN_RUNTIME_API,
                        CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000);
  printf("callback state %u\n", state);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  cuptiEnableCallback(0, h, CUPTI_CB_DOMAIN_RUNTIME_API,
                      CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000);
  printf("unsubscribe %d\n", (int)cuptiUnsubscribe(h));
  printf("finalize %d\n", (int)cuptiFinalize());

  for (int i = 0; i < 3; ++i)
    fake_cupti_launch_kernel("after_window_kernel");
  cuptiActivityFlushAll(0);
  printf("callbacks %d kernels %d other records %d wrong userdata %d buffers not returned %d\n",
         g_callbacks, g_kernels, g_other_records, g_wrong_userdata, g_buffers_out);
  return 0;
}
