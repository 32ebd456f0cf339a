// Errors are values in libraries (STYLE.md 5): functions that can fail return Result<T>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace teye {

struct Error {
  std::string message;  // one line, says what was expected
  std::string file;     // file the error is about, when there is one
  int64_t offset = -1;  // byte offset in the (decompressed) input, when known

  // "file: byte 123: message" — the one line the CLI prints.
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Error> v_;
};

inline std::string Error::ToString() const {
  std::string out;
  if (!file.empty()) out += file + ": ";
  if (offset >= 0) out += "byte " + std::to_string(offset) + ": ";
  out += message;
  return out;
}

}  // namespace teye
