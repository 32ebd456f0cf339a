// How the event array is read
// ---------------------------
// A trace is mostly one JSON array of small objects. Parsing it as one document is slow (the
// structural index of a GB-sized document does not stay in cache) and single-threaded, so the
// array is cut into chunks of about ReadOptions::chunk_bytes at speculative boundaries: a `}`,
// a comma and a `{`. A boundary inside a string or a nested object is possible, but then the
// text between it and its neighbours cannot be a valid array of values: the enclosing string or
// event is left open on one side and closed on the other. So each chunk is parsed on its own
// (as "[" chunk "]") in parallel, and a chunk whose parse fails or does not consume all of it
// is discarded and re-read by the tolerant scanner from the last verified boundary. The
// tolerant scanner also reads the last chunk, where the array ends (or the file was cut).
#include "chrome_json_reader.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "event_array.h"
#include "json_scanner.h"

namespace teye::import {
namespace {

std::optional<nlohmann::json> ParseSmallJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

int64_t JsonInt(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

// Top-level keys other than traceEvents. Bad values are warnings, not errors.
void HandleTopLevel(std::string_view key, std::string_view value, TraceBuilder& builder) {
  TraceInfo& info = builder.info();
  auto warn = [&](std::string_view what) {
    builder.stats().warnings.push_back("ignored malformed top-level \"" + std::string(key) +
                                       "\": " + std::string(what));
  };
  if (key == "displayTimeUnit" || key == "traceName") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_string()) return warn("expected a string");
    (key == "displayTimeUnit" ? info.display_time_unit : info.trace_name) = j->get<std::string>();
  } else if (key == "schemaVersion") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_number()) return warn("expected a number");
    info.schema_version = static_cast<int>(j->get<double>());
    if (info.producer.empty()) info.producer = "pytorch-profiler";
  } else if (key == "baseTimeNanoseconds") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_number()) return warn("expected a number");
    info.file_time_zero_ns =
        j->is_number_unsigned() ? static_cast<int64_t>(j->get<uint64_t>()) : j->get<int64_t>();
  } else if (key == "deviceProperties") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_array()) return warn("expected an array");
    for (const auto& d : *j) {
      if (!d.is_object()) continue;
      DeviceInfo dev;
      dev.id = static_cast<int>(JsonInt(d, "id", -1));
      dev.name = JsonString(d, "name");
      dev.total_global_mem = JsonInt(d, "totalGlobalMem", 0);
      dev.compute_major = static_cast<int>(JsonInt(d, "computeMajor", 0));
      dev.compute_minor = static_cast<int>(JsonInt(d, "computeMinor", 0));
      dev.num_sms = static_cast<int>(JsonInt(d, "numSms", 0));
      dev.max_threads_per_sm = static_cast<int>(JsonInt(d, "maxThreadsPerMultiprocessor", 0));
      dev.warp_size = static_cast<int>(JsonInt(d, "warpSize", 0));
      dev.max_threads_per_block = static_cast<int>(JsonInt(d, "maxThreadsPerBlock", 0));
      dev.regs_per_block = static_cast<int>(JsonInt(d, "regsPerBlock", 0));
      dev.regs_per_sm = static_cast<int>(JsonInt(d, "regsPerMultiprocessor", 0));
      dev.shared_mem_per_block = static_cast<int>(JsonInt(d, "sharedMemPerBlock", 0));
      dev.shared_mem_per_block_optin = static_cast<int>(JsonInt(d, "sharedMemPerBlockOptin", 0));
      dev.shared_mem_per_sm = static_cast<int>(JsonInt(d, "sharedMemPerMultiprocessor", 0));
      dev.max_blocks_per_sm = static_cast<int>(JsonInt(d, "maxBlocksPerMultiprocessor", 0));
      dev.clock_khz = static_cast<int>(JsonInt(d, "clockRate", 0));
      dev.memory_gbps = static_cast<double>(JsonInt(d, "memoryBandwidthKBps", 0)) / 1e6;
      builder.AddDevice(std::move(dev));
    }
  } else if (key == "distributedInfo") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_object()) return warn("expected an object");
    DistributedInfo dist;
    dist.rank = static_cast<int>(JsonInt(*j, "rank", -1));
    dist.world_size = static_cast<int>(JsonInt(*j, "world_size", 0));
    dist.backend = JsonString(*j, "backend");
    dist.nccl_version = JsonString(*j, "nccl_version");
    builder.SetDistributed(std::move(dist));
  } else if (key == "teye_collector") {  // the collector's first key: also in a cut-off file
    auto j = ParseSmallJson(value);
    if (!j || !j->is_string()) return warn("expected a string");
    info.producer = "teye-collector";
    info.teye_version = j->get<std::string>();
  } else if (key == "teye") {
    auto j = ParseSmallJson(value);
    if (!j || !j->is_object()) return warn("expected an object");
    info.producer = "teye-collector";
    info.teye_version = JsonString(*j, "version");
    info.host_cpus = static_cast<int>(std::max<int64_t>(0, JsonInt(*j, "cpus", 0)));
    ProcessInfo process;
    process.pid = JsonInt(*j, "pid", 0);
    process.parent_pid = JsonInt(*j, "ppid", 0);
    process.forked = JsonInt(*j, "forked_from", 0) != 0;
    process.command = JsonString(*j, "command");
    process.end_reason = JsonString(*j, "end_reason");
    process.file = info.path;
    if (process.pid > 0) info.processes = {std::move(process)};
    int rank = static_cast<int>(JsonInt(*j, "rank", -1));
    if (rank >= 0) {
      DistributedInfo dist;
      dist.rank = rank;
      dist.world_size = static_cast<int>(JsonInt(*j, "world_size", 0));
      builder.SetDistributed(std::move(dist));
    }
  }
}

std::string Describe(std::string_view s, size_t pos) {
  if (pos >= s.size()) return "end of input";
  unsigned char c = static_cast<unsigned char>(s[pos]);
  char buf[32];
  if (c >= 0x20 && c < 0x7f)
    std::snprintf(buf, sizeof buf, "'%c'", c);
  else
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  return buf;
}

}  // namespace

std::optional<Error> ParseChromeJson(const InputBuffer& input, const std::string& name,
                                     const ReadOptions& options, TraceBuilder& builder) {
  ScopedPhase read(options.timings, "read");
  // A gzip input is still arriving while it is read (InputBuffer::Prefix): `s` is what is there
  // so far, and a step that finds it too short asks for more and starts again.
  std::string_view s = input.Prefix(size_t{1} << 20);
  auto more = [&] {
    if (input.complete() && s.size() == input.view().size()) return false;
    s = input.complete() ? input.view() : input.Prefix(s.size() * 2 + 4096);
    return true;
  };
  builder.SetTimeUnit(options.time_unit);
  TraceInfo& info = builder.info();
  info.path = name;
  info.gzip = input.gzip;
  info.bytes_on_disk = input.bytes_on_disk;

  size_t pos = SkipWhitespace(s, 0);
  if (s.substr(pos, 3) == "\xEF\xBB\xBF") pos = SkipWhitespace(s, pos + 3);  // UTF-8 BOM
  bool found_events = false;
  bool array_closed = false;

  if (pos < s.size() && s[pos] == '[') {
    info.format = "chrome-json-array";
    found_events = true;
    array_closed = ParseEventArray(input, pos, builder, options).closed;
  } else if (pos < s.size() && s[pos] == '{') {
    info.format = "chrome-json-object";
    ++pos;
    while (true) {
      // Each pass reads one key and its value from `pos`, which moves only when it is done.
      const size_t item = pos;
      pos = SkipWhitespace(s, pos);
      if (pos >= s.size()) {
        if (more()) {
          pos = item;
          continue;
        }
        break;  // cut short after the events: what we have is fine
      }
      if (s[pos] == '}') break;
      if (s[pos] != '"') {
        if (!found_events)
          return Error{"expected a key string in the top-level object, found " + Describe(s, pos),
                       name, static_cast<int64_t>(pos)};
        builder.stats().warnings.push_back("malformed JSON after the event array at byte " +
                                           std::to_string(pos) + "; ignored the rest");
        break;
      }
      size_t key_end = ScanStringEnd(s, pos);
      if (key_end == kNotFound || SkipWhitespace(s, key_end) >= s.size()) {
        if (more()) {
          pos = item;
          continue;
        }
        if (key_end == kNotFound) break;
      }
      std::string_view key = s.substr(pos + 1, key_end - pos - 2);
      pos = SkipWhitespace(s, key_end);
      if (pos >= s.size() || s[pos] != ':') {
        if (!found_events)
          return Error{"expected ':' after top-level key \"" + std::string(key) + "\", found " +
                           Describe(s, pos),
                       name, static_cast<int64_t>(pos)};
        break;
      }
      const size_t value = SkipWhitespace(s, pos + 1);
      if (value >= s.size() && more()) {
        pos = item;
        continue;
      }
      pos = value;
      if (key == "traceEvents") {
        if (pos >= s.size() || s[pos] != '[')
          return Error{"\"traceEvents\" must be an array, found " + Describe(s, pos), name,
                       static_cast<int64_t>(pos)};
        found_events = true;
        ArrayResult r = ParseEventArray(input, pos, builder, options);
        s = input.view();  // the array's last chunk needed all of the input
        array_closed = r.closed;
        if (!r.closed) break;
        pos = r.end;
      } else {
        size_t end = ScanValueEnd(s, pos);
        if (end == kNotFound && more()) {
          pos = item;
          continue;
        }
        if (end == kNotFound) break;
        HandleTopLevel(key, s.substr(pos, end - pos), builder);
        pos = end;
      }
      pos = SkipWhitespace(s, pos);
      if (pos < s.size() && s[pos] == ',') ++pos;
    }
    if (!found_events) {
      return Error{
          "no \"traceEvents\" array: this JSON object is not a Chrome trace (expected "
          "{\"traceEvents\": [...]} or [...])",
          name, 0};
    }
  } else {
    if (pos >= s.size())
      return Error{s.empty() ? "the file is empty" : "the file holds only whitespace", name,
                   static_cast<int64_t>(pos)};
    return Error{"not a Chrome trace JSON: expected '{' or '[', found " + Describe(s, pos), name,
                 static_cast<int64_t>(pos)};
  }

  s = input.view();
  info.bytes_parsed = static_cast<int64_t>(s.size());
  ReadStats& stats = builder.stats();
  if (input.gzip_truncated())
    stats.warnings.insert(stats.warnings.begin(),
                          "the gzip stream ends early; reading what it held");
  if (!array_closed) {
    stats.truncated = true;
    if (stats.truncated_at < 0) stats.truncated_at = static_cast<int64_t>(s.size());
    stats.warnings.push_back(
        "the input ends inside the event array (was the job killed while "
        "writing?): read every complete event up to byte " +
        std::to_string(stats.truncated_at));
  }
  if (builder.pending_rows() == 0) {
    if (stats.events_seen == 0) return Error{"the trace holds no events", name, -1};
    return Error{"none of the " + std::to_string(stats.events_seen) +
                     " elements of the event array is a usable trace event",
                 name, -1};
  }
  if (info.producer.empty()) info.producer = "chrome-trace";
  return std::nullopt;
}

Result<Trace> ReadChromeJson(const InputBuffer& input, const std::string& name,
                             const ReadOptions& options) {
  TraceBuilder builder;
  if (auto error = ParseChromeJson(input, name, options, builder)) return *error;
  ScopedPhase build(options.timings, "model build");
  return std::move(builder).Build(options.executor);
}

}  // namespace teye::import
