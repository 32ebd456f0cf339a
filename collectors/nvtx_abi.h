// The NVTX injection ABI, declared here so the collector builds without the NVTX headers.
// Layouts and numbers match nvtx3/nvtxDetail/nvtxTypes.h and nvToolsExt.h (NVTX v3, stable
// since NVTX 2); tests/collector/nvtx_abi_test.cpp checks them against the real headers when
// those are installed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teye::collector::nvtx {

using FunctionPointer = void (*)(void);
using FunctionTable = FunctionPointer**;  // array of pointers to the library's slots

struct ExportTableCallbacks {
  size_t struct_size;
  int (*GetModuleFunctionTable)(int module, FunctionTable* out_table, unsigned int* out_size);
};
struct ExportTableVersionInfo {
  size_t struct_size;
  uint32_t version;
  uint32_t reserved0;
  void (*SetInjectionNvtxVersion)(uint32_t version);
};
using GetExportTableFn = const void* (*)(uint32_t export_table_id);

inline constexpr uint32_t kEtidCallbacks = 1;
inline constexpr uint32_t kEtidVersionInfo = 3;

inline constexpr int kModuleCore = 1;
inline constexpr int kModuleCore2 = 5;

enum CoreCbid : unsigned {
  kMarkEx = 1,
  kMarkA = 2,
  kMarkW = 3,
  kRangeStartEx = 4,
  kRangeStartA = 5,
  kRangeStartW = 6,
  kRangeEnd = 7,
  kRangePushEx = 8,
  kRangePushA = 9,
  kRangePushW = 10,
  kRangePop = 11,
  kNameCategoryA = 12,
  kNameCategoryW = 13,
  kNameOsThreadA = 14,
  kNameOsThreadW = 15,
  kCoreSize = 16,
};

enum Core2Cbid : unsigned {
  kDomainMarkEx = 1,
  kDomainRangeStartEx = 2,
  kDomainRangeEnd = 3,
  kDomainRangePushEx = 4,
  kDomainRangePop = 5,
  kDomainResourceCreate = 6,
  kDomainResourceDestroy = 7,
  kDomainNameCategoryA = 8,
  kDomainNameCategoryW = 9,
  kDomainRegisterStringA = 10,
  kDomainRegisterStringW = 11,
  kDomainCreateA = 12,
  kDomainCreateW = 13,
  kDomainDestroy = 14,
  kInitialize = 15,
  kCore2Size = 16,
};

inline constexpr int32_t kColorArgb = 1;
inline constexpr int32_t kMessageAscii = 1;
inline constexpr int32_t kMessageUnicode = 2;
inline constexpr int32_t kMessageRegistered = 3;
inline constexpr int32_t kPayloadU64 = 1;
inline constexpr int32_t kPayloadI64 = 2;
inline constexpr int32_t kPayloadDouble = 3;
inline constexpr int32_t kPayloadU32 = 4;
inline constexpr int32_t kPayloadI32 = 5;
inline constexpr int32_t kPayloadFloat = 6;
// nvToolsExtPayload.h: the payload field points to `reserved0` nvtxPayloadData_t entries.
inline constexpr int32_t kPayloadTypeExt = static_cast<int32_t>(0xDFBD0009u);

struct EventAttributes {  // nvtxEventAttributes_v2
  uint16_t version;
  uint16_t size;
  uint32_t category;
  int32_t color_type;
  uint32_t color;
  int32_t payload_type;
  int32_t reserved0;
  union {
    uint64_t ull_value;
    int64_t ll_value;
    double d_value;
    uint32_t ui_value;
    int32_t i_value;
    float f_value;
  } payload;
  int32_t message_type;
  union {
    const char* ascii;
    const wchar_t* unicode;
    void* registered;
  } message;
};

struct PayloadData {  // nvtxPayloadData_t
  uint64_t schema_id;
  size_t size;
  const void* payload;
};

using DomainHandle = void*;
using StringHandle = void*;
using RangeId = uint64_t;

}  // namespace teye::collector::nvtx
