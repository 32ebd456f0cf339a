// Loads an input file (or bytes) into one buffer with the padding simdjson needs, inflating
// gzip transparently. Detection is by content, not by file name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "teye/model/result.h"

namespace teye::import {

class InputBuffer {
 public:
  // Readable bytes past size() that are always present and zeroed (simdjson's padding).
  static constexpr size_t kPadding = 64;

  InputBuffer() = default;
  InputBuffer(InputBuffer&&) noexcept = default;
  InputBuffer& operator=(InputBuffer&&) noexcept = default;

  std::string_view view() const { return {data(), size_}; }
  const char* data() const { return mapping_ ? mapping_->data : data_.get(); }
  size_t size() const { return size_; }

  bool gzip = false;
  bool gzip_truncated = false;  // the compressed stream ended early; view() holds what inflated
  int64_t bytes_on_disk = 0;

  // Takes `n` bytes of storage; the caller fills [0, n).
  char* Allocate(size_t n);
  // Keeps the first n bytes (n <= size()); the padding after them is zeroed again.
  void Shrink(size_t n);
  // Maps `size` bytes of the regular file `fd` read-only when the zeroed tail of its last page
  // holds the padding; false (nothing changed) otherwise. Saves the copy from the page cache and
  // the page faults of a fresh buffer.
  bool Map(int fd, size_t size);
  // The reader is done with bytes [0, end) and will not read them again: the pages there of a
  // mapped file or of a big (anonymously mapped) buffer leave the process's memory. A file's
  // pages would be read again from the page cache if touched, a buffer's would read as zeros.
  // No-op for small buffers.
  void DoneBefore(size_t end) const;

 private:
  struct Mapping {
    const char* data = nullptr;
    size_t length = 0;
    size_t released = 0;  // pages below this offset were given back
    ~Mapping();
  };
  std::unique_ptr<char[]> data_;
  std::unique_ptr<Mapping> mapping_;
  size_t size_ = 0;
};

// Reads `path` ("-" for standard input). Errors name the file.
Result<InputBuffer> LoadInputFile(const std::string& path);
// Wraps in-memory bytes (copied), inflating gzip.
Result<InputBuffer> LoadInputBytes(std::string_view name, std::string_view bytes);

bool LooksGzip(std::string_view bytes);

}  // namespace teye::import
