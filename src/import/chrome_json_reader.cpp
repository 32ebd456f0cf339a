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
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "event_parser.h"
#include "json_scanner.h"

namespace teye::import {
namespace {

// True when the document was consumed whole (simdjson 3.0 has no document::at_end()).
bool AtEnd(simdjson::ondemand::document& doc) {
  const char* location;
  return doc.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

// Parses complete JSON values one at a time from a scratch copy with simdjson's padding.
class SingleEventParser {
 public:
  // Returns false when the bytes are not valid JSON.
  bool Parse(std::string_view event_json, TraceBuilder& builder) {
    if (event_json.empty() || event_json[0] != '{') {
      builder.stats().events_seen++;
      builder.stats().Count(SkipReason::kNotAnObject);
      return true;
    }
    scratch_.assign(event_json.data(), event_json.size());
    scratch_.append(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::ondemand::document doc;
    if (parser_.iterate(scratch_.data(), event_json.size(), scratch_.size()).get(doc)) {
      return Fail(builder);
    }
    simdjson::ondemand::value value;
    if (doc.get_value().get(value)) return Fail(builder);
    EventParser events(builder);
    if (events.Parse(value) != simdjson::SUCCESS) return Fail(builder, /*seen=*/false);
    if (!AtEnd(doc)) return Fail(builder, /*seen=*/false);
    return true;
  }

 private:
  static bool Fail(TraceBuilder& builder, bool seen = true) {
    if (seen) builder.stats().events_seen++;
    builder.stats().Count(SkipReason::kMalformedJson);
    return false;
  }
  simdjson::ondemand::parser parser_;
  std::string scratch_;
};

struct TolerantResult {
  enum Outcome { kReachedLimit, kArrayEnded, kTruncated } outcome;
  size_t pos;  // kReachedLimit: next event start; kArrayEnded: just past ']'; kTruncated: end
               // of the last complete event
};

// Reads events from `pos` (inside the event array) one at a time until the next event starts at
// or after `limit`, the array closes, or the input ends.
TolerantResult ParseTolerant(std::string_view s, size_t pos, size_t limit, TraceBuilder& builder,
                             SingleEventParser& single) {
  size_t last_good = pos;
  while (true) {
    pos = SkipWhitespace(s, pos);
    if (pos >= s.size()) return {TolerantResult::kTruncated, last_good};
    char c = s[pos];
    if (c == ']') return {TolerantResult::kArrayEnded, pos + 1};
    if (c == ',') {
      ++pos;
      continue;
    }
    if (pos >= limit) return {TolerantResult::kReachedLimit, pos};
    size_t end = ScanValueEnd(s, pos);
    if (end == kNotFound || end == pos) {
      // A value cut off by the end of input, or a stray closing bracket: stop here.
      if (end == pos) {
        builder.stats().events_seen++;
        builder.stats().Count(SkipReason::kMalformedJson);
        ++pos;
        continue;
      }
      return {TolerantResult::kTruncated, last_good};
    }
    single.Parse(s.substr(pos, end - pos), builder);
    last_good = end;
    pos = end;
  }
}

// One chunk of the event array for the parallel fast path.
struct Chunk {
  size_t begin = 0;  // first byte of its first event
  size_t end = 0;    // just past the `}` of its last event
  bool parsed = false;
  bool ok = false;
  TraceBuilder part;
};

// Fast path: "[" chunk "]" as one simdjson document.
bool ParseChunk(std::string_view s, Chunk& chunk, simdjson::ondemand::parser& parser,
                std::string& scratch) {
  const size_t n = chunk.end - chunk.begin;
  scratch.resize(n + 2 + simdjson::SIMDJSON_PADDING);
  scratch[0] = '[';
  std::memcpy(scratch.data() + 1, s.data() + chunk.begin, n);
  scratch[n + 1] = ']';
  std::memset(scratch.data() + n + 2, ' ', simdjson::SIMDJSON_PADDING);

  simdjson::ondemand::document doc;
  if (parser.iterate(scratch.data(), n + 2, scratch.size()).get(doc)) return false;
  simdjson::ondemand::array array;
  if (doc.get_array().get(array)) return false;
  EventParser events(chunk.part);
  for (auto element : array) {
    simdjson::ondemand::value value;
    if (element.get(value)) return false;
    if (events.Parse(value) != simdjson::SUCCESS) return false;
  }
  return AtEnd(doc);
}

// Finds the chunk boundaries of the array whose first event starts at `first`.
std::vector<Chunk> PlanChunks(std::string_view s, size_t first, size_t chunk_bytes) {
  std::vector<size_t> starts{first};
  size_t next = first + chunk_bytes;
  while (next < s.size()) {
    size_t b = FindSpeculativeBoundary(s, next);
    if (b == kNotFound) break;
    starts.push_back(b);
    next = b + chunk_bytes;
  }
  std::vector<Chunk> chunks(starts.size());
  for (size_t i = 0; i < starts.size(); ++i) {
    chunks[i].begin = starts[i];
    if (i + 1 < starts.size()) {
      // Back from the next start over `ws , ws` to just past the `}`.
      size_t e = starts[i + 1];
      while (e > starts[i] && s[e - 1] != '}')
        --e;
      chunks[i].end = e;
    } else {
      chunks[i].end = s.size();  // the last chunk is read by the tolerant scanner
    }
  }
  return chunks;
}

// Parses chunks [0, n-1) on worker threads, at most `window` chunks ahead of the consumer.
class ChunkPool {
 public:
  ChunkPool(std::string_view s, std::vector<Chunk>& chunks, unsigned threads)
      : s_(s), chunks_(chunks), window_(std::max(2u, threads * 2)) {
    const size_t fast = chunks_.empty() ? 0 : chunks_.size() - 1;
    if (fast == 0) return;
    threads = std::min<unsigned>(threads, static_cast<unsigned>(fast));
    for (unsigned t = 0; t < threads; ++t)
      workers_.emplace_back([this, fast] { Work(fast); });
  }
  ~ChunkPool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_)
      w.join();
  }
  // Blocks until chunk i is parsed (or returns at once for the last chunk).
  void WaitFor(size_t i) {
    if (i + 1 >= chunks_.size()) return;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return chunks_[i].parsed; });
  }
  void Consumed(size_t i) {
    {
      std::lock_guard lock(mu_);
      consumed_ = std::max(consumed_, i + 1);
    }
    cv_.notify_all();
  }

 private:
  void Work(size_t fast) {
    simdjson::ondemand::parser parser;
    std::string scratch;
    while (true) {
      size_t i;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || next_ >= fast || next_ < consumed_ + window_; });
        if (stop_ || next_ >= fast) return;
        i = next_++;
      }
      bool ok = ParseChunk(s_, chunks_[i], parser, scratch);
      {
        std::lock_guard lock(mu_);
        chunks_[i].ok = ok;
        chunks_[i].parsed = true;
      }
      cv_.notify_all();
    }
  }

  std::string_view s_;
  std::vector<Chunk>& chunks_;
  const size_t window_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;
  size_t consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

struct ArrayResult {
  bool closed = false;
  size_t end = 0;  // just past ']' when closed
};

// Reads the event array whose '[' is at `open`.
ArrayResult ParseEventArray(const InputBuffer& input, size_t open, TraceBuilder& builder,
                            const ReadOptions& options) {
  const std::string_view s = input.view();
  size_t first = SkipWhitespace(s, open + 1);
  if (first < s.size() && s[first] == ']') return {true, first + 1};

  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, threads);
  // The last chunk goes through the tolerant scanner, at about half the speed: in files of a
  // few chunks (a rank of a big job is often a few MB) it would be most of the file.
  const size_t chunk_bytes = std::min(std::max<size_t>(options.chunk_bytes, 64),
                                      std::max<size_t>(s.size() / 16, 64 << 10));
  std::vector<Chunk> chunks = PlanChunks(s, first, chunk_bytes);
  ChunkPool pool(s, chunks, threads);
  SingleEventParser single;

  size_t i = 0;
  size_t pos = first;
  while (true) {
    pool.WaitFor(i);
    Chunk& chunk = chunks[i];
    const bool last = i + 1 == chunks.size();
    if (!last && chunk.ok && chunk.begin == pos) {
      builder.Merge(std::move(chunk.part));
      pool.Consumed(i);
      input.DoneBefore(chunk.end);  // peak memory: the model grows as the input shrinks
      pos = chunks[i + 1].begin;
      ++i;
      continue;
    }
    chunk.part = TraceBuilder();  // a failed fast parse is discarded whole
    const size_t limit = last ? kNotFound : chunks[i + 1].begin;
    TolerantResult r = ParseTolerant(s, pos, limit, builder, single);
    if (r.outcome == TolerantResult::kArrayEnded) {
      pool.Consumed(chunks.size());
      return {true, r.pos};
    }
    if (r.outcome == TolerantResult::kTruncated) {
      pool.Consumed(chunks.size());
      builder.stats().truncated = true;
      builder.stats().truncated_at = static_cast<int64_t>(r.pos);
      return {false, r.pos};
    }
    pos = r.pos;
    pool.Consumed(i);
    // Skip chunks whose start the tolerant scan reached or passed.
    while (i + 1 < chunks.size() && chunks[i + 1].begin <= pos) {
      ++i;
      pool.WaitFor(i);
      if (chunks[i].begin < pos) chunks[i].part = TraceBuilder();
      pool.Consumed(i);
    }
  }
}

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
  const std::string_view s = input.view();
  builder.SetTimeUnit(options.time_unit);
  TraceInfo& info = builder.info();
  info.path = name;
  info.gzip = input.gzip;
  info.bytes_on_disk = input.bytes_on_disk;
  info.bytes_parsed = static_cast<int64_t>(s.size());
  if (input.gzip_truncated)
    builder.stats().warnings.push_back("the gzip stream ends early; reading what it held");

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
      pos = SkipWhitespace(s, pos);
      if (pos >= s.size()) break;  // cut short after the events: what we have is fine
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
      if (key_end == kNotFound) break;
      std::string_view key = s.substr(pos + 1, key_end - pos - 2);
      pos = SkipWhitespace(s, key_end);
      if (pos >= s.size() || s[pos] != ':') {
        if (!found_events)
          return Error{"expected ':' after top-level key \"" + std::string(key) + "\", found " +
                           Describe(s, pos),
                       name, static_cast<int64_t>(pos)};
        break;
      }
      pos = SkipWhitespace(s, pos + 1);
      if (key == "traceEvents") {
        if (pos >= s.size() || s[pos] != '[')
          return Error{"\"traceEvents\" must be an array, found " + Describe(s, pos), name,
                       static_cast<int64_t>(pos)};
        found_events = true;
        ArrayResult r = ParseEventArray(input, pos, builder, options);
        array_closed = r.closed;
        if (!r.closed) break;
        pos = r.end;
      } else {
        size_t end = ScanValueEnd(s, pos);
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

  ReadStats& stats = builder.stats();
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
  return std::move(builder).Build();
}

}  // namespace teye::import
