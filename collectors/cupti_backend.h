// The CUPTI backend: GPU activity (kernels, copies, memsets, synchronisation, CUDA runtime and
// driver calls, overhead, graphs, device properties) through CUPTI's activity API. CUPTI is
// loaded with dlopen when CUDA starts (InitializeInjection) or, for programs linked against CUDA,
// when the library loads; no CUPTI type leaves the backend's .cpp files.
//
// When the library was built without CUPTI, or CUPTI/the driver is missing (this is the case on
// machines without a GPU: cuptiActivityEnable fails), the collector says so once on stderr and
// records everything else.
#pragma once

namespace teye::collector {

class Collector;

// Whether this build has the CUPTI backend.
bool CuptiBuiltIn();

// Starts GPU activity recording once per process; later calls do nothing. `trigger` says who
// asked ("CUDA initialisation", "library load"). Returns whether CUPTI is recording.
bool CuptiStart(Collector& c, const char* trigger);

}  // namespace teye::collector
