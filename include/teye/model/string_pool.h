// Interned strings: every distinct string is stored once and named by a dense StringId.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "teye/model/types.h"

namespace teye {

class StringPool {
 public:
  StringPool();
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) noexcept;
  StringPool& operator=(StringPool&&) noexcept;

  // Returns the id of `s`, adding it if new. Views returned by Get stay valid for the pool's life.
  StringId Intern(std::string_view s);
  // Returns the id of `s` or kEmptyString when it was never interned (and is not empty).
  StringId Find(std::string_view s) const;
  std::string_view Get(StringId id) const { return views_[id]; }
  size_t size() const { return views_.size(); }
  // Bytes held by the pool (string storage plus index), for memory accounting.
  size_t MemoryBytes() const;

 private:
  std::string_view Store(std::string_view s);
  void Grow();

  // Shared append-only storage: a block is filled up to its reserved capacity, never beyond, so
  // it never reallocates.
  std::deque<std::string> blocks_;
  std::deque<std::string> large_;  // strings too long to share a block
  std::vector<std::string_view> views_;
  // Open addressing, linear probing: each slot holds the high 32 bits of a string's hash and its
  // id + 1 (0: empty). Every event interns a few strings, so this is on the reader's hot path.
  std::vector<uint64_t> slots_;
  size_t used_ = 0;
};

}  // namespace teye
