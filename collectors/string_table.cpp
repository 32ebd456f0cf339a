#include "string_table.h"

#include <cstdlib>
#include <cstring>

namespace teye::collector {
namespace {
constexpr size_t kArenaBytes = 256 * 1024;
}

StringTable::StringTable(size_t max_bytes) : max_bytes_(max_bytes) {
  auto* first = static_cast<Entry*>(std::calloc(kBlockSize, sizeof(Entry)));
  if (first) first[0] = Entry{"", 0};
  blocks_[0].store(first, std::memory_order_release);
}

StringTable::~StringTable() {
  for (auto& b : blocks_)
    std::free(b.load(std::memory_order_relaxed));
  for (char* a : arenas_)
    std::free(a);
}

char* StringTable::Store(std::string_view s) {
  const size_t need = s.size() + 1;
  if (need > arena_left_) {
    const size_t size = need > kArenaBytes / 4 ? need : kArenaBytes;
    char* arena = static_cast<char*>(std::malloc(size));
    if (!arena) return nullptr;
    arenas_.push_back(arena);
    if (size == kArenaBytes) {
      arena_cursor_ = arena;
      arena_left_ = size;
    } else {  // a long string gets its own allocation; keep the current arena
      std::memcpy(arena, s.data(), s.size());
      arena[s.size()] = '\0';
      return arena;
    }
  }
  char* p = arena_cursor_;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  arena_cursor_ += need;
  arena_left_ -= need;
  return p;
}

uint32_t StringTable::Intern(std::string_view s) {
  if (s.empty()) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(s); it != index_.end()) return it->second;
  const uint32_t id = count_.load(std::memory_order_relaxed);
  const uint32_t block = id >> kBlockBits;
  if (block >= kMaxBlocks || bytes_ + s.size() > max_bytes_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  Entry* entries = blocks_[block].load(std::memory_order_relaxed);
  if (!entries) {
    entries = static_cast<Entry*>(std::calloc(kBlockSize, sizeof(Entry)));
    if (!entries) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    blocks_[block].store(entries, std::memory_order_release);
  }
  char* copy = Store(s);
  if (!copy) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  bytes_ += s.size();
  entries[id & (kBlockSize - 1)] = Entry{copy, static_cast<uint32_t>(s.size())};
  try {
    index_.emplace(std::string_view(copy, s.size()), id);
  } catch (...) {
    // Out of memory for the index: the string stays reachable by id, just not deduplicated.
  }
  count_.store(id + 1, std::memory_order_release);
  return id;
}

std::string_view StringTable::Get(uint32_t id) const {
  if (id == 0 || id >= count_.load(std::memory_order_acquire)) return {};
  const Entry* entries = blocks_[id >> kBlockBits].load(std::memory_order_acquire);
  if (!entries) return {};
  const Entry& e = entries[id & (kBlockSize - 1)];
  return {e.data, e.size};
}

}  // namespace teye::collector
