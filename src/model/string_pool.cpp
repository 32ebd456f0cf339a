#include "teye/model/string_pool.h"

#include <cstring>

namespace teye {
namespace {
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
  if (blocks_.empty() || block_used_ + s.size() > kBlockSize) {
    blocks_.emplace_back();
    blocks_.back().resize(kBlockSize);
    block_used_ = 0;
  }
  char* dst = blocks_.back().data() + block_used_;
  std::memcpy(dst, s.data(), s.size());
  block_used_ += s.size();
  return std::string_view(dst, s.size());
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
