// teye synth — write a simulated training trace with known ground truth.
#include "teye/synth/synth.h"

#include <cstdio>
#include <fstream>
#include <iostream>
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
  double straggler = 1.0;
  bool list = false;
};

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
  k.straggler_slowdown = o.straggler;

  if (o.output.empty()) {
    synth::Simulate(k, std::cout);
    return kExitOk;
  }
  std::ostringstream text;
  synth::Simulate(k, text);
  const std::string s = text.str();
  if (o.output.ends_with(".gz")) {
    gzFile f = gzopen(o.output.c_str(), "wb9");
    if (!f || gzwrite(f, s.data(), static_cast<unsigned>(s.size())) != static_cast<int>(s.size())) {
      if (f) gzclose(f);
      std::fprintf(stderr, "teye: %s: cannot write\n", o.output.c_str());
      return kExitBadInput;
    }
    gzclose(f);
  } else {
    std::ofstream f(o.output, std::ios::binary);
    f << s;
    if (!f) {
      std::fprintf(stderr, "teye: %s: cannot write\n", o.output.c_str());
      return kExitBadInput;
    }
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
  cmd->add_option("--straggler", o->straggler,
                  "Multiply this rank's batch cost (cross-rank tests)");
  cmd->add_option("-o,--output", o->output, "Output file (.gz to compress); default stdout");
  cmd->add_flag("--list", o->list, "List scenarios and fixes");
  return {cmd, [o] { return RunSynth(*o); }};
}

}  // namespace teye::cli
