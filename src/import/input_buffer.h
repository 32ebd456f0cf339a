// Loads an input file (or bytes) into one buffer with the padding simdjson needs, inflating
// gzip transparently. Detection is by content, not by file name.
//
// A gzip input is inflated while it is read: its bytes arrive in a reserved range of address
// space, in slices inflated by tasks on the reader's executor (InflateOn), never more than
// kInflateAhead bytes past what the reader has given back (DoneBefore) unless it asks for more.
// Readers that can work on a growing prefix use Prefix(); view() waits for all of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "teye/model/result.h"
#include "teye/runtime/executor.h"

namespace teye::import {

class InputBuffer {
 public:
  // Readable bytes past size() that are always present and zeroed (simdjson's padding).
  static constexpr size_t kPadding = 64;
  // How far a gzip input's inflater may run ahead of the reader.
  static constexpr size_t kInflateAhead = size_t{64} << 20;

  InputBuffer();
  ~InputBuffer();
  InputBuffer(InputBuffer&&) noexcept;
  InputBuffer& operator=(InputBuffer&&) noexcept;

  // The whole input; for a gzip input, waits until it is all inflated.
  std::string_view view() const;
  // Where the bytes are (or will be, for a gzip input): stable for the buffer's life.
  const char* data() const;
  size_t size() const { return view().size(); }
  // Bytes [0, n), or all of the input when it is shorter, waiting for the inflater to get that
  // far. The view may be longer than n.
  std::string_view Prefix(size_t n) const;
  // True when every byte of the input is there (always, but for a gzip input being inflated).
  bool complete() const;
  // The input's size when known, else an estimate (a gzip trailer's ISIZE): for sizing work.
  size_t size_hint() const;

  bool gzip = false;
  int64_t bytes_on_disk = 0;
  // The compressed stream ended early or was damaged; view() holds what inflated. Waits until the
  // input is complete.
  bool gzip_truncated() const;

  // Inflates the rest of a gzip input in slices, as tasks on `executor` (nullptr: on the thread
  // that waits for bytes). Nothing for other inputs.
  void InflateOn(Executor* executor) const;

  // Takes `n` bytes of storage; the caller fills [0, n).
  char* Allocate(size_t n);
  // Keeps the first n bytes (n <= size()); the padding after them is zeroed again.
  void Shrink(size_t n);
  // Maps `size` bytes of the regular file `fd` read-only when the zeroed tail of its last page
  // holds the padding; false (nothing changed) otherwise. Saves the copy from the page cache and
  // the page faults of a fresh buffer.
  bool Map(int fd, size_t size);
  // The reader is done with bytes [0, end) and will not read them again: the pages there of a
  // mapped file, of a big (anonymously mapped) buffer or of an inflated gzip input leave the
  // process's memory. A file's pages would be read again from the page cache if touched, the
  // others' would read as zeros. No-op for small buffers.
  void DoneBefore(size_t end) const;

  // Takes `compressed` (gzip bytes) as the input to inflate; inflates the first slice at once.
  // An error when nothing at all inflates.
  static Result<InputBuffer> Gunzip(const std::string& name, InputBuffer compressed);

 private:
  struct Mapping {
    const char* data = nullptr;
    size_t length = 0;
    size_t released = 0;  // pages below this offset were given back
    ~Mapping();
  };
  struct Stream;
  std::unique_ptr<char[]> data_;
  std::unique_ptr<Mapping> mapping_;
  std::unique_ptr<Stream> stream_;
  size_t size_ = 0;
};

// Reads `path` ("-" for standard input). Errors name the file.
Result<InputBuffer> LoadInputFile(const std::string& path);
// Wraps in-memory bytes (copied), inflating gzip.
Result<InputBuffer> LoadInputBytes(std::string_view name, std::string_view bytes);

bool LooksGzip(std::string_view bytes);

}  // namespace teye::import
