#include "input_buffer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <libdeflate.h>
#include <zlib.h>

namespace teye::import {
namespace {

Error IoError(const std::string& path, const std::string& what) {
  return Error{what + ": " + std::strerror(errno), path, -1};
}

// Inflates with zlib's streaming API, keeping whatever came out before an error or the end of
// the input (a gzip file cut off mid-write still yields its complete prefix). Handles
// concatenated members.
bool InflateStreaming(std::string_view in, std::vector<char>& out, bool& truncated) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  size_t consumed_base = 0;
  size_t produced = 0;
  out.resize(std::max<size_t>(in.size() * 4, 1 << 16));
  truncated = false;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, UINT32_MAX));
    const uInt before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (zs.avail_in == 0 && consumed_base + zs.total_in < in.size()) {
      // Feed the next slice of a >4 GiB input.
      size_t done = consumed_base + zs.total_in;
      consumed_base = done;
      zs.total_in = 0;
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + done));
      zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - done, UINT32_MAX));
    }
    if (rc == Z_STREAM_END) {
      size_t done = consumed_base + zs.total_in;
      // Another gzip member may follow.
      if (done + 2 <= in.size() && LooksGzip(in.substr(done))) {
        inflateReset(&zs);
        consumed_base = done;
        zs.total_in = 0;
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + done));
        zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - done, UINT32_MAX));
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {  // input ended inside the stream
      truncated = true;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {  // corrupt data: keep what came before it
      truncated = true;
      break;
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return true;
}

Result<InputBuffer> Gunzip(const std::string& name, std::string_view in, int64_t on_disk) {
  InputBuffer buf;
  buf.gzip = true;
  buf.bytes_on_disk = on_disk;
  // Fast path: libdeflate, whole buffer, sized from the gzip trailer (ISIZE, size mod 2^32).
  if (in.size() >= 18) {
    uint32_t isize;
    std::memcpy(&isize, in.data() + in.size() - 4, 4);
    size_t guess = isize;
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    for (int attempt = 0; d && attempt < 8; ++attempt) {
      char* out = buf.Allocate(guess);
      size_t in_used = 0, out_used = 0;
      auto rc =
          libdeflate_gzip_decompress_ex(d, in.data(), in.size(), out, guess, &in_used, &out_used);
      if (rc == LIBDEFLATE_SUCCESS && in_used == in.size()) {
        libdeflate_free_decompressor(d);
        buf.Shrink(out_used);
        return buf;
      }
      if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) {
        guess += size_t{1} << 32;  // ISIZE wrapped: the real size is larger by a multiple of 4 GiB
        continue;
      }
      break;  // multi-member, truncated or corrupt: the streaming path handles those
    }
    if (d) libdeflate_free_decompressor(d);
  }
  std::vector<char> out;
  bool truncated = false;
  InflateStreaming(in, out, truncated);
  if (out.empty()) {
    return Error{"gzip data is corrupt or empty: nothing could be decompressed", name, 0};
  }
  std::memcpy(buf.Allocate(out.size()), out.data(), out.size());
  buf.gzip_truncated = truncated;
  return buf;
}

}  // namespace

bool LooksGzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

InputBuffer::Mapping::~Mapping() {
  if (data) ::munmap(const_cast<char*>(data), length);
}

bool InputBuffer::Map(int fd, size_t size) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  // Small files gain nothing; a file ending within kPadding of a page boundary has no zeroed
  // padding after it in the mapping.
  if (size < (size_t{1} << 20) || size % page == 0 || page - size % page < kPadding) return false;
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return false;
  ::madvise(p, size, MADV_WILLNEED);
  data_.reset();
  mapping_ = std::make_unique<Mapping>();
  mapping_->data = static_cast<const char*>(p);
  mapping_->length = size;
  size_ = size;
  return true;
}

void InputBuffer::DoneBefore(size_t end) const {
  if (!mapping_) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  end = std::min(end, mapping_->length) / page * page;
  if (end <= mapping_->released) return;
  // A file mapping's pages come back from the page cache if touched again; an anonymous one's
  // come back as zeros, which the reader never reads: it is past them for good.
  ::madvise(const_cast<char*>(mapping_->data) + mapping_->released, end - mapping_->released,
            MADV_DONTNEED);
  mapping_->released = end;
}

char* InputBuffer::Allocate(size_t n) {
  mapping_.reset();
  data_.reset();
  size_ = n;
  // Big buffers (inflated gzip, files that cannot be mapped) are anonymous mappings of their
  // own, so DoneBefore can give their parsed pages back as it does a mapped file's.
  if (n >= (size_t{1} << 20)) {
    void* p =
        ::mmap(nullptr, n + kPadding, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      mapping_ = std::make_unique<Mapping>();
      mapping_->data = static_cast<const char*>(p);
      mapping_->length = n + kPadding;
      return static_cast<char*>(p);  // anonymous pages are zero, the padding too
    }
  }
  data_.reset(new char[n + kPadding]);
  std::memset(data_.get() + n, 0, kPadding);
  return data_.get();
}

void InputBuffer::Shrink(size_t n) {
  size_ = n;
  std::memset(const_cast<char*>(data()) + n, 0, kPadding);
}

Result<InputBuffer> LoadInputBytes(std::string_view name, std::string_view bytes) {
  if (LooksGzip(bytes)) return Gunzip(std::string(name), bytes, static_cast<int64_t>(bytes.size()));
  InputBuffer buf;
  std::memcpy(buf.Allocate(bytes.size()), bytes.data(), bytes.size());
  buf.bytes_on_disk = static_cast<int64_t>(bytes.size());
  return buf;
}

Result<InputBuffer> LoadInputFile(const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    if (fd != STDIN_FILENO) ::close(fd);
    return IoError(path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    if (fd != STDIN_FILENO) ::close(fd);
    return Error{"is a directory, not a trace file", path, -1};
  }
  // Regular files are read in one go into a buffer of their size; pipes grow as needed.
  std::vector<char> pipe_bytes;
  InputBuffer raw;
  size_t size = 0;
  if (S_ISREG(st.st_mode) && raw.Map(fd, static_cast<size_t>(st.st_size))) {
    size = raw.size();
  } else if (S_ISREG(st.st_mode)) {
    char* dst = raw.Allocate(static_cast<size_t>(st.st_size));
    while (size < static_cast<size_t>(st.st_size)) {
      ssize_t n = ::read(fd, dst + size, static_cast<size_t>(st.st_size) - size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        if (fd != STDIN_FILENO) ::close(fd);
        return IoError(path, "read failed");
      }
      if (n == 0) break;
      size += static_cast<size_t>(n);
    }
    raw.Shrink(size);
  } else {
    char chunk[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        if (fd != STDIN_FILENO) ::close(fd);
        return IoError(path, "read failed");
      }
      if (n == 0) break;
      pipe_bytes.insert(pipe_bytes.end(), chunk, chunk + n);
    }
    std::memcpy(raw.Allocate(pipe_bytes.size()), pipe_bytes.data(), pipe_bytes.size());
    size = pipe_bytes.size();
  }
  if (fd != STDIN_FILENO) ::close(fd);
  raw.bytes_on_disk = static_cast<int64_t>(size);
  if (LooksGzip(raw.view())) return Gunzip(path, raw.view(), raw.bytes_on_disk);
  return raw;
}

}  // namespace teye::import
