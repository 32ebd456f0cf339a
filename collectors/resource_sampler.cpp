#include "resource_sampler.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <new>
#include <unistd.h>

#include "collector.h"
#include "log.h"
#include "raw_io.h"

namespace teye::collector {
namespace {

// The few NVML declarations the sampler uses (there is no nvml.h in the toolkit).
using NvmlReturn = int;
using NvmlDevice = void*;
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr int kNvmlClockSm = 1;

struct Nvml {
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*device_count)(unsigned int*) = nullptr;
  NvmlReturn (*handle_by_index)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned int) = nullptr;
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*) = nullptr;
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*clock)(NvmlDevice, int, unsigned int*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
};

struct GpuSlot {
  int cuda_id;
  NvmlDevice handle;
  std::string uuid;
};

class ResourceSampler : public Source {
 public:
  explicit ResourceSampler(Collector& c) : c_(c) {}

  void OnSample(int64_t now_ns) override {
    SampleProcess(now_ns);
    if (c_.config().nvml && !c_.is_forked_child()) SampleGpus(now_ns);
  }

  void OnForkChild() override {
    have_prev_ = false;
    have_prev_delay_ = false;
    gpus_.clear();  // NVML belongs to the parent
  }

 private:
  void Counter(CounterId id, int16_t device, int64_t now_ns, double value) {
    ThreadState* ts = c_.Thread();
    if (!ts) return;
    constexpr size_t size = RecordSize(sizeof(CounterRecord));
    auto* r = static_cast<CounterRecord*>(c_.Begin(ts, RecordType::kCounter, size, 0, kFlagTimeNs));
    if (!r) return;
    r->time = static_cast<uint64_t>(now_ns);
    r->id = id;
    r->device = device;
    r->pad = 0;
    r->value = value;
    c_.Commit(ts, size);
  }

  void SampleProcess(int64_t now_ns) {
    std::string text;
    uint64_t ticks = 0, rchar = 0, wchar = 0, pages = 0;
    const bool have_cpu =
        raw::ReadSmallFile("/proc/self/stat", text, 4096) && ParseProcStatCpuTicks(text, ticks);
    const bool have_io =
        raw::ReadSmallFile("/proc/self/io", text, 4096) && ParseProcIo(text, rchar, wchar);
    uint64_t run_delay_ns = 0;
    const bool have_delay = raw::ReadSmallFile("/proc/self/schedstat", text, 256) &&
                            ParseSchedstatRunDelay(text, run_delay_ns);
    if (raw::ReadSmallFile("/proc/self/statm", text, 1024) && ParseStatmResident(text, pages))
      Counter(CounterId::kHostRss, -1, now_ns, static_cast<double>(pages) * page_size_);
    if (have_prev_) {
      const double seconds = static_cast<double>(now_ns - prev_ns_) / 1e9;
      if (seconds > 0) {
        if (have_cpu && ticks >= prev_ticks_)
          Counter(CounterId::kCpuUtilization, -1, now_ns,
                  100.0 * static_cast<double>(ticks - prev_ticks_) / clk_tck_ / seconds);
        if (have_io && rchar >= prev_rchar_ && wchar >= prev_wchar_) {
          Counter(CounterId::kReadRate, -1, now_ns,
                  static_cast<double>(rchar - prev_rchar_) / seconds);
          Counter(CounterId::kWriteRate, -1, now_ns,
                  static_cast<double>(wchar - prev_wchar_) / seconds);
        }
        // Runnable but not running: the machine's cores were busy with other work.
        if (have_delay && have_prev_delay_ && run_delay_ns >= prev_run_delay_ns_)
          Counter(CounterId::kRunQueueWait, -1, now_ns,
                  100.0 * static_cast<double>(run_delay_ns - prev_run_delay_ns_) / 1e9 / seconds);
      }
    }
    have_prev_ = true;
    prev_ns_ = now_ns;
    prev_ticks_ = ticks;
    prev_rchar_ = rchar;
    prev_wchar_ = wchar;
    have_prev_delay_ = have_delay;
    prev_run_delay_ns_ = run_delay_ns;
  }

  bool InitNvml() {
    nvml_tried_ = true;
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib) {
      const char* err = dlerror();
      c_.SetNvmlStatus(std::string("unavailable: ") + (err ? err : "libnvidia-ml.so.1 not found"));
      Log("NVML is not available (%s): GPU utilization and memory samples are skipped",
          err ? err : "libnvidia-ml.so.1 not found");
      return false;
    }
    auto sym = [&](const char* name, auto& fn) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      return fn != nullptr;
    };
    if (!sym("nvmlInit_v2", nvml_.init) || !sym("nvmlDeviceGetCount_v2", nvml_.device_count) ||
        !sym("nvmlDeviceGetHandleByIndex_v2", nvml_.handle_by_index) ||
        !sym("nvmlDeviceGetUtilizationRates", nvml_.utilization) ||
        !sym("nvmlDeviceGetMemoryInfo", nvml_.memory) ||
        !sym("nvmlDeviceGetClockInfo", nvml_.clock)) {
      c_.SetNvmlStatus("unavailable: libnvidia-ml.so.1 lacks the functions teye uses");
      Log("NVML is too old or incomplete: GPU samples are skipped");
      return false;
    }
    sym("nvmlDeviceGetUUID", nvml_.uuid);
    sym("nvmlErrorString", nvml_.error_string);
    if (NvmlReturn r = nvml_.init(); r != 0) {
      const char* why = nvml_.error_string ? nvml_.error_string(r) : "error";
      c_.SetNvmlStatus(std::string("unavailable: nvmlInit: ") + why);
      Log("NVML is not available (nvmlInit: %s): GPU samples are skipped", why);
      return false;
    }
    unsigned int count = 0;
    if (nvml_.device_count(&count) != 0) count = 0;
    std::vector<NvmlDevice> handles;
    std::vector<std::string> uuids;
    for (unsigned int i = 0; i < count; ++i) {
      NvmlDevice h = nullptr;
      if (nvml_.handle_by_index(i, &h) != 0) h = nullptr;
      char uuid[96] = {};
      if (h && nvml_.uuid) nvml_.uuid(h, uuid, sizeof uuid - 1);
      handles.push_back(h);
      uuids.emplace_back(uuid);
    }
    // CUDA device i is the i-th entry of CUDA_VISIBLE_DEVICES: an NVML index or a UUID prefix.
    const std::vector<std::string> visible =
        ParseVisibleDevices(std::getenv("CUDA_VISIBLE_DEVICES"));
    if (visible.empty() && !std::getenv("CUDA_VISIBLE_DEVICES")) {
      for (unsigned int i = 0; i < count; ++i)
        if (handles[i]) gpus_.push_back(GpuSlot{static_cast<int>(i), handles[i], uuids[i]});
    } else {
      for (size_t cuda = 0; cuda < visible.size(); ++cuda) {
        const std::string& v = visible[cuda];
        for (unsigned int i = 0; i < count; ++i) {
          const bool match =
              (v.rfind("GPU-", 0) == 0) ? uuids[i].rfind(v, 0) == 0 : std::to_string(i) == v;
          if (match && handles[i])
            gpus_.push_back(GpuSlot{static_cast<int>(cuda), handles[i], uuids[i]});
        }
      }
    }
    c_.SetNvmlStatus("sampling " + std::to_string(gpus_.size()) + " GPU(s)");
    return true;
  }

  // CUPTI's device records carry UUIDs: once known, they decide which CUDA id each GPU has.
  void RemapByUuid() {
    const std::vector<DeviceProps> devices = c_.Devices();
    if (devices.size() == mapped_devices_) return;
    mapped_devices_ = devices.size();
    for (const DeviceProps& d : devices) {
      if (!d.has_uuid) continue;
      char uuid[48];
      const uint8_t* u = d.uuid;
      std::snprintf(uuid, sizeof uuid,
                    "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                    u[13], u[14], u[15]);
      for (GpuSlot& g : gpus_)
        if (g.uuid == uuid) g.cuda_id = d.id;
    }
  }

  void SampleGpus(int64_t now_ns) {
    if (!nvml_tried_ && !InitNvml()) return;
    if (gpus_.empty()) return;
    RemapByUuid();
    for (const GpuSlot& g : gpus_) {
      const auto device = static_cast<int16_t>(g.cuda_id);
      NvmlUtilization util{};
      if (nvml_.utilization(g.handle, &util) == 0) {
        Counter(CounterId::kGpuUtilization, device, now_ns, util.gpu);
        Counter(CounterId::kGpuMemoryUtilization, device, now_ns, util.memory);
      }
      NvmlMemory mem{};
      if (nvml_.memory(g.handle, &mem) == 0)
        Counter(CounterId::kGpuMemoryUsed, device, now_ns, static_cast<double>(mem.used));
      unsigned int mhz = 0;
      if (nvml_.clock(g.handle, kNvmlClockSm, &mhz) == 0)
        Counter(CounterId::kGpuSmClock, device, now_ns, mhz);
    }
  }

  Collector& c_;
  const double clk_tck_ =
      static_cast<double>(sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100);
  const double page_size_ =
      static_cast<double>(sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096);
  bool have_prev_ = false;
  int64_t prev_ns_ = 0;
  uint64_t prev_ticks_ = 0, prev_rchar_ = 0, prev_wchar_ = 0;
  bool have_prev_delay_ = false;
  uint64_t prev_run_delay_ns_ = 0;
  bool nvml_tried_ = false;
  Nvml nvml_;
  std::vector<GpuSlot> gpus_;
  size_t mapped_devices_ = 0;
};

bool ParseU64(std::string_view s, size_t& pos, uint64_t& out) {
  while (pos < s.size() && s[pos] == ' ')
    ++pos;
  if (pos >= s.size() || s[pos] < '0' || s[pos] > '9') return false;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
    v = v * 10 + static_cast<uint64_t>(s[pos++] - '0');
  out = v;
  return true;
}

}  // namespace

bool ParseProcStatCpuTicks(std::string_view stat, uint64_t& ticks) {
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses; fields after the last
  // ')' are state (3) ... utime (14), stime (15).
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return false;
  size_t pos = close + 1;
  int field = 2;
  uint64_t utime = 0, stime = 0;
  while (pos < stat.size() && field < 15) {
    while (pos < stat.size() && stat[pos] == ' ')
      ++pos;
    ++field;
    if (field == 14 || field == 15) {
      uint64_t v;
      if (!ParseU64(stat, pos, v)) return false;
      (field == 14 ? utime : stime) = v;
    } else {
      while (pos < stat.size() && stat[pos] != ' ')
        ++pos;
    }
  }
  if (field != 15) return false;
  ticks = utime + stime;
  return true;
}

bool ParseProcIo(std::string_view io, uint64_t& rchar, uint64_t& wchar) {
  bool have_r = false, have_w = false;
  size_t pos = 0;
  while (pos < io.size()) {
    size_t eol = io.find('\n', pos);
    if (eol == std::string_view::npos) eol = io.size();
    std::string_view line = io.substr(pos, eol - pos);
    size_t p = 7;
    if (line.rfind("rchar: ", 0) == 0) have_r = ParseU64(line, p, rchar);
    if (line.rfind("wchar: ", 0) == 0) have_w = ParseU64(line, p, wchar);
    pos = eol + 1;
  }
  return have_r && have_w;
}

bool ParseSchedstatRunDelay(std::string_view schedstat, uint64_t& run_delay_ns) {
  // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
  size_t pos = 0;
  uint64_t on_cpu;
  return ParseU64(schedstat, pos, on_cpu) && ParseU64(schedstat, pos, run_delay_ns);
}

bool ParseStatmResident(std::string_view statm, uint64_t& pages) {
  size_t pos = 0;
  uint64_t size;
  return ParseU64(statm, pos, size) && ParseU64(statm, pos, pages);
}

std::vector<std::string> ParseVisibleDevices(const char* value) {
  std::vector<std::string> out;
  if (!value) return out;
  std::string_view s(value);
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view item = s.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    // CUDA stops at the first invalid entry.
    const bool number =
        !item.empty() && item.find_first_not_of("0123456789") == std::string_view::npos;
    if (!number && item.rfind("GPU-", 0) != 0) break;
    out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

void AttachResourceSampler(Collector& c) {
  if (c.config().sample_ms == 0) return;
  if (auto* s = new (std::nothrow) ResourceSampler(c)) c.AddSource(s);
}

}  // namespace teye::collector
