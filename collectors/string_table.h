// Interned strings shared by every thread of the collector: kernel names, NVTX domains and
// registered strings, file paths, NCCL names. Bounded: when full, Intern returns 0 (the empty
// string) and counts the loss instead of growing.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace teye::collector {

class StringTable {
 public:
  explicit StringTable(size_t max_bytes = size_t{32} << 20);
  ~StringTable();
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  // Thread-safe. Id 0 is the empty string; 0 is also returned when the table is full.
  uint32_t Intern(std::string_view s);
  // Thread-safe for ids obtained from Intern (the record that carries an id publishes it).
  std::string_view Get(uint32_t id) const;
  uint32_t size() const { return count_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // fork(): the prepare handler locks, parent and child handlers unlock.
  void LockForFork() { mutex_.lock(); }
  void UnlockAfterFork() { mutex_.unlock(); }

 private:
  struct Entry {
    const char* data;
    uint32_t size;
  };
  static constexpr uint32_t kBlockBits = 12;
  static constexpr uint32_t kBlockSize = 1u << kBlockBits;
  static constexpr uint32_t kMaxBlocks = 1024;  // 4 M strings

  char* Store(std::string_view s);

  std::mutex mutex_;
  std::unordered_map<std::string_view, uint32_t> index_;
  std::atomic<Entry*> blocks_[kMaxBlocks] = {};
  std::atomic<uint32_t> count_{1};
  std::vector<char*> arenas_;
  char* arena_cursor_ = nullptr;
  size_t arena_left_ = 0;
  size_t bytes_ = 0;
  const size_t max_bytes_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace teye::collector
