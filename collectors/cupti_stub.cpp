// The CUPTI backend of a build without CUPTI (TEYE_WITH_CUPTI=OFF or no CUDA toolkit).
#include <atomic>

#include "collector.h"
#include "cupti_backend.h"
#include "log.h"

namespace teye::collector {

bool CuptiBuiltIn() {
  return false;
}

bool CuptiStart(Collector& c, const char* trigger) {
  static std::atomic<bool> said{false};
  if (said.exchange(true)) return false;
  c.SetCuptiStatus("unavailable: built without CUPTI");
  Log("CUDA is in use (%s) but this libteye_collector.so was built without CUPTI: GPU activity "
      "is not recorded; NVTX ranges, I/O and CPU samples still are",
      trigger);
  return false;
}

}  // namespace teye::collector
