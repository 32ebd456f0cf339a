// Reading what an NVTX call passed: messages (ASCII, wide, registered) and event attributes
// (colour, category, payload), copied into the collector's own terms.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvtx_abi.h"
#include "records.h"

namespace teye::collector {

class Collector;

namespace nvtx_impl {

// UTF-32 (wchar_t on Linux) to UTF-8, cut at `cap` bytes. Returns the bytes written.
size_t WideToUtf8(const wchar_t* w, char* out, size_t cap);

// A message as the collector keeps it: an interned id (registered strings) or text.
struct Message {
  uint32_t name_id = 0;
  const char* text = nullptr;
  size_t len = 0;
  char wide_buf[512];
};

void ReadMessage(Collector& c, int32_t type, const void* value, Message& m);

// Attributes of a size the collector understands (v1 layouts and later).
bool ValidAttributes(const nvtx::EventAttributes* a);

// The payload's type and raw bits; sets kRangeHasPayload in `flags` when there is one.
void ReadPayload(const nvtx::EventAttributes* a, uint8_t& flags, PayloadType& type, uint64_t& bits);

}  // namespace nvtx_impl
}  // namespace teye::collector
