// A job instrumented with the NVTX 3 headers, for the injection tests: push/pop (nested and
// unbalanced), start/end across threads, marks, domains with registered strings, wide strings,
// named threads and many threads at once.
#include <cstdio>
#include <nvtx3/nvToolsExt.h>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 100;
  nvtxNameOsThreadA(static_cast<uint32_t>(syscall(SYS_gettid)), "main-trainer");
  nvtxRangePushA("outer");
  nvtxRangePushA("inner");
  nvtxMarkA("marker");
  nvtxRangePop();
  nvtxRangePop();
  nvtxRangePop();  // one pop too many
  nvtxRangePushW(L"wide \u00e9t\u00e9");
  nvtxRangePop();

  nvtxDomainHandle_t domain = nvtxDomainCreateA("teye.test");
  nvtxStringHandle_t step = nvtxDomainRegisterStringA(domain, "registered step");
  nvtxEventAttributes_t a = {};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = step;
  a.colorType = NVTX_COLOR_ARGB;
  a.color = 0xff336699;
  a.payloadType = NVTX_PAYLOAD_TYPE_UNSIGNED_INT64;
  a.payload.ullValue = 12345;
  nvtxDomainRangePushEx(domain, &a);
  nvtxDomainRangePop(domain);

  nvtxRangeId_t io = nvtxRangeStartA("cross-thread range");
  std::thread ender([io] { nvtxRangeEnd(io); });
  ender.join();

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([t, rounds] {
      const std::string name = "worker " + std::to_string(t);
      for (int r = 0; r < rounds; ++r) {
        nvtxRangePushA(name.c_str());
        nvtxRangePushA("compute");
        nvtxRangePushA("kernel-ish");
        nvtxRangePop();
        nvtxRangePop();
        nvtxRangePop();
      }
    });
  }
  for (auto& th : pool)
    th.join();
  nvtxRangePushA("never closed");
  std::printf("done\n");
  return 0;
}
