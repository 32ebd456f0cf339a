// Interned strings shared by every thread of the collector: kernel names, NVTX domains and
// registered strings, file paths, NCCL names. Bounded: when full, Intern returns 0 (the empty
// string) and counts the loss instead of growing.
//
// Lock-free and allocation-free after construction: the interposed open() interns paths, and a
// signal handler may call open() while the thread it interrupted is inside Intern or malloc. The
// bytes, the entries and the index live in regions reserved with mmap (untouched pages cost
// nothing). Two threads interning the same new string at once may get two ids for it (both
// valid); the index only saves repeats.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace teye::collector {

class StringTable {
 public:
  explicit StringTable(size_t max_bytes = size_t{32} << 20);
  ~StringTable();
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  // Thread-safe and async-signal-safe. Id 0 is the empty string; 0 is also returned when the
  // table is full.
  uint32_t Intern(std::string_view s);
  // Thread-safe for ids obtained from Intern (the record that carries an id publishes it).
  std::string_view Get(uint32_t id) const;
  // Ids handed out so far (an upper bound on the number of strings).
  uint32_t size() const { return next_id_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::atomic<const char*> data{nullptr};  // published last
    uint32_t size = 0;
  };
  static constexpr uint32_t kMaxIds = 1u << 22;      // 4 M strings
  static constexpr uint32_t kIndexSlots = 1u << 21;  // open addressing, (hash << 32) | id
  static constexpr uint32_t kMaxProbes = 64;

  uint32_t Find(std::string_view s, uint32_t hash, uint32_t& free_slot) const;

  char* bytes_ = nullptr;                   // max_bytes_, bump-allocated
  Entry* entries_ = nullptr;                // kMaxIds
  std::atomic<uint64_t>* index_ = nullptr;  // kIndexSlots
  const size_t max_bytes_;
  std::atomic<size_t> bytes_used_{0};
  std::atomic<uint32_t> next_id_{1};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace teye::collector
