#include "teye/model/string_pool.h"

#include <cstring>

namespace teye {
namespace {
constexpr size_t kFirstBlock = 4 << 10;
constexpr size_t kBlockSize = 1 << 20;
constexpr size_t kFirstSlots = 256;

// A fast 64-bit hash of a short string (names, categories): 8 bytes at a time, multiply-xorshift
// mixing (splitmix64's constants), the length folded in.
uint64_t Hash(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; ++i)
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  h = (h ^ tail) * 0x94d049bb133111ebull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

}  // namespace

StringPool::StringPool() : slots_(kFirstSlots, 0) {
  views_.push_back(std::string_view());  // kEmptyString: never in the table, tested first
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

void StringPool::Grow() {
  std::vector<uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (uint64_t slot : old) {
    if (slot == 0) continue;
    size_t i = Hash(views_[(slot & 0xffffffffu) - 1]) & mask;
    while (slots_[i] != 0)
      i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

StringId StringPool::Intern(std::string_view s) {
  if (s.empty()) return kEmptyString;
  const uint64_t h = Hash(s);
  const uint64_t tag = h >> 32 << 32;
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) break;
    if ((slot & ~uint64_t{0xffffffffu}) == tag) {
      const auto id = static_cast<StringId>((slot & 0xffffffffu) - 1);
      if (views_[id] == s) return id;
    }
  }
  std::string_view stored = Store(s);
  auto id = static_cast<StringId>(views_.size());
  views_.push_back(stored);
  slots_[i] = tag | (static_cast<uint64_t>(id) + 1);
  if (++used_ * 2 > slots_.size()) Grow();
  return id;
}

StringId StringPool::Find(std::string_view s) const {
  if (s.empty()) return kEmptyString;
  const uint64_t h = Hash(s);
  const uint64_t tag = h >> 32 << 32;
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return kEmptyString;
    if ((slot & ~uint64_t{0xffffffffu}) == tag) {
      const auto id = static_cast<StringId>((slot & 0xffffffffu) - 1);
      if (views_[id] == s) return id;
    }
  }
}

size_t StringPool::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& b : blocks_)
    bytes += b.capacity();
  for (const auto& b : large_)
    bytes += b.capacity();
  bytes += views_.capacity() * sizeof(std::string_view);
  bytes += slots_.capacity() * sizeof(uint64_t);
  return bytes;
}

}  // namespace teye
