// The CUPTI calls the collector makes, as a table of function pointers: the seam between the
// collector and CUPTI (STYLE.md 8). The backend fills it from libcupti.so with dlsym; tests fill
// it with fakes, or with the real libcupti's record iterator, and feed activity buffers through
// the same OnBufferCompleted the real callbacks use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cupti.h>
#include <string>

namespace teye::collector {

class Collector;

struct CuptiApi {
  CUptiResult (*activity_register_callbacks)(CUpti_BuffersCallbackRequestFunc,
                                             CUpti_BuffersCallbackCompleteFunc) = nullptr;
  CUptiResult (*activity_enable)(CUpti_ActivityKind) = nullptr;
  CUptiResult (*activity_disable)(CUpti_ActivityKind) = nullptr;
  CUptiResult (*activity_get_next_record)(uint8_t*, size_t, CUpti_Activity**) = nullptr;
  CUptiResult (*activity_get_num_dropped_records)(CUcontext, uint32_t, size_t*) = nullptr;
  CUptiResult (*activity_flush_all)(uint32_t) = nullptr;
  CUptiResult (*get_timestamp)(uint64_t*) = nullptr;
  CUptiResult (*get_result_string)(CUptiResult, const char**) = nullptr;
  CUptiResult (*get_callback_name)(CUpti_CallbackDomain, uint32_t, const char**) = nullptr;
  CUptiResult (*subscribe)(CUpti_SubscriberHandle*, CUpti_CallbackFunc, void*) = nullptr;
  CUptiResult (*enable_callback)(uint32_t, CUpti_SubscriberHandle, CUpti_CallbackDomain,
                                 CUpti_CallbackId) = nullptr;
  CUptiResult (*unsubscribe)(CUpti_SubscriberHandle) = nullptr;
  CUptiResult (*get_version)(uint32_t*) = nullptr;
};

// Loads libcupti (TEYE_CUPTI_LIBRARY, an already loaded copy, the usual names, the toolkit the
// collector was built with). False with a reason when it cannot.
bool LoadCuptiApi(CuptiApi& api, std::string& where, std::string& error);

namespace cupti {

// The activity-buffer callbacks registered with CUPTI (buffers are malloc'ed by the first and
// freed by the second).
void CUPTIAPI OnBufferRequested(uint8_t** buffer, size_t* size, size_t* max_num_records);
void CUPTIAPI OnBufferCompleted(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t size,
                                size_t valid_size);

// Tests: routes OnBufferCompleted to `c` through `api`, with CUPTI time + offset_ns = host time.
void InstallForTest(Collector& c, const CuptiApi& api, int64_t offset_ns = 0);

}  // namespace cupti
}  // namespace teye::collector
