// The CUPTI range-profiler calls of counter mode, as a table of function pointers: the seam
// between the counter session (cupti_counters.cpp) and CUPTI (STYLE.md 8). LoadCounterApi fills
// it from the libcupti.so the backend loaded (and libcuda's context calls); tests fill it with
// fakes that take and return CUPTI's own parameter structs.
#pragma once

#include <cuda.h>
#include <cupti.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>
#include <string>

namespace teye::collector {

struct CounterApi {
  // Target side: the device and its context.
  CUptiResult (*profiler_initialize)(CUpti_Profiler_Initialize_Params*) = nullptr;
  CUptiResult (*get_chip_name)(CUpti_Device_GetChipName_Params*) = nullptr;
  CUptiResult (*get_counter_availability)(CUpti_Profiler_GetCounterAvailability_Params*) = nullptr;
  CUptiResult (*get_device_id)(CUcontext, uint32_t*) = nullptr;
  // Host side: metric names → config image; counter data → values.
  CUptiResult (*host_initialize)(CUpti_Profiler_Host_Initialize_Params*) = nullptr;
  CUptiResult (*host_deinitialize)(CUpti_Profiler_Host_Deinitialize_Params*) = nullptr;
  CUptiResult (*host_config_add_metrics)(CUpti_Profiler_Host_ConfigAddMetrics_Params*) = nullptr;
  CUptiResult (*host_get_config_image_size)(CUpti_Profiler_Host_GetConfigImageSize_Params*) =
      nullptr;
  CUptiResult (*host_get_config_image)(CUpti_Profiler_Host_GetConfigImage_Params*) = nullptr;
  CUptiResult (*host_get_num_passes)(CUpti_Profiler_Host_GetNumOfPasses_Params*) = nullptr;
  CUptiResult (*host_evaluate)(CUpti_Profiler_Host_EvaluateToGpuValues_Params*) = nullptr;
  // The range profiler (CUDA 12.6+).
  CUptiResult (*enable)(CUpti_RangeProfiler_Enable_Params*) = nullptr;
  CUptiResult (*disable)(CUpti_RangeProfiler_Disable_Params*) = nullptr;
  CUptiResult (*get_counter_data_size)(CUpti_RangeProfiler_GetCounterDataSize_Params*) = nullptr;
  CUptiResult (*counter_data_initialize)(CUpti_RangeProfiler_CounterDataImage_Initialize_Params*) =
      nullptr;
  CUptiResult (*set_config)(CUpti_RangeProfiler_SetConfig_Params*) = nullptr;
  CUptiResult (*start)(CUpti_RangeProfiler_Start_Params*) = nullptr;
  CUptiResult (*stop)(CUpti_RangeProfiler_Stop_Params*) = nullptr;
  CUptiResult (*decode)(CUpti_RangeProfiler_DecodeData_Params*) = nullptr;
  CUptiResult (*get_counter_data_info)(CUpti_RangeProfiler_GetCounterDataInfo_Params*) = nullptr;
  // Callbacks on the backend's subscriber (CUPTI allows one per process).
  CUptiResult (*enable_callback)(uint32_t, CUpti_SubscriberHandle, CUpti_CallbackDomain,
                                 CUpti_CallbackId) = nullptr;
  // libcuda: make a context current to stop and read the profiler from another thread.
  CUresult (*ctx_push_current)(CUcontext) = nullptr;
  CUresult (*ctx_pop_current)(CUcontext*) = nullptr;
};

// Resolves every call from `cupti_path` (already loaded by the backend) and libcuda. False with a
// reason when one is missing (a CUPTI older than the range profiler, CUDA < 12.6).
bool LoadCounterApi(CounterApi& api, const std::string& cupti_path, std::string& error);

}  // namespace teye::collector
