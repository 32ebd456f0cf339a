// The CUPTI functions with which a job's own profiler (torch.profiler's Kineto, NVIDIA's samples,
// a hand-written tool) claims CUPTI's one subscriber and its activity buffers, turns its
// recording on and off, and sets CUPTI's clock. Exported by the preloaded library, they come
// before libcupti's in the process and hand the job's calls to cupti_multiplex.h, which makes
// the collector step aside while the job's profiler records. Every other CUPTI function goes
// straight to libcupti.
#include <cupti.h>

#include "cupti_multiplex.h"

#define TEYE_EXPORT extern "C" __attribute__((visibility("default")))

using namespace teye::collector::cupti;

TEYE_EXPORT CUptiResult CUPTIAPI cuptiSubscribe(CUpti_SubscriberHandle* subscriber,
                                                CUpti_CallbackFunc callback, void* userdata) {
  return JobSubscribe(subscriber, callback, userdata, nullptr, false);
}

TEYE_EXPORT CUptiResult CUPTIAPI cuptiSubscribe_v2(CUpti_SubscriberHandle* subscriber,
                                                   CUpti_CallbackFunc callback, void* userdata,
                                                   CUpti_SubscriberParams* params) {
  return JobSubscribe(subscriber, callback, userdata, params, true);
}

TEYE_EXPORT CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(
    CUpti_BuffersCallbackRequestFunc request, CUpti_BuffersCallbackCompleteFunc complete) {
  return JobActivityRegisterCallbacks(request, complete);
}

TEYE_EXPORT CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind kind) {
  return JobActivityEnable(kind);
}

TEYE_EXPORT CUptiResult CUPTIAPI cuptiActivityDisable(CUpti_ActivityKind kind) {
  return JobActivityDisable(kind);
}

TEYE_EXPORT CUptiResult CUPTIAPI
cuptiActivityRegisterTimestampCallback(CUpti_TimestampCallbackFunc source) {
  return JobRegisterTimestampCallback(source);
}

TEYE_EXPORT CUptiResult CUPTIAPI cuptiFinalize(void) {
  return JobFinalize();
}
