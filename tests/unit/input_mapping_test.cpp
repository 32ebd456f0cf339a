// Large regular files are mapped instead of copied, big buffers (inflated gzip) are anonymous
// mappings, and the reader gives parsed pages of both back: the model must not change, whatever
// the file's size relative to the page size.
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include "teye/import/read_trace.h"

#include "input_buffer.h"
#include "test_traces.h"

namespace teye {
namespace {

std::string Gzip(std::string_view text) {
  z_stream zs{};
  deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A trace of `events` kernels and launches, padded with spaces to exactly `bytes` when asked.
std::string BigTrace(int events, size_t bytes = 0) {
  std::string body;
  for (int i = 0; i < events; ++i) {
    if (i) body += ",\n";
    body +=
        "{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"pid\": 1, "
        "\"tid\": 1, \"ts\": " +
        std::to_string(10 * i) +
        ", \"dur\": 2, \"args\": {\"correlation\": " + std::to_string(i + 1) +
        "}},\n{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k" + std::to_string(i % 7) +
        "\", \"pid\": 0, \"tid\": 7, \"ts\": " + std::to_string(10 * i + 3) +
        ".5, \"dur\": 4, \"args\": {\"device\": 0, \"stream\": 7, \"correlation\": " +
        std::to_string(i + 1) + "}}";
  }
  std::string s = test::Wrap(body);
  if (bytes > s.size()) s.append(bytes - s.size(), ' ');
  return s;
}

std::string WriteTemp(const std::string& text, const std::string& name) {
  const std::string path = ::testing::TempDir() + "teye_map_" + std::to_string(::getpid()) + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void ExpectSameModel(const std::string& text, const std::string& name) {
  const std::string path = WriteTemp(text, name);
  ReadOptions o;
  o.chunk_bytes = 64 << 10;  // many chunks, so many pages are given back during the read
  o.threads = 2;
  auto from_file = ReadTraceFile(path, o);
  auto from_bytes = ReadTraceBytes("mem.json", text, o);
  ASSERT_TRUE(from_file.ok()) << from_file.error().ToString();
  ASSERT_TRUE(from_bytes.ok());
  const Trace& a = from_file.value();
  const Trace& b = from_bytes.value();
  ASSERT_EQ(a.gpu_ops().size(), b.gpu_ops().size());
  ASSERT_EQ(a.host_slices().size(), b.host_slices().size());
  EXPECT_EQ(a.gpu_ops().start_ns, b.gpu_ops().start_ns);
  EXPECT_EQ(a.gpu_ops().launch, b.gpu_ops().launch);
  for (size_t i = 0; i < a.gpu_ops().size(); i += 997)
    EXPECT_EQ(a.str(a.gpu_ops().name[i]), b.str(b.gpu_ops().name[i]));
  EXPECT_EQ(a.stats().events_kept, b.stats().events_kept);
  EXPECT_FALSE(a.stats().truncated);
  std::remove(path.c_str());
}

TEST(InputMapping, BigFileIsMappedAndReadLikeBytes) {
  const std::string text = BigTrace(8000);
  ASSERT_GT(text.size(), size_t{1} << 20);
  const std::string path = WriteTemp(text, "probe.json");
  auto input = import::LoadInputFile(path);
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input.value().view(), text);
  input.value().DoneBefore(text.size() / 2);  // given back, still readable
  EXPECT_EQ(input.value().view(), text);
  std::remove(path.c_str());
  ExpectSameModel(text, "big.json");
}

TEST(InputMapping, BigGzipIsInflatedIntoAMappingAndReadLikeBytes) {
  const std::string text = BigTrace(8000);
  const std::string gz = Gzip(text);
  const std::string path = WriteTemp(gz, "big.json.gz");
  ReadOptions o;
  o.chunk_bytes = 64 << 10;
  auto from_gzip = ReadTraceFile(path, o);
  auto from_text = ReadTraceBytes("mem.json", text, o);
  ASSERT_TRUE(from_gzip.ok()) << from_gzip.error().ToString();
  ASSERT_TRUE(from_text.ok());
  EXPECT_TRUE(from_gzip.value().info().gzip);
  EXPECT_EQ(from_gzip.value().gpu_ops().start_ns, from_text.value().gpu_ops().start_ns);
  EXPECT_EQ(from_gzip.value().host_slices().start_ns, from_text.value().host_slices().start_ns);
  EXPECT_EQ(from_gzip.value().stats().events_kept, from_text.value().stats().events_kept);
  std::remove(path.c_str());
}

// A gzip input of several inflate slices (InputBuffer::Stream::kSlice, 4 MB) is parsed while it
// is inflated: with parsers on two threads or one, in one gzip member or three, the model is the
// one the plain text gives.
TEST(InputMapping, GzipInflatedWhileItIsParsed) {
  const std::string text = BigTrace(60000);
  ASSERT_GT(text.size(), size_t{16} << 20);
  auto plain = ReadTraceBytes("mem.json", text);
  ASSERT_TRUE(plain.ok());
  // Three members: gzip of the first third, then of the rest in two parts.
  const size_t a = text.size() / 3, b = 2 * text.size() / 3;
  const std::string members = Gzip(std::string_view(text).substr(0, a)) +
                              Gzip(std::string_view(text).substr(a, b - a)) +
                              Gzip(std::string_view(text).substr(b));
  for (const std::string& gz : {Gzip(text), members}) {
    const std::string path = WriteTemp(gz, "stream.json.gz");
    for (unsigned threads : {1u, 2u}) {
      ReadOptions o;
      o.chunk_bytes = 256 << 10;
      o.threads = threads;
      auto read = ReadTraceFile(path, o);
      ASSERT_TRUE(read.ok()) << read.error().ToString();
      const Trace& t = read.value();
      EXPECT_TRUE(t.info().gzip);
      EXPECT_EQ(t.info().bytes_parsed, static_cast<int64_t>(text.size()));
      EXPECT_FALSE(t.stats().truncated);
      EXPECT_TRUE(t.stats().warnings.empty());
      EXPECT_EQ(t.gpu_ops().start_ns, plain.value().gpu_ops().start_ns);
      EXPECT_EQ(t.gpu_ops().launch, plain.value().gpu_ops().launch);
      EXPECT_EQ(t.host_slices().start_ns, plain.value().host_slices().start_ns);
    }
    std::remove(path.c_str());
  }
}

// A gzip file cut off mid-write (the job was killed) is read up to its last complete event,
// with the gzip warning and the truncation noted, however far the inflater had got.
TEST(InputMapping, GzipCutShortWhileItIsParsed) {
  const std::string text = BigTrace(60000);
  const std::string gz = Gzip(text);
  const std::string path = WriteTemp(gz.substr(0, gz.size() * 3 / 5), "cut.json.gz");
  for (unsigned threads : {1u, 2u}) {
    ReadOptions o;
    o.chunk_bytes = 256 << 10;
    o.threads = threads;
    auto read = ReadTraceFile(path, o);
    ASSERT_TRUE(read.ok()) << read.error().ToString();
    const Trace& t = read.value();
    EXPECT_TRUE(t.stats().truncated);
    ASSERT_FALSE(t.stats().warnings.empty());
    EXPECT_NE(t.stats().warnings.front().find("gzip stream ends early"), std::string::npos);
    // About 3/5 of the events survive (the trace compresses evenly), and no partial event.
    EXPECT_GT(t.gpu_ops().size(), 60000u * 2 / 5);
    EXPECT_LT(t.gpu_ops().size(), 60000u * 4 / 5);
    EXPECT_EQ(t.stats().TotalLost(), 0);
  }
  std::remove(path.c_str());
}

TEST(InputMapping, SizesAtAndNearPageBoundaries) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t base = (BigTrace(8000).size() / page + 2) * page;
  // Exactly a page multiple (no room for padding: read), 10 bytes short (read), 100 short (map).
  for (size_t size : {base, base - 10, base - 100})
    ExpectSameModel(BigTrace(8000, size), std::to_string(size));
}

}  // namespace
}  // namespace teye
