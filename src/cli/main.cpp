// teye: why is my GPU training job slow, and what should I change first.
#include <cstdio>
#include <exception>
#include <vector>

#include "teye/version.h"

#include "verbs.h"

int main(int argc, char** argv) {
  using namespace teye::cli;
  CLI::App app{"teye — why a GPU training job is slow and what to change first, with numbers"};
  app.set_version_flag("--version", std::string(teye::kVersion));
  app.require_subcommand(1);
  app.fallthrough(false);

  std::vector<VerbRegistration> verbs;
  verbs.push_back(SetupAnalyze(app));
  verbs.push_back(SetupSynth(app));
  verbs.push_back(SetupRecord(app));
  verbs.push_back(SetupGate(app));
  verbs.push_back(SetupDiff(app));
  verbs.push_back(SetupMerge(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;  // usage errors are bad input (exit 2), whatever CLI11's own code
  }
  try {
    for (auto& verb : verbs)
      if (verb.command->parsed()) return verb.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "teye: %s\n", e.what());
    return kExitBadInput;
  }
  return kExitBadInput;
}
