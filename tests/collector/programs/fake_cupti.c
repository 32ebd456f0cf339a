/* A stand-in libcupti.so.13 for machines without a GPU: the calls a profiler uses to claim CUPTI
 * (one subscriber, one pair of buffer callbacks), with CUPTI's rules for them, and records in
 * CUDA 13's layouts. fake_cupti_launch_kernel() plays a kernel launch as CUDA and CUPTI would
 * report it: runtime-API callbacks to the subscriber, then an API and a kernel record in the
 * current activity buffer. Used by the collector's tests of a profiler inside the job
 * (cupti_job.c). */
#define _GNU_SOURCE
#include <cupti.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define HANDLE ((CUpti_SubscriberHandle)0x5ca1ab1e)
#define MAX_CBID 1024

static int g_subscribed;
static CUpti_CallbackFunc g_callback;
static void* g_userdata;
static unsigned char g_enabled[CUPTI_CB_DOMAIN_SIZE][MAX_CBID];
static CUpti_BuffersCallbackRequestFunc g_request;
static CUpti_BuffersCallbackCompleteFunc g_complete;
static unsigned char g_kinds[256];
static uint8_t* g_buffer;
static size_t g_size, g_used;
static uint32_t g_correlation;
static CUpti_TimestampCallbackFunc g_clock;
static unsigned char g_runtime_off[MAX_CBID];

static uint64_t Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Records are stamped with the registered timestamp source, else CLOCK_REALTIME. */
static uint64_t Stamp(void) {
  return g_clock ? g_clock() : Now();
}

static size_t RawSize(CUpti_ActivityKind kind) {
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_RUNTIME:
      return sizeof(CUpti_ActivityAPI);
    case CUPTI_ACTIVITY_KIND_DEVICE:
      return sizeof(CUpti_ActivityDevice5);
    default:
      return sizeof(CUpti_ActivityKernel10);
  }
}

static size_t RecordSize(CUpti_ActivityKind kind) {
  return (RawSize(kind) + 7) & ~(size_t)7;
}

static void Complete(void) {
  if (g_buffer && g_complete) g_complete(NULL, 0, g_buffer, g_size, g_used);
  g_buffer = NULL;
  g_size = g_used = 0;
}

static void Append(const void* record, CUpti_ActivityKind kind) {
  const size_t n = RecordSize(kind);
  if (g_buffer && g_used + n > g_size) Complete();
  if (!g_buffer) {
    size_t max_records = 0;
    if (!g_request) return;
    g_request(&g_buffer, &g_size, &max_records);
    g_used = 0;
    if (!g_buffer || g_size < n) {
      g_buffer = NULL;
      return;
    }
  }
  memset(g_buffer + g_used, 0, n);
  memcpy(g_buffer + g_used, record,
         kind == CUPTI_ACTIVITY_KIND_RUNTIME ? sizeof(CUpti_ActivityAPI)
                                             : sizeof(CUpti_ActivityKernel10));
  g_used += n;
}

EXPORT CUptiResult cuptiSubscribe(CUpti_SubscriberHandle* h, CUpti_CallbackFunc cb, void* ud) {
  if (!h) return CUPTI_ERROR_INVALID_PARAMETER;
  if (g_subscribed) return CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
  g_subscribed = 1;
  g_callback = cb;
  g_userdata = ud;
  *h = HANDLE;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiSubscribe_v2(CUpti_SubscriberHandle* h, CUpti_CallbackFunc cb, void* ud,
                                     CUpti_SubscriberParams* params) {
  (void)params;
  return cuptiSubscribe(h, cb, ud);
}

EXPORT CUptiResult cuptiUnsubscribe(CUpti_SubscriberHandle h) {
  if (h != HANDLE || !g_subscribed) return CUPTI_ERROR_INVALID_PARAMETER;
  g_subscribed = 0;
  memset(g_enabled, 0, sizeof g_enabled);
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiEnableCallback(uint32_t enable, CUpti_SubscriberHandle h,
                                       CUpti_CallbackDomain d, CUpti_CallbackId cbid) {
  if (h != HANDLE || !g_subscribed || d >= CUPTI_CB_DOMAIN_SIZE || cbid >= MAX_CBID)
    return CUPTI_ERROR_INVALID_PARAMETER;
  g_enabled[d][cbid] = enable != 0;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiEnableDomain(uint32_t enable, CUpti_SubscriberHandle h,
                                     CUpti_CallbackDomain d) {
  if (h != HANDLE || !g_subscribed || d >= CUPTI_CB_DOMAIN_SIZE)
    return CUPTI_ERROR_INVALID_PARAMETER;
  memset(g_enabled[d], enable != 0, MAX_CBID);
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiEnableAllDomains(uint32_t enable, CUpti_SubscriberHandle h) {
  for (int d = 1; d < CUPTI_CB_DOMAIN_SIZE; ++d) {
    CUptiResult r = cuptiEnableDomain(enable, h, (CUpti_CallbackDomain)d);
    if (r != CUPTI_SUCCESS) return r;
  }
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiGetCallbackState(uint32_t* enable, CUpti_SubscriberHandle h,
                                         CUpti_CallbackDomain d, CUpti_CallbackId cbid) {
  if (!enable || h != HANDLE || d >= CUPTI_CB_DOMAIN_SIZE || cbid >= MAX_CBID)
    return CUPTI_ERROR_INVALID_PARAMETER;
  *enable = g_enabled[d][cbid];
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc request,
                                                  CUpti_BuffersCallbackCompleteFunc complete) {
  if (!request || !complete) return CUPTI_ERROR_INVALID_PARAMETER;
  g_request = request;
  g_complete = complete;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityEnable(CUpti_ActivityKind kind) {
  if ((unsigned)kind >= 256) return CUPTI_ERROR_INVALID_KIND;
  g_kinds[kind] = 1;
  if (kind == CUPTI_ACTIVITY_KIND_RUNTIME) memset(g_runtime_off, 0, sizeof g_runtime_off);
  if (kind == CUPTI_ACTIVITY_KIND_DEVICE) {
    /* As the real CUPTI does, a device record at once: a buffer is requested inside this call. */
    CUpti_ActivityDevice5 d;
    memset(&d, 0, sizeof d);
    d.kind = CUPTI_ACTIVITY_KIND_DEVICE;
    d.name = "Fake GPU";
    d.numMultiprocessors = 4;
    d.computeCapabilityMajor = 9;
    Append(&d, CUPTI_ACTIVITY_KIND_DEVICE);
  }
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityDisable(CUpti_ActivityKind kind) {
  if ((unsigned)kind >= 256) return CUPTI_ERROR_INVALID_KIND;
  g_kinds[kind] = 0;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityRegisterTimestampCallback(CUpti_TimestampCallbackFunc f) {
  g_clock = f;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityEnableRuntimeApi(CUpti_CallbackId cbid, uint8_t enable) {
  if (cbid >= MAX_CBID) return CUPTI_ERROR_INVALID_PARAMETER;
  g_runtime_off[cbid] = !enable;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityEnableDriverApi(CUpti_CallbackId cbid, uint8_t enable) {
  (void)enable;
  return cbid < MAX_CBID ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
}

EXPORT CUptiResult cuptiActivityFlushAll(uint32_t flag) {
  (void)flag;
  Complete();
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiFinalize(void) {
  Complete();
  g_subscribed = 0;
  memset(g_enabled, 0, sizeof g_enabled);
  memset(g_kinds, 0, sizeof g_kinds);
  g_request = NULL;
  g_complete = NULL;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityGetNextRecord(uint8_t* buffer, size_t valid, CUpti_Activity** r) {
  if (!buffer || !r) return CUPTI_ERROR_INVALID_PARAMETER;
  size_t offset = 0;
  if (*r) offset = (size_t)((uint8_t*)*r - buffer) + RecordSize((*r)->kind);
  if (offset >= valid) return CUPTI_ERROR_MAX_LIMIT_REACHED;
  *r = (CUpti_Activity*)(buffer + offset);
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiActivityGetNumDroppedRecords(CUcontext c, uint32_t s, size_t* n) {
  (void)c;
  (void)s;
  if (n) *n = 0;
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiGetTimestamp(uint64_t* t) {
  if (!t) return CUPTI_ERROR_INVALID_PARAMETER;
  *t = Now();
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiGetResultString(CUptiResult r, const char** s) {
  (void)r;
  if (s) *s = "fake CUPTI result";
  return CUPTI_SUCCESS;
}

EXPORT CUptiResult cuptiGetCallbackName(CUpti_CallbackDomain d, uint32_t cbid, const char** n) {
  if (!n) return CUPTI_ERROR_INVALID_PARAMETER;
  *n = d == CUPTI_CB_DOMAIN_RUNTIME_API && cbid == CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000
           ? "cudaLaunchKernel_v7000"
           : NULL;
  return *n ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
}

EXPORT CUptiResult cuptiGetVersion(uint32_t* v) {
  if (v) *v = CUPTI_API_VERSION;
  return CUPTI_SUCCESS;
}

/* One kernel launch, reported as CUDA and CUPTI would. */
EXPORT void fake_cupti_launch_kernel(const char* name) {
  const uint32_t correlation = ++g_correlation;
  const CUpti_CallbackId cbid = CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000;
  if (g_subscribed && g_callback && g_enabled[CUPTI_CB_DOMAIN_RUNTIME_API][cbid]) {
    CUpti_CallbackData data;
    memset(&data, 0, sizeof data);
    data.functionName = "cudaLaunchKernel";
    data.correlationId = correlation;
    data.callbackSite = CUPTI_API_ENTER;
    g_callback(g_userdata, CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &data);
    data.callbackSite = CUPTI_API_EXIT;
    g_callback(g_userdata, CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &data);
  }
  const uint64_t t = Stamp();
  if (g_kinds[CUPTI_ACTIVITY_KIND_RUNTIME] && !g_runtime_off[cbid]) {
    CUpti_ActivityAPI api;
    memset(&api, 0, sizeof api);
    api.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
    api.cbid = cbid;
    api.start = t;
    api.end = t + 2000;
    api.processId = (uint32_t)getpid();
    api.threadId = (uint32_t)syscall(SYS_gettid);
    api.correlationId = correlation;
    Append(&api, CUPTI_ACTIVITY_KIND_RUNTIME);
  }
  if (g_kinds[CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL] || g_kinds[CUPTI_ACTIVITY_KIND_KERNEL]) {
    CUpti_ActivityKernel10 k;
    memset(&k, 0, sizeof k);
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.start = t + 5000;
    k.end = t + 15000;
    k.name = name;
    k.correlationId = correlation;
    k.contextId = 1;
    k.streamId = 7;
    k.gridX = k.gridY = k.gridZ = k.blockX = k.blockY = k.blockZ = 1;
    Append(&k, CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  }
}
