// Parses one Chrome trace event object into TraceBuilder calls, applying the Kineto dialect.
// Internal to the import library: simdjson types do not leave src/import/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "teye/model/trace_builder.h"

namespace teye::import {

class EventParser {
 public:
  explicit EventParser(TraceBuilder& builder) : builder_(builder) {}

  // Parses one element of the event array. Semantic problems (no `ph`, no `ts`, negative `dur`)
  // are counted in the builder's stats and return SUCCESS; only JSON syntax errors are returned,
  // so that a caller parsing a whole chunk can tell a broken chunk from a bad event.
  simdjson::error_code Parse(simdjson::ondemand::value element);

 private:
  struct IdValue {
    bool present = false;
    int64_t number = 0;
    std::string_view label;  // when written as a string
  };
  struct Args {
    bool has_device = false, has_stream = false;
    int64_t device = -1, stream = -1;
    int64_t correlation = 0, external_id = 0, bytes = 0;
    int64_t grid_blocks = 0, block_threads = 0, registers = 0, shared_memory = 0;
    std::string_view collective, dtype, group_name, algorithm, protocol;
    int64_t in_elems = 0, out_elems = 0, group_size = 0;
    std::string_view copy_kind, src_kind, dst_kind;
    std::string_view meta_name;  // `M` events: args.name
    std::string_view detail;     // teye I/O path or NVTX domain
    // `[memory]` instants
    int64_t mem_device_type = -1, mem_device_id = -1, mem_bytes = 0;
    int64_t total_allocated = -1, total_reserved = -1;
    bool has_mem_bytes = false;
    bool has_shapes = false;     // cpu_op arguments were recorded: EventParser::shapes_
    int64_t est_occupancy = -1;  // kernels: "est. achieved occupancy %"
  };
  struct Event {
    char ph = 0;
    std::string_view cat, name;
    std::string_view ts_token, dur_token;
    IdValue pid, tid, id;
    Args args;
  };

  simdjson::error_code ReadArgs(simdjson::ondemand::object args, Event& e);
  simdjson::error_code ReadShapeList(simdjson::ondemand::value v, Args& a, int which);
  void AddKernelCounters(const Event& e, const FileTime& ts);
  void Dispatch(Event& e);
  ThreadKey KeyOf(const Event& e) const;

  TraceBuilder& builder_;
  // The event being parsed: plain values and views, reset for each event.
  Event event_;
  // Its buffers, kept (with their capacity) from event to event and cleared for each:
  // `C` counters' and `cuda_profiler_range` kernel counters' numeric args,
  std::vector<std::pair<std::string, double>> numbers_;
  // cpu_op arguments (record_shapes=True) as compacted JSON text (see OpShapeRecord): Input Dims,
  // Input type, Input Strides, Concrete Inputs.
  std::string shapes_[4];
  std::string counter_name_;
  std::vector<CounterValue> counter_values_;
};

}  // namespace teye::import
