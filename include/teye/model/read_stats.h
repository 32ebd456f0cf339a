// What a reader saw, kept and skipped. Malformed events are skipped and counted, never fatal.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace teye {

enum class SkipReason : uint8_t {
  kMalformedJson,     // the event's JSON could not be parsed
  kNotAnObject,       // an element of the event array that is not an object
  kMissingPhase,      // no `ph`
  kUnknownPhase,      // a `ph` teye does not model (O, N, D, P, ...); ignored on purpose
  kMissingTimestamp,  // no usable `ts`
  kBadNumber,         // a time that is not a finite number, or out of range
  kNegativeDuration,  // `dur` < 0
  kUnmatchedEnd,      // `E` / `e` without a matching begin
  kUnclosedBegin,     // `B` / `b` never ended: kept, closed at the trace's end
  kCount,
};
inline constexpr size_t kSkipReasonCount = static_cast<size_t>(SkipReason::kCount);

std::string_view ToString(SkipReason reason);
// Whether events of this reason were dropped (false for kUnknownPhase/kUnclosedBegin, which are
// notes rather than losses).
bool IsLoss(SkipReason reason);

struct ReadStats {
  int64_t events_seen = 0;  // elements of the event array the reader looked at
  int64_t events_kept = 0;  // rows added to the model (after B/E pairing, per half-event)
  std::array<int64_t, kSkipReasonCount> skipped{};
  bool truncated = false;     // the input ended before the event array closed
  int64_t truncated_at = -1;  // byte offset of the end of the last complete event
  std::vector<std::string> warnings;

  void Count(SkipReason reason, int64_t n = 1) { skipped[static_cast<size_t>(reason)] += n; }
  int64_t Skipped(SkipReason reason) const { return skipped[static_cast<size_t>(reason)]; }
  int64_t TotalLost() const;
  void Merge(const ReadStats& other);
};

}  // namespace teye
