#include "nvtx_injection.h"

#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>

#include "collector.h"
#include "log.h"
#include "nvtx_nccl_payload.h"
#include "nvtx_ranges.h"
#include "nvtx_registry.h"

namespace teye::collector {
namespace {

using namespace nvtx;
using namespace nvtx_impl;

// ---- Chaining to another NVTX tool ---------------------------------------------------------

FunctionPointer g_next_core[kCoreSize] = {};
FunctionPointer g_next_core2[kCore2Size] = {};
int (*g_chain_init)(GetExportTableFn) = nullptr;
std::once_flag g_chain_once;

template <typename Fn>
Fn Next(FunctionPointer* table, unsigned cbid) {
  return reinterpret_cast<Fn>(table[cbid]);
}

// ---- The callbacks installed in NVTX's slots ------------------------------------------------
// Each records, then forwards to the chained tool when there is one.

#define TEYE_CHAIN(table, cbid, type, ...)                      \
  do {                                                          \
    if (auto next = Next<type>(table, cbid)) next(__VA_ARGS__); \
  } while (0)

using MarkExFn = void (*)(const EventAttributes*);
using MarkAFn = void (*)(const char*);
using MarkWFn = void (*)(const wchar_t*);
using StartExFn = RangeId (*)(const EventAttributes*);
using StartAFn = RangeId (*)(const char*);
using StartWFn = RangeId (*)(const wchar_t*);
using EndFn = void (*)(RangeId);
using PushExFn = int (*)(const EventAttributes*);
using PushAFn = int (*)(const char*);
using PushWFn = int (*)(const wchar_t*);
using PopFn = int (*)();
using NameCategoryAFn = void (*)(uint32_t, const char*);
using NameCategoryWFn = void (*)(uint32_t, const wchar_t*);
using NameOsThreadAFn = void (*)(uint32_t, const char*);
using NameOsThreadWFn = void (*)(uint32_t, const wchar_t*);
using DomainMarkExFn = void (*)(DomainHandle, const EventAttributes*);
using DomainStartExFn = RangeId (*)(DomainHandle, const EventAttributes*);
using DomainEndFn = void (*)(DomainHandle, RangeId);
using DomainPushExFn = int (*)(DomainHandle, const EventAttributes*);
using DomainPopFn = int (*)(DomainHandle);
using DomainNameCategoryAFn = void (*)(DomainHandle, uint32_t, const char*);
using DomainNameCategoryWFn = void (*)(DomainHandle, uint32_t, const wchar_t*);
using DomainRegisterStringAFn = StringHandle (*)(DomainHandle, const char*);
using DomainRegisterStringWFn = StringHandle (*)(DomainHandle, const wchar_t*);
using DomainCreateAFn = DomainHandle (*)(const char*);
using DomainCreateWFn = DomainHandle (*)(const wchar_t*);
using DomainDestroyFn = void (*)(DomainHandle);
using InitializeFn = void (*)(const void*);

// Attributes as the chained tool knows them: its own registered-string handle.
const EventAttributes* ForChain(const EventAttributes* a, EventAttributes& copy) {
  if (!a || !ValidAttributes(a) || a->message_type != kMessageRegistered) return a;
  copy = *a;
  copy.message.registered = NextString(a->message.registered);
  return &copy;
}

void MarkEx(const EventAttributes* a) noexcept {
  Mark(0, a, nullptr, 0);
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kMarkEx, MarkExFn, ForChain(a, copy));
}
void MarkA(const char* m) noexcept {
  Mark(0, nullptr, m, kMessageAscii);
  TEYE_CHAIN(g_next_core, kMarkA, MarkAFn, m);
}
void MarkW(const wchar_t* m) noexcept {
  Mark(0, nullptr, m, kMessageUnicode);
  TEYE_CHAIN(g_next_core, kMarkW, MarkWFn, m);
}
// Start/end ranges are not forwarded by id: the chained tool gets its own ids (kept per range).
RangeId RangeStartEx(const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kRangeStartEx, StartExFn, ForChain(a, copy));
  return Start(0, a, nullptr, 0);
}
RangeId RangeStartA(const char* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangeStartA, StartAFn, m);
  return Start(0, nullptr, m, kMessageAscii);
}
RangeId RangeStartW(const wchar_t* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangeStartW, StartWFn, m);
  return Start(0, nullptr, m, kMessageUnicode);
}
void RangeEnd(RangeId id) noexcept {
  End(id);
}
int RangePushEx(const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core, kRangePushEx, PushExFn, ForChain(a, copy));
  return Push(0, a, nullptr, 0);
}
int RangePushA(const char* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangePushA, PushAFn, m);
  return PushAscii(m);
}
int RangePushW(const wchar_t* m) noexcept {
  TEYE_CHAIN(g_next_core, kRangePushW, PushWFn, m);
  return Push(0, nullptr, m, kMessageUnicode);
}
int RangePop() noexcept {
  TEYE_CHAIN(g_next_core, kRangePop, PopFn);
  return Pop(0);
}
void NameCategoryA(uint32_t category, const char* name) noexcept {
  TEYE_CHAIN(g_next_core, kNameCategoryA, NameCategoryAFn, category, name);
}
void NameCategoryW(uint32_t category, const wchar_t* name) noexcept {
  TEYE_CHAIN(g_next_core, kNameCategoryW, NameCategoryWFn, category, name);
}
void NameOsThreadA(uint32_t tid, const char* name) noexcept {
  if (name) NameThread(tid, name, strnlen(name, 255));
  TEYE_CHAIN(g_next_core, kNameOsThreadA, NameOsThreadAFn, tid, name);
}
void NameOsThreadW(uint32_t tid, const wchar_t* name) noexcept {
  if (name) {
    char buf[256];
    NameThread(tid, buf, WideToUtf8(name, buf, sizeof buf));
  }
  TEYE_CHAIN(g_next_core, kNameOsThreadW, NameOsThreadWFn, tid, name);
}

void DomainMarkEx(DomainHandle d, const EventAttributes* a) noexcept {
  Mark(DomainIndex(d), a, nullptr, 0);
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainMarkEx, DomainMarkExFn, NextDomain(d), ForChain(a, copy));
}
RangeId DomainRangeStartEx(DomainHandle d, const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainRangeStartEx, DomainStartExFn, NextDomain(d), ForChain(a, copy));
  return Start(DomainIndex(d), a, nullptr, 0);
}
void DomainRangeEnd(DomainHandle, RangeId id) noexcept {
  End(id);
}
int DomainRangePushEx(DomainHandle d, const EventAttributes* a) noexcept {
  EventAttributes copy;
  TEYE_CHAIN(g_next_core2, kDomainRangePushEx, DomainPushExFn, NextDomain(d), ForChain(a, copy));
  return Push(DomainIndex(d), a, nullptr, 0);
}
int DomainRangePop(DomainHandle d) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainRangePop, DomainPopFn, NextDomain(d));
  return Pop(DomainIndex(d));
}
void DomainNameCategoryA(DomainHandle d, uint32_t category, const char* name) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainNameCategoryA, DomainNameCategoryAFn, NextDomain(d), category,
             name);
}
void DomainNameCategoryW(DomainHandle d, uint32_t category, const wchar_t* name) noexcept {
  TEYE_CHAIN(g_next_core2, kDomainNameCategoryW, DomainNameCategoryWFn, NextDomain(d), category,
             name);
}

StringHandle DomainRegisterStringA(DomainHandle d, const char* s) noexcept {
  StringHandle next = nullptr;
  if (auto fn = Next<DomainRegisterStringAFn>(g_next_core2, kDomainRegisterStringA))
    next = fn(NextDomain(d), s);
  return RegisterString(s, next);
}
StringHandle DomainRegisterStringW(DomainHandle d, const wchar_t* s) noexcept {
  StringHandle next = nullptr;
  if (auto fn = Next<DomainRegisterStringWFn>(g_next_core2, kDomainRegisterStringW))
    next = fn(NextDomain(d), s);
  if (!s) return nullptr;
  char buf[1024];
  const size_t n = WideToUtf8(s, buf, sizeof buf - 1);
  buf[n] = '\0';
  return RegisterString(buf, next);
}

DomainHandle DomainCreateA(const char* name) noexcept {
  DomainHandle next = nullptr;
  if (auto fn = Next<DomainCreateAFn>(g_next_core2, kDomainCreateA)) next = fn(name);
  return CreateDomain(name, next);
}
DomainHandle DomainCreateW(const wchar_t* name) noexcept {
  DomainHandle next = nullptr;
  if (auto fn = Next<DomainCreateWFn>(g_next_core2, kDomainCreateW)) next = fn(name);
  if (!name) return nullptr;
  char buf[257];
  const size_t n = WideToUtf8(name, buf, sizeof buf - 1);
  buf[n] = '\0';
  return CreateDomain(buf, next);
}
void DomainDestroy(DomainHandle d) noexcept {
  // Domains stay registered (ranges may still name them); only the chained tool is told.
  TEYE_CHAIN(g_next_core2, kDomainDestroy, DomainDestroyFn, NextDomain(d));
}
void Initialize(const void* reserved) noexcept {
  TEYE_CHAIN(g_next_core2, kInitialize, InitializeFn, reserved);
}

struct Slot {
  int module;
  unsigned cbid;
  FunctionPointer fn;
};
#define TEYE_SLOT(module, cbid, fn)                      \
  Slot {                                                 \
    module, cbid, reinterpret_cast<FunctionPointer>(&fn) \
  }
const Slot kSlots[] = {
    TEYE_SLOT(kModuleCore, kMarkEx, MarkEx),
    TEYE_SLOT(kModuleCore, kMarkA, MarkA),
    TEYE_SLOT(kModuleCore, kMarkW, MarkW),
    TEYE_SLOT(kModuleCore, kRangeStartEx, RangeStartEx),
    TEYE_SLOT(kModuleCore, kRangeStartA, RangeStartA),
    TEYE_SLOT(kModuleCore, kRangeStartW, RangeStartW),
    TEYE_SLOT(kModuleCore, kRangeEnd, RangeEnd),
    TEYE_SLOT(kModuleCore, kRangePushEx, RangePushEx),
    TEYE_SLOT(kModuleCore, kRangePushA, RangePushA),
    TEYE_SLOT(kModuleCore, kRangePushW, RangePushW),
    TEYE_SLOT(kModuleCore, kRangePop, RangePop),
    TEYE_SLOT(kModuleCore, kNameCategoryA, NameCategoryA),
    TEYE_SLOT(kModuleCore, kNameCategoryW, NameCategoryW),
    TEYE_SLOT(kModuleCore, kNameOsThreadA, NameOsThreadA),
    TEYE_SLOT(kModuleCore, kNameOsThreadW, NameOsThreadW),
    TEYE_SLOT(kModuleCore2, kDomainMarkEx, DomainMarkEx),
    TEYE_SLOT(kModuleCore2, kDomainRangeStartEx, DomainRangeStartEx),
    TEYE_SLOT(kModuleCore2, kDomainRangeEnd, DomainRangeEnd),
    TEYE_SLOT(kModuleCore2, kDomainRangePushEx, DomainRangePushEx),
    TEYE_SLOT(kModuleCore2, kDomainRangePop, DomainRangePop),
    TEYE_SLOT(kModuleCore2, kDomainNameCategoryA, DomainNameCategoryA),
    TEYE_SLOT(kModuleCore2, kDomainNameCategoryW, DomainNameCategoryW),
    TEYE_SLOT(kModuleCore2, kDomainRegisterStringA, DomainRegisterStringA),
    TEYE_SLOT(kModuleCore2, kDomainRegisterStringW, DomainRegisterStringW),
    TEYE_SLOT(kModuleCore2, kDomainCreateA, DomainCreateA),
    TEYE_SLOT(kModuleCore2, kDomainCreateW, DomainCreateW),
    TEYE_SLOT(kModuleCore2, kDomainDestroy, DomainDestroy),
    TEYE_SLOT(kModuleCore2, kInitialize, Initialize),
};

bool GetTable(const ExportTableCallbacks* cb, int module, FunctionTable& table, unsigned& size) {
  table = nullptr;
  size = 0;
  if (!cb->GetModuleFunctionTable(module, &table, &size) || !table) return false;
  return true;
}

// Loads the tool named by TEYE_NVTX_CHAIN (once per process).
void LoadChain(const char* path) {
  if (!path || !*path) return;
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    Log("NVTX: cannot load the chained NVTX tool %s (%s)", path, dlerror());
    return;
  }
  if (dlsym(handle, "teye_collector_entry_points")) return;  // another copy of teye: not a tool
  void* init = dlsym(handle, "InitializeInjectionNvtx2");
  Dl_info self{}, other{};
  if (init && dladdr(reinterpret_cast<void*>(&NvtxInitialize), &self) && dladdr(init, &other) &&
      self.dli_fbase == other.dli_fbase)
    return;  // it is this library
  g_chain_init = reinterpret_cast<int (*)(GetExportTableFn)>(init);
  if (!g_chain_init) Log("NVTX: %s has no InitializeInjectionNvtx2; not chained", path);
}

}  // namespace

void NvtxLockForFork(bool lock) {
  // Lock order (the same in every path that takes more than one): registration, start/end
  // table, NCCL communicators. Unlocking order does not matter.
  if (lock) {
    LockRegistryForFork(true);
    LockStartEndForFork(true);
    LockNcclCommsForFork(true);
  } else {
    LockNcclCommsForFork(false);
    LockStartEndForFork(false);
    LockRegistryForFork(false);
  }
}

int NvtxInitialize(GetExportTableFn get_export_table) {
  // A chained tool that calls back into us (directly or through another copy) must not loop.
  static thread_local bool initializing = false;
  if (!get_export_table || initializing) return 0;
  struct Guard {
    Guard() { initializing = true; }
    ~Guard() { initializing = false; }
  } guard;
  const auto* cb = static_cast<const ExportTableCallbacks*>(get_export_table(kEtidCallbacks));
  if (!cb || cb->struct_size < sizeof(ExportTableCallbacks) || !cb->GetModuleFunctionTable)
    return 0;
  FunctionTable core, core2;
  unsigned core_size, core2_size;
  const bool have_core = GetTable(cb, kModuleCore, core, core_size);
  const bool have_core2 = GetTable(cb, kModuleCore2, core2, core2_size);
  if (!have_core && !have_core2) return 0;

  Collector* c = Collector::Active();
  const bool record = c && c->config().nvtx;
  const std::string chain = c ? c->config().nvtx_chain : std::string();
  std::call_once(g_chain_once, [&] { LoadChain(chain.c_str()); });
  if (g_chain_init) {
    // Let the other tool fill the slots first, then keep what it changed as "next". Slots it
    // left alone still hold NVTX's own init stubs, which must never be called from here.
    FunctionPointer before_core[kCoreSize] = {}, before_core2[kCore2Size] = {};
    for (unsigned i = 1; have_core && i < core_size && i < kCoreSize; ++i)
      if (core[i]) before_core[i] = *core[i];
    for (unsigned i = 1; have_core2 && i < core2_size && i < kCore2Size; ++i)
      if (core2[i]) before_core2[i] = *core2[i];
    if (g_chain_init(get_export_table)) {
      for (unsigned i = 1; have_core && i < core_size && i < kCoreSize; ++i)
        if (core[i] && *core[i] != before_core[i]) g_next_core[i] = *core[i];
      for (unsigned i = 1; have_core2 && i < core2_size && i < kCore2Size; ++i)
        if (core2[i] && *core2[i] != before_core2[i]) g_next_core2[i] = *core2[i];
    }
    if (!record) return 1;
  }
  if (!record && !g_chain_init) return c ? 0 : 1;  // TEYE_NVTX=0: NVTX becomes no-ops
  for (const Slot& s : kSlots) {
    FunctionTable table = s.module == kModuleCore ? core : core2;
    unsigned size = s.module == kModuleCore ? core_size : core2_size;
    if (!table || s.cbid >= size || !table[s.cbid]) continue;
    *table[s.cbid] = s.fn;
  }
  if (const auto* v =
          static_cast<const ExportTableVersionInfo*>(get_export_table(kEtidVersionInfo));
      v && v->struct_size >= sizeof(ExportTableVersionInfo) && v->SetInjectionNvtxVersion)
    v->SetInjectionNvtxVersion(3);
  return 1;
}

}  // namespace teye::collector
