// The CLI's verbs. Each lives in src/cli/<verb>.cpp with an options struct, a Setup that
// declares its flags on a CLI11 subcommand, and a Run that wires the libraries together
// (STYLE.md 12). Run returns the process exit code: 0 ok, 1 a verdict failed (gate), 2 bad
// input or usage.
#pragma once

#include <CLI/CLI.hpp>

namespace teye::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFail = 1;
inline constexpr int kExitBadInput = 2;

// A verb registers itself: Setup adds the subcommand and returns a callable that runs it.
using VerbRunner = std::function<int()>;
struct VerbRegistration {
  CLI::App* command;
  VerbRunner run;
};

VerbRegistration SetupAnalyze(CLI::App& app);
VerbRegistration SetupSynth(CLI::App& app);
VerbRegistration SetupRecord(CLI::App& app);
VerbRegistration SetupGate(CLI::App& app);
VerbRegistration SetupDiff(CLI::App& app);
VerbRegistration SetupMerge(CLI::App& app);

}  // namespace teye::cli
