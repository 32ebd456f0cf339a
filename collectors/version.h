// The collector's version, written into every trace ("teye": {"version": ...}).
#pragma once

#ifndef TEYE_COLLECTOR_VERSION
#define TEYE_COLLECTOR_VERSION "0.0.0"
#endif

namespace teye::collector {
inline constexpr const char* kCollectorVersion = TEYE_COLLECTOR_VERSION;
}
