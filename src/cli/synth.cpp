// teye synth — write a simulated training trace with known ground truth.
#include "teye/synth/synth.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <zlib.h>

#include "verbs.h"

namespace teye::cli {
namespace {

struct SynthOptions {
  std::string scenario = "demo";
  uint64_t seed = 1;
  std::vector<std::string> fixes;
  std::string output;  // empty: stdout; ".gz" suffix: gzip
  int steps = 0;       // 0: the scenario's own
  int rank = -1;
  int ranks = 0;       // >= 2: a job of this many ranks, one file each in the output directory
  int straggler = -1;  // the slow rank
  std::string straggler_cause = "input";
  double slowdown = 3.0;
  bool gzip = false;  // --ranks: write .json.gz files
  unsigned threads = 0;
  bool list = false;
};

// Writes `text` to `path`, gzip-compressed when the name ends in ".gz".
bool WriteFile(const std::string& path, const std::string& text) {
  if (path.ends_with(".gz")) {
    gzFile f = gzopen(path.c_str(), "wb6");
    bool ok = f && gzwrite(f, text.data(), static_cast<unsigned>(text.size())) ==
                       static_cast<int>(text.size());
    if (f) ok = gzclose(f) == Z_OK && ok;
    return ok;
  }
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

int RunJob(const SynthOptions& o, const synth::Knobs& k) {
  if (o.output.empty()) {
    std::fprintf(stderr, "teye: --ranks needs -o DIR: the directory to write one trace per rank\n");
    return kExitBadInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output, ec);
  if (ec) {
    std::fprintf(stderr, "teye: %s: cannot create the directory: %s\n", o.output.c_str(),
                 ec.message().c_str());
    return kExitBadInput;
  }
  std::vector<std::unique_ptr<std::ostringstream>> texts;
  std::vector<std::ostream*> outs;
  for (int r = 0; r < o.ranks; ++r) {
    texts.push_back(std::make_unique<std::ostringstream>());
    outs.push_back(texts.back().get());
  }
  Executor executor(o.threads);
  synth::SimulateJob(k, o.straggler, outs, executor);
  for (int r = 0; r < o.ranks; ++r) {
    const std::string path =
        o.output + "/rank" + std::to_string(r) + ".pt.trace.json" + (o.gzip ? ".gz" : "");
    if (!WriteFile(path, texts[r]->str())) {
      std::fprintf(stderr, "teye: %s: cannot write\n", path.c_str());
      return kExitBadInput;
    }
    texts[r].reset();
  }
  return kExitOk;
}

int RunSynth(const SynthOptions& o) {
  if (o.list) {
    for (const auto& s : synth::Scenarios())
      std::printf("%-20s %-14s fix: %-20s %s\n", s.name.c_str(), s.expected_bound.c_str(),
                  s.fix.c_str(), s.description.c_str());
    return kExitOk;
  }
  auto knobs = synth::ScenarioKnobs(o.scenario, o.seed);
  if (!knobs.ok()) {
    std::fprintf(stderr, "teye: %s\n", knobs.error().ToString().c_str());
    return kExitBadInput;
  }
  synth::Knobs k = knobs.value();
  for (const std::string& fix : o.fixes) {
    auto fixed = synth::ApplyFix(k, fix);
    if (!fixed.ok()) {
      std::fprintf(stderr, "teye: %s\n", fixed.error().ToString().c_str());
      return kExitBadInput;
    }
    k = fixed.value();
  }
  if (o.steps > 0) k.steps = o.steps;
  if (o.rank >= 0) k.rank = o.rank;
  auto cause = synth::ParseStragglerCause(o.straggler_cause);
  if (!cause.ok()) {
    std::fprintf(stderr, "teye: %s\n", cause.error().ToString().c_str());
    return kExitBadInput;
  }
  k.straggler_cause = cause.value();
  k.straggler_slowdown = o.slowdown;
  if (o.ranks >= 2) return RunJob(o, k);
  if (o.straggler < 0 || o.straggler != k.rank) k.straggler_slowdown = 1.0;

  if (o.output.empty()) {
    synth::Simulate(k, std::cout);
    return kExitOk;
  }
  std::ostringstream text;
  synth::Simulate(k, text);
  if (!WriteFile(o.output, text.str())) {
    std::fprintf(stderr, "teye: %s: cannot write\n", o.output.c_str());
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace

VerbRegistration SetupSynth(CLI::App& app) {
  auto o = std::make_shared<SynthOptions>();
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a simulated training trace with a known problem (see --list)");
  cmd->add_option("--scenario,-s", o->scenario, "Scenario name");
  cmd->add_option("--seed", o->seed, "Seed: varies magnitudes within the scenario");
  cmd->add_option("--fix", o->fixes, "Apply a fix (repeatable): the same job with one knob fixed");
  cmd->add_option("--steps", o->steps, "Profiled steps (default: the scenario's)");
  cmd->add_option("--rank", o->rank, "Rank to write in distributedInfo");
  cmd->add_option("--ranks", o->ranks,
                  "Simulate a job of this many ranks in lockstep; -o names a directory that gets "
                  "rank<R>.pt.trace.json per rank");
  cmd->add_option("--straggler", o->straggler, "The rank that is slowed down (default: none)");
  cmd->add_option("--straggler-cause", o->straggler_cause, "What is slow on it")
      ->check(CLI::IsMember({"input", "compute", "host"}));
  cmd->add_option("--slowdown", o->slowdown,
                  "How much slower: multiplies its batch cost (input), kernel times (compute) or "
                  "dispatch, launch and Python time (host)");
  cmd->add_flag("--gzip", o->gzip, "With --ranks: write .json.gz files");
  cmd->add_option("--threads", o->threads,
                  "With --ranks: how many ranks are simulated at once (0: one per core)");
  cmd->add_option("-o,--output", o->output, "Output file (.gz to compress); default stdout");
  cmd->add_flag("--list", o->list, "List scenarios and fixes");
  return {cmd, [o] { return RunSynth(*o); }};
}

}  // namespace teye::cli
