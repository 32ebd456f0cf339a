#include "event_parser.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "kineto_dialect.h"
#include "number_parse.h"

namespace teye::import {
namespace {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Errors that mean "this value is not the type you asked for" rather than broken JSON.
bool IsTypeError(simdjson::error_code ec) {
  return ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_ERROR ||
         ec == simdjson::NUMBER_OUT_OF_RANGE;
}

// Reads a scalar as its raw token (numbers) or unescaped text (strings); containers are left
// for the iterator to skip. `token` is empty for anything else.
simdjson::error_code ReadScalar(simdjson::ondemand::value v, std::string_view& token,
                                bool& is_string) {
  json_type type;
  if (auto ec = v.type().get(type)) return ec;
  token = {};
  is_string = false;
  if (type == json_type::string) {
    is_string = true;
    return v.get_string().get(token);
  }
  if (type == json_type::number) {
    token = TrimRight(v.raw_json_token());
  }
  return SUCCESS;
}

simdjson::error_code ReadInt(simdjson::ondemand::value v, int64_t& out, bool* present = nullptr) {
  std::string_view token;
  bool is_string;
  if (auto ec = ReadScalar(v, token, is_string)) return ec;
  if (token.empty()) return SUCCESS;
  auto parsed = ParseInteger(token, is_string);
  if (parsed) {
    out = *parsed;
    if (present) *present = true;
  }
  return SUCCESS;
}

simdjson::error_code ReadString(simdjson::ondemand::value v, std::string_view& out) {
  std::string_view token;
  bool is_string;
  if (auto ec = ReadScalar(v, token, is_string)) return ec;
  out = token;
  return SUCCESS;
}

// grid/block: [x, y, z] → x*y*z.
simdjson::error_code ReadDims(simdjson::ondemand::value v, int64_t& product) {
  json_type type;
  if (auto ec = v.type().get(type)) return ec;
  if (type != json_type::array) return ReadInt(v, product);
  simdjson::ondemand::array arr;
  if (auto ec = v.get_array().get(arr)) return ec;
  int64_t p = 1;
  bool any = false;
  for (auto element : arr) {
    simdjson::ondemand::value item;
    if (auto ec = element.get(item)) return ec;
    int64_t d = 0;
    if (auto ec = ReadInt(item, d)) return ec;
    if (d > 0 && p < (int64_t{1} << 40)) p *= d;
    any = true;
  }
  if (any) product = p;
  return SUCCESS;
}

simdjson::error_code ReadId(simdjson::ondemand::value v, int64_t& number, std::string_view& label,
                            bool& present) {
  std::string_view token;
  bool is_string;
  if (auto ec = ReadScalar(v, token, is_string)) return ec;
  if (token.empty()) return SUCCESS;
  present = true;
  if (!is_string) {
    if (auto n = ParseInteger(token)) {
      number = *n;
      return SUCCESS;
    }
    // Out of int64 range (e.g. a uint64 handle): keep it as text.
    label = token;
    return SUCCESS;
  }
  label = token;
  return SUCCESS;
}

// Offset of the first '"' or '\\' at or after `p`, which lies inside a key of a padded document:
// reading up to 31 bytes past the key's closing quote stays within the document or its padding.
size_t QuoteOrBackslash(const char* p) {
#if defined(__AVX2__)
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  for (size_t i = 0;; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash))));
    if (mask) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#else
  size_t i = 0;
  while (p[i] != '"' && p[i] != '\\')
    ++i;
  return i;
#endif
}

// An object key without copying it: keys are compared with constants, and they almost never
// hold escapes (unescaping every key was ~3% of a read). Escaped keys are unescaped as before.
template <typename Field>
simdjson::error_code Key(Field& field, std::string_view& key) {
  simdjson::ondemand::raw_json_string raw;
  if (auto ec = field.key().get(raw)) return ec;
  const char* begin = raw.raw();
  const size_t length = QuoteOrBackslash(begin);
  if (begin[length] == '\\') return field.unescaped_key().get(key);
  key = std::string_view(begin, length);
  return simdjson::SUCCESS;
}

// The args teye reads, as Kineto writes them (several spellings across versions), then teye's
// own. Every event has several args and most are not read: a switch on the length first keeps
// the others to one or two comparisons.
enum class ArgKey : uint8_t {
  kOther,
  kDevice,
  kStream,
  kCorrelation,
  kExternalId,
  kBytes,
  kGrid,
  kBlock,
  kRegisters,
  kSharedMemory,
  kCollectiveName,
  kDtype,
  kInElems,
  kOutElems,
  kGroupSize,
  kGroupName,
  kAlgorithm,
  kProtocol,
  kCopyKind,
  kSize,
  kSrcKind,
  kDstKind,
  kName,
  kDetail,
  kMemDeviceType,
  kMemDeviceId,
  kMemBytes,
  kTotalAllocated,
  kTotalReserved,
  kInputDims,
  kInputType,
  kInputStrides,
  kConcreteInputs,
  kEstOccupancy,
};

ArgKey ClassifyArgKey(std::string_view key) {
  struct Entry {
    std::string_view key;
    ArgKey arg;
  };
  static constexpr Entry kKeys[] = {
      {"device", ArgKey::kDevice},
      {"stream", ArgKey::kStream},
      {"correlation", ArgKey::kCorrelation},
      {"External id", ArgKey::kExternalId},
      {"external id", ArgKey::kExternalId},
      {"bytes", ArgKey::kBytes},
      {"grid", ArgKey::kGrid},
      {"block", ArgKey::kBlock},
      {"registers per thread", ArgKey::kRegisters},
      {"shared memory", ArgKey::kSharedMemory},
      {"Collective name", ArgKey::kCollectiveName},
      {"dtype", ArgKey::kDtype},
      {"In msg nelems", ArgKey::kInElems},
      {"Out msg nelems", ArgKey::kOutElems},
      {"Group size", ArgKey::kGroupSize},
      {"Process Group Name", ArgKey::kGroupName},
      {"algorithm", ArgKey::kAlgorithm},
      {"protocol", ArgKey::kProtocol},
      {"kind", ArgKey::kCopyKind},
      {"copy_kind", ArgKey::kCopyKind},
      {"size", ArgKey::kSize},
      {"src_kind", ArgKey::kSrcKind},
      {"dst_kind", ArgKey::kDstKind},
      {"name", ArgKey::kName},
      {"path", ArgKey::kDetail},
      {"domain", ArgKey::kDetail},
      {"Device Type", ArgKey::kMemDeviceType},
      {"Device Id", ArgKey::kMemDeviceId},
      {"Bytes", ArgKey::kMemBytes},
      {"Total Allocated", ArgKey::kTotalAllocated},
      {"Total Reserved", ArgKey::kTotalReserved},
      {"Input Dims", ArgKey::kInputDims},
      {"Input type", ArgKey::kInputType},
      {"Input Strides", ArgKey::kInputStrides},
      {"Concrete Inputs", ArgKey::kConcreteInputs},
      {"est. achieved occupancy %", ArgKey::kEstOccupancy},
  };
  // Keys by length (the longest is 25): each length's entries in table order.
  constexpr size_t kLengths = 32;
  struct ByLength {
    uint8_t first[kLengths] = {};
    uint8_t count[kLengths] = {};
    uint8_t order[std::size(kKeys)] = {};
  };
  static const ByLength by_length = [] {
    ByLength b;
    uint8_t n = 0;
    for (size_t len = 0; len < kLengths; ++len) {
      b.first[len] = n;
      for (size_t i = 0; i < std::size(kKeys); ++i)
        if (kKeys[i].key.size() == len) b.order[n++] = static_cast<uint8_t>(i);
      b.count[len] = static_cast<uint8_t>(n - b.first[len]);
    }
    return b;
  }();
  // The first (up to) 8 bytes as a word: a key that is not in the table is told apart by one
  // comparison of words, without a call to memcmp.
  auto prefix = [](std::string_view k) {
    uint64_t w = 0;
    if (k.size() >= 8)
      std::memcpy(&w, k.data(), 8);
    else
      for (size_t i = 0; i < k.size(); ++i)
        w |= static_cast<uint64_t>(static_cast<unsigned char>(k[i])) << (8 * i);
    return w;
  };
  static const std::array<uint64_t, std::size(kKeys)> prefixes = [&] {
    std::array<uint64_t, std::size(kKeys)> p{};
    for (size_t i = 0; i < std::size(kKeys); ++i)
      p[i] = prefix(kKeys[i].key);
    return p;
  }();
  if (key.size() >= kLengths) return ArgKey::kOther;
  const size_t first = by_length.first[key.size()];
  const size_t count = by_length.count[key.size()];
  if (count == 0) return ArgKey::kOther;
  const uint64_t word = prefix(key);
  for (size_t i = first; i < first + count; ++i) {
    const size_t k = by_length.order[i];
    if (prefixes[k] == word && kKeys[k].key == key) return kKeys[k].arg;
  }
  return ArgKey::kOther;
}

// JSON text without whitespace outside strings: "[[1, 2], []]" → "[[1,2],[]]". Every character
// JSON allows outside strings, whitespace aside, is above ' '.
void CompactJson(std::string_view raw, std::string& out) {
  out.resize(raw.size());
  char* o = out.data();
  if (raw.find('"') == std::string_view::npos) {
    // Shapes and strides: numbers and brackets only (most of the arguments by volume).
    for (char c : raw) {
      *o = c;
      o += static_cast<unsigned char>(c) > ' ';
    }
  } else {
    bool in_string = false;
    for (size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      *o = c;
      if (in_string) {
        ++o;
        if (c == '\\' && i + 1 < raw.size())
          *o++ = raw[++i];
        else if (c == '"')
          in_string = false;
      } else {
        in_string = c == '"';
        o += static_cast<unsigned char>(c) > ' ';
      }
    }
  }
  out.resize(static_cast<size_t>(o - out.data()));
}

}  // namespace

simdjson::error_code EventParser::ReadShapeList(simdjson::ondemand::value v, Args& a, int which) {
  json_type type;
  if (auto ec = v.type().get(type)) return ec;
  if (type != json_type::array) return SUCCESS;
  simdjson::ondemand::array arr;
  if (auto ec = v.get_array().get(arr)) return ec;
  std::string_view raw;
  if (auto ec = arr.raw_json().get(raw)) return ec;
  CompactJson(raw, shapes_[which]);
  a.has_shapes = true;
  return SUCCESS;
}

simdjson::error_code EventParser::ReadArgs(simdjson::ondemand::object args, Event& e) {
  Args& a = e.args;
  for (auto field : args) {
    std::string_view key;
    if (auto ec = Key(field, key)) return ec;
    simdjson::ondemand::value v;
    if (auto ec = field.value().get(v)) return ec;
    simdjson::error_code ec = SUCCESS;
    switch (ClassifyArgKey(key)) {
      case ArgKey::kDevice:
        ec = ReadInt(v, a.device, &a.has_device);
        break;
      case ArgKey::kStream:
        ec = ReadInt(v, a.stream, &a.has_stream);
        break;
      case ArgKey::kCorrelation:
        ec = ReadInt(v, a.correlation);
        break;
      case ArgKey::kExternalId:
        ec = ReadInt(v, a.external_id);
        break;
      case ArgKey::kBytes:
        ec = ReadInt(v, a.bytes);
        break;
      case ArgKey::kGrid:
        ec = ReadDims(v, a.grid_blocks);
        break;
      case ArgKey::kBlock:
        ec = ReadDims(v, a.block_threads);
        break;
      case ArgKey::kRegisters:
        ec = ReadInt(v, a.registers);
        break;
      case ArgKey::kSharedMemory:
        ec = ReadInt(v, a.shared_memory);
        break;
      case ArgKey::kCollectiveName:
        ec = ReadString(v, a.collective);
        break;
      case ArgKey::kDtype:
        ec = ReadString(v, a.dtype);
        break;
      case ArgKey::kInElems:
        ec = ReadInt(v, a.in_elems);
        break;
      case ArgKey::kOutElems:
        ec = ReadInt(v, a.out_elems);
        break;
      case ArgKey::kGroupSize:
        ec = ReadInt(v, a.group_size);
        break;
      case ArgKey::kGroupName:
        ec = ReadString(v, a.group_name);
        break;
      case ArgKey::kAlgorithm:
        ec = ReadString(v, a.algorithm);
        break;
      case ArgKey::kProtocol:
        ec = ReadString(v, a.protocol);
        break;
      case ArgKey::kCopyKind:
        ec = ReadString(v, a.copy_kind);
        break;
      case ArgKey::kSize:
        if (a.bytes == 0) ec = ReadInt(v, a.bytes);  // HIP runtime memcpy calls
        break;
      case ArgKey::kSrcKind:
        ec = ReadString(v, a.src_kind);
        break;
      case ArgKey::kDstKind:
        ec = ReadString(v, a.dst_kind);
        break;
      case ArgKey::kName:
        ec = ReadString(v, a.meta_name);
        break;
      case ArgKey::kDetail:
        ec = ReadString(v, a.detail);
        break;
      case ArgKey::kMemDeviceType:
        ec = ReadInt(v, a.mem_device_type);
        break;
      case ArgKey::kMemDeviceId:
        ec = ReadInt(v, a.mem_device_id);
        break;
      case ArgKey::kMemBytes:
        ec = ReadInt(v, a.mem_bytes, &a.has_mem_bytes);
        break;
      case ArgKey::kTotalAllocated:
        ec = ReadInt(v, a.total_allocated);
        break;
      case ArgKey::kTotalReserved:
        ec = ReadInt(v, a.total_reserved);
        break;
      case ArgKey::kInputDims:
        ec = ReadShapeList(v, a, 0);
        break;
      case ArgKey::kInputType:
        ec = ReadShapeList(v, a, 1);
        break;
      case ArgKey::kInputStrides:
        ec = ReadShapeList(v, a, 2);
        break;
      case ArgKey::kConcreteInputs:
        ec = ReadShapeList(v, a, 3);
        break;
      case ArgKey::kEstOccupancy:
        ec = ReadInt(v, a.est_occupancy);
        break;
      case ArgKey::kOther:
        if (e.ph == 'C' || e.ph == 0 || e.cat.empty() || e.cat == kCounterRangeCategory) {
          // Counter series values and kernel counters (ph and cat may come later in the object:
          // collect anyway).
          json_type type;
          if ((ec = v.type().get(type)) == SUCCESS && type == json_type::number) {
            double d;
            if ((ec = v.get_double().get(d)) == SUCCESS) numbers_.emplace_back(std::string(key), d);
          }
        }
        break;
    }
    if (ec && !IsTypeError(ec)) return ec;
  }
  return SUCCESS;
}

simdjson::error_code EventParser::Parse(simdjson::ondemand::value element) {
  builder_.stats().events_seen++;
  json_type type;
  if (auto ec = element.type().get(type)) return ec;
  if (type != json_type::object) {
    builder_.stats().Count(SkipReason::kNotAnObject);
    return SUCCESS;  // the iterator skips the value
  }
  simdjson::ondemand::object obj;
  if (auto ec = element.get_object().get(obj)) return ec;

  event_ = Event{};
  numbers_.clear();
  for (std::string& text : shapes_)
    text.clear();
  Event& e = event_;
  for (auto field : obj) {
    std::string_view key;
    if (auto ec = Key(field, key)) return ec;
    simdjson::ondemand::value v;
    if (auto ec = field.value().get(v)) return ec;
    simdjson::error_code ec = SUCCESS;
    if (key == "ph") {
      std::string_view ph;
      ec = ReadString(v, ph);
      if (!ph.empty()) e.ph = ph[0];
    } else if (key == "cat") {
      ec = ReadString(v, e.cat);
    } else if (key == "name") {
      ec = ReadString(v, e.name);
    } else if (key == "ts") {
      bool is_string;
      ec = ReadScalar(v, e.ts_token, is_string);
    } else if (key == "dur") {
      bool is_string;
      ec = ReadScalar(v, e.dur_token, is_string);
    } else if (key == "pid") {
      ec = ReadId(v, e.pid.number, e.pid.label, e.pid.present);
    } else if (key == "tid") {
      ec = ReadId(v, e.tid.number, e.tid.label, e.tid.present);
    } else if (key == "id") {
      ec = ReadId(v, e.id.number, e.id.label, e.id.present);
    } else if (key == "args") {
      json_type at;
      if ((ec = v.type().get(at)) == SUCCESS && at == json_type::object) {
        simdjson::ondemand::object args;
        if ((ec = v.get_object().get(args)) == SUCCESS) ec = ReadArgs(args, e);
      }
    }
    if (ec && !IsTypeError(ec)) return ec;
  }
  Dispatch(e);
  return SUCCESS;
}

void EventParser::AddKernelCounters(const Event& e, const FileTime& ts) {
  counter_values_.clear();
  for (const auto& [key, value] : numbers_)
    counter_values_.push_back({key, value});
  builder_.AddKernelCounters(ts, e.name, e.args.correlation, counter_values_.data(),
                             counter_values_.size());
}

ThreadKey EventParser::KeyOf(const Event& e) const {
  ThreadKey k;
  k.pid = e.pid.number;
  k.pid_label = e.pid.label;
  k.tid = e.tid.number;
  k.tid_label = e.tid.label;
  return k;
}

void EventParser::Dispatch(Event& e) {
  ReadStats& stats = builder_.stats();
  if (e.ph == 0) {
    stats.Count(SkipReason::kMissingPhase);
    return;
  }
  if (e.ph == 'M') {
    if (e.name == "process_name") builder_.SetProcessName(KeyOf(e), e.args.meta_name);
    if (e.name == "thread_name") builder_.SetThreadName(KeyOf(e), e.args.meta_name);
    return;  // other metadata (sort indexes, labels) is display-only
  }
  std::optional<FileTime> ts = e.ts_token.empty() ? std::nullopt : ParseFileTime(e.ts_token);
  if (!ts) {
    stats.Count(SkipReason::kMissingTimestamp);
    return;
  }
  const CategoryInfo cat = e.cat.empty() ? ClassifyUncategorized(e.name) : ClassifyCategory(e.cat);
  const Args& a = e.args;

  switch (e.ph) {
    case 'X': {
      FileTime dur{};
      if (!e.dur_token.empty()) {
        auto d = ParseFileTime(e.dur_token);
        if (!d) {
          stats.Count(SkipReason::kBadNumber);
          return;
        }
        dur = *d;
      }
      CollectiveRecord coll;
      const CollectiveRecord* coll_ptr = nullptr;
      if (!a.collective.empty()) {
        coll = {
            a.collective, a.dtype,     a.in_elems, a.out_elems, static_cast<int32_t>(a.group_size),
            a.group_name, a.algorithm, a.protocol};
        coll_ptr = &coll;
      }
      switch (cat.event_class) {
        case EventClass::kGpuKernel:
        case EventClass::kGpuMemcpy:
        case EventClass::kGpuMemset:
        case EventClass::kGpuSync: {
          GpuOpRecord op;
          op.ts = *ts;
          op.dur = dur;
          op.name = e.name;
          op.kind = cat.event_class == EventClass::kGpuKernel   ? GpuOpKind::kKernel
                    : cat.event_class == EventClass::kGpuMemcpy ? GpuOpKind::kMemcpy
                    : cat.event_class == EventClass::kGpuMemset ? GpuOpKind::kMemset
                                                                : GpuOpKind::kSync;
          // Kineto puts device activity on pid = device, tid = stream; args say it too.
          op.device = static_cast<int16_t>(a.has_device ? a.device : e.pid.number);
          op.stream = static_cast<int32_t>(a.has_stream ? a.stream : e.tid.number);
          op.correlation = a.correlation;
          op.external_id = a.external_id;
          op.bytes = a.bytes;
          if (op.kind == GpuOpKind::kMemcpy) {
            CopyDescription cd = ParseMemcpyName(e.name);
            if (!a.copy_kind.empty() && cd.kind == CopyKind::kUnknown)
              cd.kind = ParseCopyKind(a.copy_kind);
            if (!a.src_kind.empty()) cd.src = ParseMemoryKind(a.src_kind);
            if (!a.dst_kind.empty()) cd.dst = ParseMemoryKind(a.dst_kind);
            op.copy_kind = cd.kind;
            op.src_memory = cd.src;
            op.dst_memory = cd.dst;
          }
          op.grid_blocks = a.grid_blocks;
          op.block_threads = static_cast<int32_t>(a.block_threads);
          op.registers = static_cast<int16_t>(a.registers);
          op.shared_memory = static_cast<int32_t>(a.shared_memory);
          if (a.est_occupancy >= 0 && a.est_occupancy <= 100)
            op.est_occupancy_pct = static_cast<int8_t>(a.est_occupancy);
          op.collective = coll_ptr;
          builder_.AddGpuOp(op);
          return;
        }
        case EventClass::kGpuAnnotation:
          builder_.AddGpuAnnotation(*ts, dur, e.name, static_cast<int16_t>(e.pid.number),
                                    static_cast<int32_t>(e.tid.number));
          return;
        case EventClass::kHost:
        case EventClass::kMemoryInstant: {
          HostSliceRecord s;
          s.ts = *ts;
          s.dur = dur;
          s.name = e.name;
          s.category = e.cat;
          s.kind = cat.host_kind;
          s.thread = builder_.InternThread(KeyOf(e));
          s.correlation = a.correlation;
          s.external_id = a.external_id;
          s.bytes = a.bytes;
          s.detail = a.detail;
          s.collective = coll_ptr;
          OpShapeRecord shapes;
          if (a.has_shapes) {
            shapes = {shapes_[0], shapes_[1], shapes_[2], shapes_[3]};
            s.shapes = &shapes;
          }
          builder_.AddHostSlice(s);
          return;
        }
        case EventClass::kKernelCounters:
          AddKernelCounters(e, *ts);
          return;
      }
      return;
    }
    case 'B':
    case 'b': {
      HostSliceRecord s;
      s.ts = *ts;
      s.name = e.name;
      s.category = e.cat;
      s.kind = cat.event_class == EventClass::kHost ? cat.host_kind : HostSliceKind::kOther;
      s.thread = builder_.InternThread(KeyOf(e));
      s.correlation = a.correlation;
      s.external_id = a.external_id;
      s.bytes = a.bytes;
      s.detail = a.detail;
      if (e.ph == 'B')
        builder_.BeginSlice(s);
      else
        builder_.BeginAsync(s, e.id.number);
      return;
    }
    case 'E':
      builder_.EndSlice(builder_.InternThread(KeyOf(e)), *ts);
      return;
    case 'e':
      builder_.EndAsync(e.cat, e.id.number, *ts);
      return;
    case 'i':
    case 'I':
    case 'R':
    case 'n': {
      ThreadIndex thread = builder_.InternThread(KeyOf(e));
      if (cat.event_class == EventClass::kMemoryInstant && e.name == "[memory]" &&
          a.has_mem_bytes) {
        int16_t device =
            a.mem_device_type == 0 ? int16_t{-1} : static_cast<int16_t>(a.mem_device_id);
        builder_.AddMemoryEvent(*ts, device, a.mem_bytes, a.total_allocated, a.total_reserved,
                                thread);
        return;
      }
      builder_.AddInstant(*ts, e.name, e.cat, thread);
      return;
    }
    case 'C': {
      for (const auto& [key, value] : numbers_) {
        if (numbers_.size() == 1) {
          builder_.AddCounter(*ts, e.name, e.pid.number, value);
        } else {
          counter_name_.assign(e.name);
          counter_name_ += '.';
          counter_name_ += key;
          builder_.AddCounter(*ts, counter_name_, e.pid.number, value);
        }
      }
      return;
    }
    case 's':
    case 't':
    case 'f':
      builder_.AddFlow(e.id.number, e.cat, *ts, builder_.InternThread(KeyOf(e)), e.ph);
      return;
    default:
      stats.Count(SkipReason::kUnknownPhase);
      return;
  }
}

}  // namespace teye::import
