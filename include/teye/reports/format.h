// Small formatting helpers shared by the writers (formatting only, no analysis).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace teye {

// "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, ...>(...)"
// → "vectorized_elementwise_kernel<4, FillFunctor<float>, …>" within max_chars.
std::string ShortKernelName(std::string_view name, size_t max_chars);
// 1234567 → "1.2 MB" (powers of 1000, as bandwidths are quoted).
std::string HumanBytes(int64_t bytes);
// Milliseconds with a precision that suits their size: "1234", "12.3", "0.123".
std::string FormatMs(double ms);
// Thousands separators: 1234567 → "1,234,567".
std::string WithCommas(int64_t n);
// Keeps at most max_chars, ending with "…" when cut.
std::string Ellipsize(std::string_view s, size_t max_chars);
// Text for a terminal: escape sequences (CSI, OSC, two-byte) and other control characters (C0 but
// newline, DEL, C1) removed whole, tabs made spaces, so a trace's strings cannot drive the
// terminal. With keep_sgr, colour sequences `ESC [ digits ; … m` stay (the writer's own colours;
// at worst a trace's string changes a colour).
std::string TerminalSafe(std::string_view text, bool keep_sgr);

}  // namespace teye
