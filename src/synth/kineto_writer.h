// Streams a PyTorch-profiler (Kineto) style Chrome trace: header, events, footer. Times are
// integer nanoseconds, written as microseconds with three decimals like Kineto does.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace teye::synth {

class KinetoWriter {
 public:
  explicit KinetoWriter(std::ostream& out) : out_(out) {}
  ~KinetoWriter();

  // `extra_top_level` is JSON text of further top-level members ("k": v, ...).
  void Begin(std::string_view extra_top_level);
  // One event object; `body` is the JSON text inside the braces (no leading comma).
  void Event(std::string_view body);
  void End(std::string_view trailing_top_level);

  int64_t events() const { return events_; }

  // "1234.567" from 1234567 ns.
  static std::string Micros(int64_t ns);
  static std::string Escape(std::string_view s);

 private:
  void FlushIfLarge();
  std::ostream& out_;
  std::string buffer_;
  int64_t events_ = 0;
};

}  // namespace teye::synth
