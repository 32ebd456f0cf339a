#include "string_table.h"

#include <cstring>
#include <new>
#include <sys/mman.h>

namespace teye::collector {
namespace {

void* Map(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// FNV-1a, never 0 (0 marks a free index slot).
uint32_t Hash(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s)
    h = (h ^ c) * 16777619u;
  return h ? h : 1;
}

}  // namespace

StringTable::StringTable(size_t max_bytes) : max_bytes_(max_bytes) {
  // Mapped memory reads as zeros: every entry and index slot starts empty.
  bytes_ = static_cast<char*>(Map(max_bytes_ ? max_bytes_ : 1));
  entries_ = static_cast<Entry*>(Map(sizeof(Entry) * kMaxIds));
  index_ = static_cast<std::atomic<uint64_t>*>(Map(sizeof(std::atomic<uint64_t>) * kIndexSlots));
}

StringTable::~StringTable() {
  if (bytes_) ::munmap(bytes_, max_bytes_ ? max_bytes_ : 1);
  if (entries_) ::munmap(entries_, sizeof(Entry) * kMaxIds);
  if (index_) ::munmap(index_, sizeof(std::atomic<uint64_t>) * kIndexSlots);
}

uint32_t StringTable::Find(std::string_view s, uint32_t hash, uint32_t& free_slot) const {
  free_slot = kIndexSlots;
  for (uint32_t probe = 0; probe < kMaxProbes; ++probe) {
    const uint32_t slot = (hash + probe) & (kIndexSlots - 1);
    const uint64_t v = index_[slot].load(std::memory_order_acquire);
    if (v == 0) {
      free_slot = slot;
      return 0;
    }
    if (static_cast<uint32_t>(v >> 32) == hash && Get(static_cast<uint32_t>(v)) == s)
      return static_cast<uint32_t>(v);
  }
  return 0;
}

uint32_t StringTable::Intern(std::string_view s) {
  if (s.empty()) return 0;
  if (!bytes_ || !entries_ || !index_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const uint32_t hash = Hash(s);
  uint32_t slot;
  if (uint32_t id = Find(s, hash, slot)) return id;

  // A new entry: the bytes, then the entry, then the index slot that lets others find it.
  size_t offset = bytes_used_.load(std::memory_order_relaxed);
  do {
    if (offset + s.size() + 1 > max_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
  } while (
      !bytes_used_.compare_exchange_weak(offset, offset + s.size() + 1, std::memory_order_relaxed));
  uint32_t id = next_id_.load(std::memory_order_relaxed);
  do {
    if (id >= kMaxIds) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
  } while (!next_id_.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
  char* copy = bytes_ + offset;
  std::memcpy(copy, s.data(), s.size());
  copy[s.size()] = '\0';
  Entry& e = entries_[id];
  e.size = static_cast<uint32_t>(s.size());
  e.data.store(copy, std::memory_order_release);

  const uint64_t value = (static_cast<uint64_t>(hash) << 32) | id;
  for (uint32_t probe = 0; slot < kIndexSlots && probe < kMaxProbes; ++probe) {
    const uint32_t at = (hash + probe) & (kIndexSlots - 1);
    uint64_t expected = 0;
    if (index_[at].compare_exchange_strong(expected, value, std::memory_order_release,
                                           std::memory_order_acquire))
      break;
    // Someone else published the same string meanwhile: use theirs (ours stays valid).
    if (static_cast<uint32_t>(expected >> 32) == hash && Get(static_cast<uint32_t>(expected)) == s)
      return static_cast<uint32_t>(expected);
  }
  return id;  // with the index full around this hash, it is simply not deduplicated
}

std::string_view StringTable::Get(uint32_t id) const {
  if (id == 0 || id >= kMaxIds || !entries_ || id >= next_id_.load(std::memory_order_acquire))
    return {};
  const Entry& e = entries_[id];
  const char* data = e.data.load(std::memory_order_acquire);
  if (!data) return {};
  return {data, e.size};
}

}  // namespace teye::collector
