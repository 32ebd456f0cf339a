// A small structural JSON scanner: finds where values end without building them. It is the
// reader's slow, tolerant path (top-level keys, the last chunk, chunks that failed the fast
// parse) and never reads past the end of its input.
#pragma once

#include <cstddef>
#include <string_view>

namespace teye::import {

inline constexpr size_t kNotFound = static_cast<size_t>(-1);

size_t SkipWhitespace(std::string_view s, size_t pos);

// Given s[pos] at the start of a value, returns the offset just past its end, or kNotFound when
// the input ends first. Scalars end at the next structural character or whitespace.
size_t ScanValueEnd(std::string_view s, size_t pos);

// Given s[pos] == '"', returns the offset just past the closing quote, or kNotFound.
size_t ScanStringEnd(std::string_view s, size_t pos);

// Speculative event boundary for chunking: the offset of the '{' of the first
// `}` ws* `,` ws* `{` at or after `pos`, or kNotFound. It may lie inside a string or nested
// object; the caller verifies it by parsing (see chrome_json_reader.cpp).
size_t FindSpeculativeBoundary(std::string_view s, size_t pos);

}  // namespace teye::import
