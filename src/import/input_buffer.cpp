#include "input_buffer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <mutex>
#include <optional>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace teye::import {
namespace {

Error IoError(const std::string& path, const std::string& what) {
  return Error{what + ": " + std::strerror(errno), path, -1};
}

}  // namespace

bool LooksGzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

InputBuffer::Mapping::~Mapping() {
  if (data) ::munmap(const_cast<char*>(data), length);
}

// A gzip input being inflated (ISA-L's igzip: about three times zlib's rate here, and it
// streams, so that inflating overlaps parsing; libdeflate inflates whole buffers only). The
// output goes into a reservation of address space (MAP_NORESERVE) whose pages exist only once
// written, and leave again when the reader is done with them.
struct InputBuffer::Stream {
  static constexpr size_t kSlice = size_t{4} << 20;  // output bytes per inflate task

  InputBuffer compressed;
  inflate_state state{};
  char* out = nullptr;
  size_t reserved = 0;  // bytes of address space at `out`
  size_t isize_hint = 0;

  std::mutex mu;  // everything below but the atomics, and one slice at a time
  std::atomic<size_t> available{0};
  std::atomic<bool> complete{false};
  bool truncated = false;
  bool inflating = false;  // a slice task is queued or running
  bool stopping = false;
  size_t requested = 0;  // the most a reader asked for
  size_t released = 0;   // DoneBefore
  Executor* executor = nullptr;
  std::optional<TaskGroup> tasks;

  ~Stream() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    tasks.reset();  // waits for a slice in flight
    if (out) ::munmap(out, reserved);
  }

  bool Parallel() const { return executor && executor->threads() > 1; }

  // Inflates the next slice into `out`; mu is held by the caller or by `inflating`.
  void InflateSlice() {
    size_t at = available.load(std::memory_order_relaxed);
    if (at + kSlice + InputBuffer::kPadding > reserved) Grow(at + kSlice + InputBuffer::kPadding);
    const size_t room = std::min(kSlice, reserved - InputBuffer::kPadding - at);
    state.next_out = reinterpret_cast<uint8_t*>(out + at);
    state.avail_out = static_cast<uint32_t>(room);
    bool done = room == 0;  // no more address space: keep what fit
    while (!done && state.avail_out > 0) {
      Refill();
      const uint8_t* in_before = state.next_in;
      const uint8_t* out_before = state.next_out;
      const int rc = isal_inflate(&state);
      Refill();
      if (rc < 0 || (state.next_in == in_before && state.next_out == out_before &&
                     state.block_state != ISAL_BLOCK_FINISH)) {
        // Corrupt data (or no progress): keep what came before it.
        truncated = true;
        done = true;
      } else if (state.block_state == ISAL_BLOCK_FINISH) {
        // Another gzip member may follow (concatenated files); anything else after the last
        // member is ignored, as gzip does.
        const uint8_t* rest = state.next_in;
        const uint32_t rest_size = state.avail_in;
        if (rest_size >= 2 &&
            LooksGzip(std::string_view(reinterpret_cast<const char*>(rest), rest_size))) {
          uint8_t* next_out = state.next_out;
          const uint32_t avail_out = state.avail_out;
          isal_inflate_reset(&state);
          state.crc_flag = ISAL_GZIP;
          state.next_in = const_cast<uint8_t*>(rest);
          state.avail_in = rest_size;
          state.next_out = next_out;
          state.avail_out = avail_out;
        } else {
          done = true;
        }
      } else if (state.avail_in == 0) {  // the input ends inside the stream
        truncated = true;
        done = true;
      }
    }
    available.store(at + room - state.avail_out, std::memory_order_release);
    if (done) complete.store(true, std::memory_order_release);
  }

  // igzip takes at most 4 GiB of input per call: feed the next part of a bigger file.
  void Refill() {
    if (state.avail_in > 0) return;
    const std::string_view in = compressed.view();
    const char* next = reinterpret_cast<const char*>(state.next_in);
    const size_t left = static_cast<size_t>(in.data() + in.size() - next);
    state.avail_in = static_cast<uint32_t>(std::min<size_t>(left, UINT32_MAX));
  }

  // More address space after `out`, in place (the reader holds pointers into it).
  void Grow(size_t need) {
    size_t bigger = std::max(need, reserved * 2);
    bigger = (bigger + 4095) / 4096 * 4096;
    void* p = ::mremap(out, reserved, bigger, 0);
    if (p != MAP_FAILED) reserved = bigger;
  }

  // Starts a slice task when one is wanted; mu held.
  void MaybeSpawn() {
    if (inflating || stopping || complete.load(std::memory_order_relaxed)) return;
    const size_t have = available.load(std::memory_order_relaxed);
    if (have >= released + InputBuffer::kInflateAhead && have >= requested) return;
    inflating = true;
    tasks->Spawn([this] {
      {
        std::lock_guard lock(mu);
        if (!stopping) InflateSlice();
        inflating = false;
        MaybeSpawn();
      }
      tasks->Notify();
    });
  }

  // Waits until [0, n) is inflated or the input is complete.
  void Pump(size_t n) {
    auto enough = [&] {
      return available.load(std::memory_order_acquire) >= n ||
             complete.load(std::memory_order_acquire);
    };
    if (enough()) return;
    if (!Parallel()) {
      std::lock_guard lock(mu);
      while (!enough())
        InflateSlice();
      return;
    }
    {
      std::lock_guard lock(mu);
      requested = std::max(requested, n);
      MaybeSpawn();
    }
    tasks->WaitUntil(enough);
  }

  void Release(size_t end) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    std::lock_guard lock(mu);
    end = std::min(end, available.load(std::memory_order_relaxed)) / page * page;
    if (end <= released) return;
    ::madvise(out + released, end - released, MADV_DONTNEED);
    released = end;
    if (Parallel()) MaybeSpawn();
  }
};

InputBuffer::InputBuffer() = default;
InputBuffer::~InputBuffer() = default;
InputBuffer::InputBuffer(InputBuffer&&) noexcept = default;
InputBuffer& InputBuffer::operator=(InputBuffer&&) noexcept = default;

const char* InputBuffer::data() const {
  if (stream_) return stream_->out;
  return mapping_ ? mapping_->data : data_.get();
}

std::string_view InputBuffer::view() const {
  if (!stream_) return {data(), size_};
  stream_->Pump(SIZE_MAX);
  return {stream_->out, stream_->available.load(std::memory_order_acquire)};
}

std::string_view InputBuffer::Prefix(size_t n) const {
  if (!stream_) return {data(), size_};
  stream_->Pump(n);
  return {stream_->out, stream_->available.load(std::memory_order_acquire)};
}

bool InputBuffer::complete() const {
  return !stream_ || stream_->complete.load(std::memory_order_acquire);
}

size_t InputBuffer::size_hint() const {
  if (!stream_) return size_;
  return std::max(stream_->isize_hint, stream_->available.load(std::memory_order_acquire));
}

bool InputBuffer::gzip_truncated() const {
  if (!stream_) return false;
  view();
  std::lock_guard lock(stream_->mu);
  return stream_->truncated;
}

void InputBuffer::InflateOn(Executor* executor) const {
  if (!stream_) return;
  std::lock_guard lock(stream_->mu);
  if (stream_->executor) return;  // already
  stream_->executor = executor;
  stream_->tasks.emplace(executor);
  if (stream_->Parallel()) stream_->MaybeSpawn();
}

Result<InputBuffer> InputBuffer::Gunzip(const std::string& name, InputBuffer compressed) {
  const std::string_view in = compressed.view();
  auto stream = std::make_unique<Stream>();
  // ISIZE (the last member's size mod 2^32) sizes work; the reservation is generous, since
  // address space costs nothing until written, and grows in place if it must.
  if (in.size() >= 18) {
    uint32_t isize;
    std::memcpy(&isize, in.data() + in.size() - 4, 4);
    stream->isize_hint = isize;
  }
  size_t reserve = std::max(stream->isize_hint, in.size() * 64) + Stream::kSlice + kPadding;
  reserve = (reserve + 4095) / 4096 * 4096;
  void* p = ::mmap(nullptr, reserve, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Error{"cannot reserve memory to inflate the gzip data", name, -1};
  stream->out = static_cast<char*>(p);
  stream->reserved = reserve;
  isal_inflate_init(&stream->state);
  stream->state.crc_flag = ISAL_GZIP;
  stream->state.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
  stream->state.avail_in = static_cast<uint32_t>(std::min<size_t>(in.size(), UINT32_MAX));
  InputBuffer buf;
  buf.gzip = true;
  buf.bytes_on_disk = compressed.bytes_on_disk;
  stream->compressed = std::move(compressed);
  buf.stream_ = std::move(stream);
  // The first slice now: the format sniffer needs the first bytes, and a file that does not
  // inflate at all is an error of its own.
  buf.stream_->Pump(1);
  if (buf.stream_->available.load() == 0)
    return Error{"gzip data is corrupt or empty: nothing could be decompressed", name, 0};
  return buf;
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
  if (stream_) return stream_->Release(end);
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
  InputBuffer buf;
  std::memcpy(buf.Allocate(bytes.size()), bytes.data(), bytes.size());
  buf.bytes_on_disk = static_cast<int64_t>(bytes.size());
  if (LooksGzip(bytes)) return InputBuffer::Gunzip(std::string(name), std::move(buf));
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
  if (LooksGzip(raw.view())) return InputBuffer::Gunzip(path, std::move(raw));
  return raw;
}

}  // namespace teye::import
