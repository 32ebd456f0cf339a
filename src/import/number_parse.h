// Exact parsing of JSON number tokens. Times keep 1/1000 of the file's unit exactly (PyTorch
// writes µs with three decimals), which a double cannot do for epoch-sized values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "teye/model/trace_builder.h"

namespace teye::import {

// Parses a JSON number (or a string holding one) as a FileTime. Accepts an optional sign,
// digits, a fraction and an exponent; nullopt for anything else or a non-finite value.
std::optional<FileTime> ParseFileTime(std::string_view token);

// Parses an integer written as a JSON number token ("12", "-1", "1.0", "1e3"), or, with
// `from_string`, the text of a JSON string holding a decimal or 0x-prefixed hex integer ("0x7f",
// "2560"). nullopt when out of int64 range or not a number.
std::optional<int64_t> ParseInteger(std::string_view token, bool from_string = false);

}  // namespace teye::import
