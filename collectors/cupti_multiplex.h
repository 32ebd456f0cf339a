// CUPTI shared between the collector and a profiler inside the job (torch.profiler's Kineto, a
// job's own CUPTI code). CUPTI has one callback subscriber and one pair of activity-buffer
// callbacks per process, and a second client that asks for them fails: torch.profiler then
// records no GPU activity at all ("CUPTI initialization failed - CUDA profiler activities will be
// missing"). The job's profiler must never be the one that loses.
//
// The preloaded library exports the CUPTI functions with which a client claims those resources
// (cupti_interpose.cpp); the job's calls come here, and the collector takes turns with the job:
// - subscriber: when the job subscribes, the collector gives the subscriber up (it used it only
//   to flush before a context is destroyed) and the job's call goes to CUPTI;
// - activity: when the job registers its buffer callbacks, the collector flushes its own buffers,
//   turns its activity kinds off and lets the job's registration through: while the job's
//   profiler records, it gets exactly what it would get without the collector, and the collector
//   records no GPU activity. When the job has turned all its kinds off (its profiler stopped) or
//   called cuptiFinalize(), the collector registers its callbacks again and turns its kinds back
//   on; a job buffer still in flight then reaches the collector, which reads it and gives it back;
// - timestamps: a job that registers a timestamp source (Kineto registers its TSC clock) changes
//   the clock of every later record; the collector maps that clock to CLOCK_REALTIME.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cupti.h>

namespace teye::collector::cupti {

// ---- The collector's side ----------------------------------------------------------------------

// The collector's activity callbacks, and how it turns its recording on and off (its activity
// kinds and per-API settings).
struct ActivityOwner {
  CUpti_BuffersCallbackRequestFunc request = nullptr;
  CUpti_BuffersCallbackCompleteFunc complete = nullptr;
  CUptiResult (*register_callbacks)(CUpti_BuffersCallbackRequestFunc,
                                    CUpti_BuffersCallbackCompleteFunc) = nullptr;
  CUptiResult (*flush_all)(uint32_t) = nullptr;
  void (*switch_on)() = nullptr;
  void (*switch_off)() = nullptr;
  // Told when the collector gives CUPTI to the job (true) and takes it back (false).
  void (*on_turn)(bool job_has_it) = nullptr;
};

// Whether a profiler in the job holds CUPTI's activity buffers now (called by CuptiStart before
// it registers its own: if so, it starts in the job's turn).
bool JobHoldsActivity();
// The collector records through CUPTI's activity API (or will, when the job's turn ends).
void EngageActivity(const ActivityOwner& owner, bool job_has_it);
// The collector holds the real subscriber; `unsubscribe` gives it up.
void EngageSubscriber(CUpti_SubscriberHandle ours,
                      CUptiResult (*unsubscribe)(CUpti_SubscriberHandle));

// Buffers the collector allocated, so that a completed buffer it did not allocate (the job's,
// in flight when the collector took its turn back) goes back to the job.
void NoteOwnBuffer(uint8_t* buffer);
bool ForgetOwnBuffer(uint8_t* buffer);  // true when it was the collector's
// Gives a job buffer back to the job's completion callback; false when there is none.
bool ReturnToJob(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t size,
                 size_t valid_size);

// The timestamp source the job registered (nullptr: CUPTI's own, CLOCK_REALTIME), and how many
// times it changed.
CUpti_TimestampCallbackFunc JobTimestampSource(uint32_t* generation);

// For the trace footer: how often and how long the job held CUPTI.
struct TurnStats {
  uint32_t turns = 0;
  int64_t ns = 0;
  bool subscriber_given = false;
};
TurnStats JobTurns();

// ---- The job's side (cupti_interpose.cpp forwards the exported functions here) ------------------

CUptiResult JobSubscribe(CUpti_SubscriberHandle* subscriber, CUpti_CallbackFunc callback,
                         void* userdata, void* params, bool v2);
CUptiResult JobActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc request,
                                         CUpti_BuffersCallbackCompleteFunc complete);
CUptiResult JobActivityEnable(CUpti_ActivityKind kind);
CUptiResult JobActivityDisable(CUpti_ActivityKind kind);
CUptiResult JobRegisterTimestampCallback(CUpti_TimestampCallbackFunc source);
CUptiResult JobFinalize();

}  // namespace teye::collector::cupti
