// Periodic samples of the resources that tell a CPU-starved input pipeline from a GPU-bound job:
// the process's CPU utilisation, resident memory, read/write rates and how long its main thread
// waited for a CPU (from /proc), and each visible GPU's utilisation, memory in use and SM clock
// (NVML, loaded with dlopen; without a driver it is skipped with one message). Written as counter
// events (docs/trace-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace teye::collector {

class Collector;

// Registers the sampler with the collector (it runs on the background thread).
void AttachResourceSampler(Collector& c);

// Parsers, exposed for tests.
// utime + stime (clock ticks) from /proc/<pid>/stat text.
bool ParseProcStatCpuTicks(std::string_view stat, uint64_t& ticks);
// rchar / wchar from /proc/<pid>/io text.
bool ParseProcIo(std::string_view io, uint64_t& rchar, uint64_t& wchar);
// Time the thread waited on a run queue (ns) from /proc/<pid>/schedstat text.
bool ParseSchedstatRunDelay(std::string_view schedstat, uint64_t& run_delay_ns);
// Resident pages from /proc/<pid>/statm text.
bool ParseStatmResident(std::string_view statm, uint64_t& pages);
// CUDA_VISIBLE_DEVICES → entries in CUDA order: an NVML index ("3") or a UUID prefix
// ("GPU-8f6c..."). Empty (unset) means every device in NVML order.
std::vector<std::string> ParseVisibleDevices(const char* value);

}  // namespace teye::collector
