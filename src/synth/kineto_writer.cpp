#include "kineto_writer.h"

#include <cstdio>
#include <cstdlib>

namespace teye::synth {

KinetoWriter::~KinetoWriter() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
}

void KinetoWriter::Begin(std::string_view extra_top_level) {
  buffer_ += "{\n  \"schemaVersion\": 1,\n";
  if (!extra_top_level.empty()) {
    buffer_ += "  ";
    buffer_ += extra_top_level;
    buffer_ += ",\n";
  }
  buffer_ += "  \"traceEvents\": [\n";
}

void KinetoWriter::Event(std::string_view body) {
  if (events_ > 0) buffer_ += ",\n";
  buffer_ += "  {";
  buffer_ += body;
  buffer_ += "}";
  ++events_;
  FlushIfLarge();
}

void KinetoWriter::End(std::string_view trailing_top_level) {
  buffer_ += "\n  ]";
  if (!trailing_top_level.empty()) {
    buffer_ += ",\n  ";
    buffer_ += trailing_top_level;
  }
  buffer_ += "\n}\n";
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

void KinetoWriter::FlushIfLarge() {
  if (buffer_.size() < (1 << 20)) return;
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

std::string KinetoWriter::Micros(int64_t ns) {
  char buf[32];
  const char* sign = ns < 0 ? "-" : "";
  int64_t a = ns < 0 ? -ns : ns;
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", sign, static_cast<long long>(a / 1000),
                static_cast<long long>(a % 1000));
  return buf;
}

std::string KinetoWriter::Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace teye::synth
