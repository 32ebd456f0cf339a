#include "bench_traces.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <zlib.h>

#include "teye/synth/synth.h"

namespace teye::bench {
namespace {

namespace fs = std::filesystem;

synth::Knobs BenchKnobs(int steps) {
  auto knobs = synth::ScenarioKnobs("ddp", 1);
  synth::Knobs k = knobs.value();
  k.steps = steps;
  k.autograd_thread = true;
  return k;
}

// Events and bytes of one simulated step, from a short pilot run.
std::pair<double, double> PerStep() {
  std::ostringstream a, b;
  const auto small = synth::Simulate(BenchKnobs(4), a);
  const auto large = synth::Simulate(BenchKnobs(8), b);
  return {static_cast<double>(b.str().size() - a.str().size()) / 4,
          static_cast<double>(large.events - small.events) / 4};
}

bool Gzip(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  gzFile out = gzopen(to.c_str(), "wb6");
  if (!in || !out) return false;
  std::vector<char> buf(size_t{1} << 20);
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<unsigned>(in.gcount());
    if (n > 0) ok = gzwrite(out, buf.data(), n) == static_cast<int>(n);
  }
  return gzclose(out) == Z_OK && ok;
}

}  // namespace

BenchTrace EnsureBenchTrace(const std::string& dir, int target_mb, bool gzip) {
  fs::create_directories(dir);
  const auto [bytes_per_step, events_per_step] = PerStep();
  const int steps = static_cast<int>(target_mb * 1e6 / bytes_per_step) + 1;
  const std::string plain = dir + "/ddp-" + std::to_string(target_mb) + "mb.pt.trace.json";
  BenchTrace t;
  t.events = static_cast<int64_t>(steps * events_per_step);
  if (!fs::exists(plain)) {
    std::fprintf(stderr, "writing %s (%d steps)...\n", plain.c_str(), steps);
    std::ofstream out(plain + ".tmp", std::ios::binary);
    t.events = synth::Simulate(BenchKnobs(steps), out).events;
    out.close();
    fs::rename(plain + ".tmp", plain);
  }
  t.path = plain;
  if (gzip) {
    t.path = plain + ".gz";
    if (!fs::exists(t.path)) {
      std::fprintf(stderr, "compressing %s...\n", t.path.c_str());
      if (Gzip(plain, t.path + ".tmp")) fs::rename(t.path + ".tmp", t.path);
    }
  }
  t.bytes = static_cast<int64_t>(fs::file_size(t.path));
  return t;
}

}  // namespace teye::bench
