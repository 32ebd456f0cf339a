#include "nvtx_registry.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "collector.h"

namespace teye::collector::nvtx_impl {
namespace {

using namespace nvtx;

constexpr uint32_t kMaxDomains = 1024;
constexpr uint32_t kMaxStrings = 1 << 20;
constexpr uint32_t kStringBlock = 4096;

struct DomainEntry {
  const char* name = nullptr;  // owned, never freed
  bool is_nccl = false;
  DomainHandle next_handle = nullptr;      // the chained tool's handle
  std::atomic<Collector*> owner{nullptr};  // name_id belongs to this collector
  std::atomic<uint32_t> name_id{0};
};
struct StringEntry {
  const char* text = nullptr;
  StringHandle next_handle = nullptr;
  std::atomic<Collector*> owner{nullptr};
  std::atomic<uint32_t> id{0};
};

std::mutex g_registry_mutex;  // registration (domains and strings)
DomainEntry g_domains[kMaxDomains];
std::atomic<uint32_t> g_domain_count{1};  // 0 is the default domain
std::atomic<StringEntry*> g_string_blocks[kMaxStrings / kStringBlock];
std::atomic<uint32_t> g_string_count{1};

const DomainEntry* Domain(DomainHandle h) {
  const auto index = reinterpret_cast<uintptr_t>(h);
  if (index == 0 || index > g_domain_count.load(std::memory_order_acquire)) return nullptr;
  return &g_domains[index - 1];
}

const StringEntry* String(StringHandle h) {
  const auto index = reinterpret_cast<uintptr_t>(h);
  if (index == 0 || index >= g_string_count.load(std::memory_order_acquire)) return nullptr;
  StringEntry* block = g_string_blocks[index / kStringBlock].load(std::memory_order_acquire);
  return block ? &block[index % kStringBlock] : nullptr;
}

}  // namespace

uint32_t DomainIndex(DomainHandle h) {
  const DomainEntry* d = Domain(h);
  return d ? static_cast<uint32_t>(d - g_domains) : 0;
}
DomainHandle NextDomain(DomainHandle h) {
  const DomainEntry* d = Domain(h);
  return d ? d->next_handle : nullptr;
}
StringHandle NextString(StringHandle h) {
  const StringEntry* s = String(h);
  return s ? s->next_handle : nullptr;
}
bool IsNcclDomain(uint32_t index) {
  return index > 0 && index < kMaxDomains && g_domains[index].is_nccl;
}

// Lock-free (the string table is): recording threads call these, and the background thread when
// it writes a thread's unclosed ranges. Two threads may intern the same name at once; both ids
// are valid.
uint32_t DomainNameId(Collector& c, uint32_t domain) {
  if (domain == 0 || domain >= g_domain_count.load(std::memory_order_acquire)) return 0;
  DomainEntry& d = g_domains[domain];
  if (d.owner.load(std::memory_order_acquire) != &c) {
    const uint32_t id = c.strings().Intern(d.name ? d.name : "");
    d.name_id.store(id, std::memory_order_relaxed);
    d.owner.store(&c, std::memory_order_release);
    return id;
  }
  return d.name_id.load(std::memory_order_relaxed);
}

uint32_t RegisteredStringId(Collector& c, StringHandle h) {
  const StringEntry* e = String(h);
  if (!e) return 0;
  auto* s = const_cast<StringEntry*>(e);
  if (s->owner.load(std::memory_order_acquire) != &c) {
    const uint32_t id = c.strings().Intern(s->text ? s->text : "");
    s->id.store(id, std::memory_order_relaxed);
    s->owner.store(&c, std::memory_order_release);
    return id;
  }
  return s->id.load(std::memory_order_relaxed);
}

StringHandle RegisterString(const char* text, StringHandle next) {
  if (!text) return nullptr;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  const uint32_t index = g_string_count.load(std::memory_order_relaxed);
  if (index >= kMaxStrings) return nullptr;
  auto& block_ptr = g_string_blocks[index / kStringBlock];
  StringEntry* block = block_ptr.load(std::memory_order_relaxed);
  if (!block) {
    block = static_cast<StringEntry*>(std::calloc(kStringBlock, sizeof(StringEntry)));
    if (!block) return nullptr;
    block_ptr.store(block, std::memory_order_release);
  }
  char* copy = strndup(text, kMaxInlineText);
  if (!copy) return nullptr;
  StringEntry& e = block[index % kStringBlock];
  e.text = copy;
  e.next_handle = next;
  e.owner.store(nullptr, std::memory_order_relaxed);
  g_string_count.store(index + 1, std::memory_order_release);
  return reinterpret_cast<StringHandle>(static_cast<uintptr_t>(index));
}

DomainHandle CreateDomain(const char* name, DomainHandle next) {
  if (!name) return nullptr;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  const uint32_t n = g_domain_count.load(std::memory_order_relaxed);
  for (uint32_t i = 1; i < n; ++i)
    if (g_domains[i].name && std::strcmp(g_domains[i].name, name) == 0)
      return reinterpret_cast<DomainHandle>(static_cast<uintptr_t>(i + 1));
  if (n >= kMaxDomains) return nullptr;
  DomainEntry& d = g_domains[n];
  d.name = strndup(name, 256);
  if (!d.name) return nullptr;
  d.is_nccl = std::strcmp(name, "NCCL") == 0;
  d.next_handle = next;
  d.owner.store(nullptr, std::memory_order_relaxed);
  g_domain_count.store(n + 1, std::memory_order_release);
  return reinterpret_cast<DomainHandle>(static_cast<uintptr_t>(n + 1));
}

void LockRegistryForFork(bool lock) {
  if (lock)
    g_registry_mutex.lock();
  else
    g_registry_mutex.unlock();
}

}  // namespace teye::collector::nvtx_impl
