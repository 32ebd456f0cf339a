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
//
// The input may still be arriving (a gzip trace being inflated): chunks are planned as its bytes
// come, the parsers never wait for more than the chunk they parse, and only the last chunk (or
// one whose fast parse failed) waits for the whole input.
#include "event_array.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>

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
  explicit Chunk(size_t b) : begin(b) {}
  size_t begin = 0;   // first byte of its first event
  size_t end = 0;     // just past the `}` of its last event (once the next chunk is planned)
  bool last = false;  // the rest of the input, for the tolerant scanner
  std::atomic<bool> parsed = false;
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

// Cuts the event array into chunks as the input arrives: each chunk starts at a speculative
// boundary about chunk_bytes after the previous one's start.
class ChunkPlanner {
 public:
  ChunkPlanner(const InputBuffer& input, size_t chunk_bytes)
      : input_(input), chunk_bytes_(chunk_bytes) {}

  // The start of the chunk after the one starting at `begin`, or kNotFound when the rest of the
  // input is that chunk.
  size_t NextStart(size_t begin) const {
    const size_t from = begin + chunk_bytes_;
    for (size_t ahead = size_t{64} << 10;; ahead *= 2) {
      const std::string_view s = input_.Prefix(from + ahead);
      if (from >= s.size()) return kNotFound;  // the input ends within this chunk
      const size_t b = FindSpeculativeBoundary(s, from);
      if (b != kNotFound) return b;
      if (input_.complete()) return kNotFound;
    }
  }

  // Just past the `}` before `next_start` (back over `ws , ws`).
  size_t EndBefore(size_t begin, size_t next_start) const {
    const std::string_view s = input_.Prefix(next_start);
    size_t e = next_start;
    while (e > begin && s[e - 1] != '}')
      --e;
    return e;
  }

 private:
  const InputBuffer& input_;
  const size_t chunk_bytes_;
};

// Plans chunks and parses all but the last as tasks on the executor, at most `window` chunks
// ahead of the consumer, which merges them in file order (and parses the chunk it waits for
// itself when no other thread has taken it yet).
class ChunkPool {
 public:
  ChunkPool(const InputBuffer& input, size_t first, size_t chunk_bytes, Executor* executor)
      : input_(input),
        planner_(input, chunk_bytes),
        window_(std::max(2u, (executor ? executor->threads() : 1) * 2)),
        group_(executor) {
    chunks_.emplace_back(first);
  }

  // Chunk i, planned and (unless it is the last) parsed.
  Chunk& Get(size_t i) {
    while (!planned_all_ && chunks_.size() <= i + 1)
      PlanOne();
    Fill();
    Chunk& c = chunks_[i];
    if (!c.last) group_.WaitUntil([&] { return c.parsed.load(std::memory_order_acquire); });
    return c;
  }
  // Where chunk i starts; whether it is the last (planned, not waited for).
  size_t Begin(size_t i) {
    while (!planned_all_ && chunks_.size() <= i)
      PlanOne();
    return chunks_[i].begin;
  }
  bool IsLast(size_t i) {
    while (!planned_all_ && chunks_.size() <= i + 1)
      PlanOne();
    return chunks_[i].last;
  }
  void Consumed(size_t i) {
    consumed_ = std::max(consumed_, i + 1);
    Fill();
  }
  void ConsumedAll() { consumed_ = chunks_.size() + window_; }

 private:
  // Finds where the newest chunk ends: the next one starts there, or it is the last.
  void PlanOne() {
    Chunk& c = chunks_.back();
    const size_t next = planner_.NextStart(c.begin);
    if (next == kNotFound) {
      c.last = true;
      planned_all_ = true;
      return;
    }
    c.end = planner_.EndBefore(c.begin, next);
    chunks_.emplace_back(next);
  }

  // Spawns the parses of planned chunks up to `window` ahead of the consumer.
  void Fill() {
    while (spawned_ < consumed_ + window_) {
      while (!planned_all_ && chunks_.size() <= spawned_ + 1)
        PlanOne();
      if (spawned_ >= chunks_.size() || chunks_[spawned_].last) return;
      Chunk& c = chunks_[spawned_++];
      const char* base = input_.data();
      group_.Spawn([&c, base] {
        // Parsers keep their buffers from chunk to chunk, one per thread.
        thread_local simdjson::ondemand::parser parser;
        thread_local std::string scratch;
        c.ok = ParseChunk(std::string_view(base, c.end), c, parser, scratch);
        c.parsed.store(true, std::memory_order_release);
      });
    }
  }

  const InputBuffer& input_;
  ChunkPlanner planner_;
  const size_t window_;
  std::deque<Chunk> chunks_;  // a deque: chunks stay where they are while more are planned
  bool planned_all_ = false;
  size_t spawned_ = 0;
  size_t consumed_ = 0;
  TaskGroup group_;  // last: its destructor waits for the tasks, which use the chunks
};

}  // namespace

ArrayResult ParseEventArray(const InputBuffer& input, size_t open, TraceBuilder& builder,
                            const ReadOptions& options) {
  std::string_view s = input.Prefix(open + 4096);
  size_t first = SkipWhitespace(s, open + 1);
  while (first >= s.size() && !input.complete()) {
    s = input.Prefix(s.size() * 2);
    first = SkipWhitespace(s, open + 1);
  }
  if (first < s.size() && s[first] == ']') return {true, first + 1};

  // The last chunk goes through the tolerant scanner, at about half the speed: in files of a
  // few chunks (a rank of a big job is often a few MB) it would be most of the file.
  const size_t chunk_bytes = std::min(std::max<size_t>(options.chunk_bytes, 64),
                                      std::max<size_t>(input.size_hint() / 16, 64 << 10));
  ChunkPool pool(input, first, chunk_bytes, options.executor);
  SingleEventParser single;

  size_t i = 0;
  size_t pos = first;
  while (true) {
    Chunk& chunk = pool.Get(i);
    if (!chunk.last && chunk.ok && chunk.begin == pos) {
      builder.Merge(std::move(chunk.part));
      pool.Consumed(i);
      input.DoneBefore(chunk.end);  // peak memory: the model grows as the input shrinks
      pos = pool.Begin(i + 1);
      ++i;
      continue;
    }
    chunk.part = TraceBuilder();  // a failed fast parse is discarded whole
    // The tolerant scanner may have to read past the chunk (a boundary inside a string): it
    // reads the whole input, which then has to be all there.
    s = input.view();
    const size_t limit = chunk.last ? kNotFound : pool.Begin(i + 1);
    TolerantResult r = ParseTolerant(s, pos, limit, builder, single);
    if (r.outcome == TolerantResult::kArrayEnded) {
      pool.ConsumedAll();
      return {true, r.pos};
    }
    if (r.outcome == TolerantResult::kTruncated) {
      pool.ConsumedAll();
      builder.stats().truncated = true;
      builder.stats().truncated_at = static_cast<int64_t>(r.pos);
      return {false, r.pos};
    }
    pos = r.pos;
    pool.Consumed(i);
    // Skip chunks whose start the tolerant scan reached or passed.
    while (!pool.IsLast(i) && pool.Begin(i + 1) <= pos) {
      Chunk& next = pool.Get(++i);
      if (next.begin < pos) next.part = TraceBuilder();
      pool.Consumed(i);
    }
  }
}

}  // namespace teye::import
