#include "teye/model/string_pool.h"

#include <cstring>

namespace teye {
namespace {
constexpr size_t kFirstBlock = 4 << 10;
constexpr size_t kBlockSize = 1 << 20;
}  // namespace

StringPool::StringPool() {
  views_.push_back(std::string_view());
  index_.emplace(std::string_view(), kEmptyString);
}

StringPool::StringPool(StringPool&&) noexcept = default;
StringPool& StringPool::operator=(StringPool&&) noexcept = default;

std::string_view StringPool::Store(std::string_view s) {
  // Long strings get storage of their own so they do not waste the rest of a shared block.
  if (s.size() > kBlockSize / 4) return large_.emplace_back(s);
  if (blocks_.empty() || blocks_.back().size() + s.size() > blocks_.back().capacity()) {
    // Blocks grow from 4 KiB to 1 MiB and are reserved, not filled: each parser chunk has a
    // pool of its own, and a zeroed 1 MiB block per chunk was most of the reader's page faults.
    size_t next =
        blocks_.empty() ? kFirstBlock : std::min(kBlockSize, blocks_.back().capacity() * 2);
    blocks_.emplace_back().reserve(std::max(next, s.size()));
  }
  // Appending within the reserved capacity never reallocates: earlier views stay valid.
  std::string& block = blocks_.back();
  const size_t at = block.size();
  block.append(s);
  return std::string_view(block.data() + at, s.size());
}

StringId StringPool::Intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  std::string_view stored = Store(s);
  auto id = static_cast<StringId>(views_.size());
  views_.push_back(stored);
  index_.emplace(stored, id);
  return id;
}

StringId StringPool::Find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? kEmptyString : it->second;
}

size_t StringPool::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& b : blocks_)
    bytes += b.capacity();
  for (const auto& b : large_)
    bytes += b.capacity();
  bytes += views_.capacity() * sizeof(std::string_view);
  bytes += index_.size() * (sizeof(std::string_view) + sizeof(StringId) + 2 * sizeof(void*));
  return bytes;
}

}  // namespace teye
