// Builds small Kineto-style traces in code for analyzer tests: a host thread with ranges and
// launches, and device activity linked by correlation ids. Times in microseconds.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "teye/import/read_trace.h"

namespace teye::test {

class TraceMaker {
 public:
  // Host range on thread `tid`.
  TraceMaker& Host(std::string_view cat, std::string_view name, double ts, double dur,
                   int tid = 1) {
    Add(fmt::format(R"({{"ph":"X","cat":"{}","name":"{}","pid":1,"tid":{},"ts":{},"dur":{}}})", cat,
                    name, tid, ts, dur));
    return *this;
  }
  // A cudaLaunchKernel at `launch_ts` and its kernel at [ts, ts+dur) on `stream`.
  TraceMaker& Kernel(std::string_view name, double ts, double dur, double launch_ts = -1,
                     int stream = 7, int tid = 1, std::string_view extra_args = {}) {
    const int corr = next_correlation_++;
    if (launch_ts >= 0) {
      Add(fmt::format(R"({{"ph":"X","cat":"cuda_runtime","name":"cudaLaunchKernel","pid":1,)"
                      R"("tid":{},"ts":{},"dur":2,"args":{{"correlation":{}}}}})",
                      tid, launch_ts, corr));
    }
    std::string extra = extra_args.empty() ? "" : "," + std::string(extra_args);
    Add(fmt::format(R"({{"ph":"X","cat":"kernel","name":"{}","pid":0,"tid":{},"ts":{},"dur":{},)"
                    R"("args":{{"device":0,"stream":{},"correlation":{}{}}}}})",
                    name, stream, ts, dur, stream, corr, extra));
    return *this;
  }
  TraceMaker& Memcpy(std::string_view name, double ts, double dur, int64_t bytes,
                     double launch_ts = -1, double api_dur = 2,
                     std::string_view api = "cudaMemcpyAsync") {
    const int corr = next_correlation_++;
    if (launch_ts >= 0) {
      Add(fmt::format(R"({{"ph":"X","cat":"cuda_runtime","name":"{}","pid":1,"tid":1,"ts":{},)"
                      R"("dur":{},"args":{{"correlation":{}}}}})",
                      api, launch_ts, api_dur, corr));
    }
    Add(fmt::format(R"({{"ph":"X","cat":"gpu_memcpy","name":"{}","pid":0,"tid":7,"ts":{},)"
                    R"("dur":{},"args":{{"device":0,"stream":7,"correlation":{},"bytes":{}}}}})",
                    name, ts, dur, corr, bytes));
    return *this;
  }
  TraceMaker& Raw(std::string event) {
    Add(std::move(event));
    return *this;
  }
  std::string Json() const {
    std::string s =
        R"({"schemaVersion":1,"deviceProperties":[{"id":0,"name":"NVIDIA A100-SXM4-80GB","totalGlobalMem":85899345920,"computeMajor":8,"computeMinor":0,"numSms":108}],"traceEvents":[)";
    for (size_t i = 0; i < events_.size(); ++i)
      s += (i ? "," : "") + events_[i];
    return s + "]}";
  }
  Trace Build() const {
    auto r = ReadTraceBytes("made.json", Json());
    if (!r.ok()) throw std::runtime_error(r.error().ToString());
    return std::move(r.value());
  }

 private:
  void Add(std::string e) { events_.push_back(std::move(e)); }
  std::vector<std::string> events_;
  int next_correlation_ = 1;
};

}  // namespace teye::test
