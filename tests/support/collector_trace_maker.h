// Builds small traces in the dialect of teye's collector for analyzer tests: processes with
// DataLoader ranges, `io` calls, counter samples and a `teye` footer. Times in milliseconds.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "teye/import/read_trace.h"

namespace teye::test {

class CollectorTraceMaker {
 public:
  explicit CollectorTraceMaker(int cpus = 0) : cpus_(cpus) {}

  CollectorTraceMaker& Range(std::string_view cat, std::string_view name, int64_t pid, double ms,
                             double dur_ms, int64_t tid = -1) {
    Add(fmt::format(R"({{"ph":"X","cat":"{}","name":"{}","pid":{},"tid":{},"ts":{},"dur":{}}})",
                    cat, name, pid, tid < 0 ? pid : tid, ms * 1000, dur_ms * 1000));
    return *this;
  }
  CollectorTraceMaker& Loader(int64_t pid, double ms, double dur_ms, bool workers = false) {
    return Range("dataloader",
                 workers ? "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__"
                         : "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__",
                 pid, ms, dur_ms);
  }
  CollectorTraceMaker& Io(std::string_view call, int64_t pid, double ms, double dur_ms,
                          int64_t bytes, std::string_view path = {}) {
    const std::string path_arg = path.empty() ? "" : fmt::format(R"(,"path":"{}")", path);
    Add(fmt::format(R"({{"ph":"X","cat":"io","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},)"
                    R"("args":{{"fd":7,"bytes":{}{}}}}})",
                    call, pid, pid, ms * 1000, dur_ms * 1000, bytes, path_arg));
    return *this;
  }
  CollectorTraceMaker& Counter(std::string_view name, int64_t pid, double ms, double value) {
    Add(fmt::format(R"({{"ph":"C","name":"{}","pid":{},"tid":0,"ts":{},"args":{{"value":{}}}}})",
                    name, pid, ms * 1000, value));
    return *this;
  }
  CollectorTraceMaker& Raw(std::string event) {
    Add(std::move(event));
    return *this;
  }
  // deviceProperties for device 0 with this much memory.
  CollectorTraceMaker& Device(int64_t total_bytes) {
    device_ = fmt::format(
        R"("deviceProperties":[{{"id":0,"name":"NVIDIA H100 80GB HBM3","totalGlobalMem":{},)"
        R"("computeMajor":9,"computeMinor":0,"numSms":132}}],)",
        total_bytes);
    return *this;
  }

  std::string Json() const {
    std::string s = "{" + device_ + R"("traceEvents":[)";
    for (size_t i = 0; i < events_.size(); ++i)
      s += (i ? "," : "") + events_[i];
    s += R"(],"teye":{"version":"0.1.0","producer":"libteye_collector")";
    if (cpus_ > 0) s += fmt::format(R"(,"cpus":{})", cpus_);
    return s + "}}";
  }
  Trace Build() const {
    auto r = ReadTraceBytes("collector.json", Json());
    if (!r.ok()) throw std::runtime_error(r.error().ToString());
    return std::move(r.value());
  }

 private:
  void Add(std::string e) { events_.push_back(std::move(e)); }
  int cpus_ = 0;
  std::string device_;
  std::vector<std::string> events_;
};

}  // namespace teye::test
