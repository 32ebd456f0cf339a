#include "nvtx_message.h"

#include <cstring>

#include "nvtx_registry.h"

namespace teye::collector::nvtx_impl {

using namespace nvtx;

size_t WideToUtf8(const wchar_t* w, char* out, size_t cap) {
  size_t n = 0;
  for (; *w; ++w) {
    uint32_t c = static_cast<uint32_t>(*w);
    char buf[4];
    size_t len;
    if (c < 0x80) {
      buf[0] = static_cast<char>(c);
      len = 1;
    } else if (c < 0x800) {
      buf[0] = static_cast<char>(0xC0 | (c >> 6));
      buf[1] = static_cast<char>(0x80 | (c & 0x3F));
      len = 2;
    } else if (c < 0x10000) {
      buf[0] = static_cast<char>(0xE0 | (c >> 12));
      buf[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[2] = static_cast<char>(0x80 | (c & 0x3F));
      len = 3;
    } else {
      if (c > 0x10FFFF) c = 0xFFFD;
      buf[0] = static_cast<char>(0xF0 | (c >> 18));
      buf[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      buf[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[3] = static_cast<char>(0x80 | (c & 0x3F));
      len = 4;
    }
    if (n + len > cap) break;
    std::memcpy(out + n, buf, len);
    n += len;
  }
  return n;
}

void ReadMessage(Collector& c, int32_t type, const void* value, Message& m) {
  if (!value) return;
  switch (type) {
    case kMessageAscii:
      m.text = static_cast<const char*>(value);
      m.len = strnlen(m.text, kMaxInlineText);
      return;
    case kMessageUnicode:
      m.len = WideToUtf8(static_cast<const wchar_t*>(value), m.wide_buf, sizeof m.wide_buf);
      m.text = m.wide_buf;
      return;
    case kMessageRegistered:
      m.name_id = RegisteredStringId(c, const_cast<void*>(value));
      return;
    default:
      return;
  }
}

bool ValidAttributes(const EventAttributes* a) {
  // Older layouts (v1) are 48 bytes and laid out alike up to the message.
  return a && a->size >= 48;
}

void ReadPayload(const EventAttributes* a, uint8_t& flags, PayloadType& type, uint64_t& bits) {
  switch (a->payload_type) {
    case kPayloadU64:
      type = PayloadType::kU64;
      break;
    case kPayloadI64:
      type = PayloadType::kI64;
      break;
    case kPayloadDouble:
      type = PayloadType::kDouble;
      break;
    case kPayloadU32:
      type = PayloadType::kU32;
      break;
    case kPayloadI32:
      type = PayloadType::kI32;
      break;
    case kPayloadFloat:
      type = PayloadType::kFloat;
      break;
    default:
      type = PayloadType::kNone;
      return;
  }
  flags |= kRangeHasPayload;
  bits = type == PayloadType::kU32 || type == PayloadType::kI32 || type == PayloadType::kFloat
             ? a->payload.ui_value
             : a->payload.ull_value;
}

}  // namespace teye::collector::nvtx_impl
