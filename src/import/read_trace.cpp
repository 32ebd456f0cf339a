#include "teye/import/read_trace.h"

#include <optional>

#include "chrome_json_reader.h"
#include "input_buffer.h"
#include "nsys_sqlite/nsys_reader.h"
#include "json_scanner.h"
#include "trace_reader_registry.h"

namespace teye {
namespace {

// The JSON hot path may be built for x86-64-v3 (cmake/TeyeSimd.cmake); refuse politely on an
// older CPU instead of dying on an illegal instruction.
std::optional<Error> CheckCpu(const std::string& name) {
#if defined(TEYE_NEEDS_X86_64_V3) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2") ||
      !__builtin_cpu_supports("pclmul")) {
    return Error{
        "this teye was built for x86-64-v3 CPUs with PCLMUL (AVX2) and this CPU lacks them; "
        "rebuild "
        "with -DTEYE_PORTABLE=ON",
        name, -1};
  }
#endif
  (void)name;
  return std::nullopt;
}

Result<Trace> FirstRank(Result<TraceSet> set) {
  if (!set.ok()) return set.error();
  return std::move(set.value().front());
}

// Folding is for the collector's output, which is Chrome trace JSON.
std::optional<Error> ParseChromeFile(const std::string& path, const ReadOptions& options,
                                     TraceBuilder& builder) {
  ScopedPhase load(options.timings, "load");
  auto input = import::LoadInputFile(path);
  load.Stop();
  if (!input.ok()) return input.error();
  input.value().InflateOn(options.executor);  // gzip: inflated while it is parsed
  const std::string_view head = input.value().Prefix(64).substr(0, 64);
  const size_t p = import::SkipWhitespace(head, 0);
  if (p >= head.size() || head[p] != '{')
    return Error{"not a Chrome trace JSON object (teye's collector writes those)", path, 0};
  return import::ParseChromeJson(input.value(), path, options, builder);
}

}  // namespace

Result<TraceSet> ReadTraceFileRanks(const std::string& path, const ReadOptions& options) {
  if (!options.executor) {
    Executor executor(options.threads);
    ReadOptions with = options;
    with.executor = &executor;
    return ReadTraceFileRanks(path, with);
  }
  // An SQLite export is read in place by SQLite, not loaded whole like a JSON trace.
  if (path != "-" && import::IsSqliteFile(path)) return import::ReadNsysSqliteFile(path, options);
  if (auto cpu = CheckCpu(path)) return *cpu;
  ScopedPhase load(options.timings, "load");
  auto input = import::LoadInputFile(path);
  load.Stop();
  if (!input.ok()) return input.error();
  input.value().InflateOn(options.executor);  // gzip: inflated while it is parsed
  return import::ReadWithRegistry(input.value(), path, options);
}

Result<TraceSet> ReadTraceBytesRanks(std::string_view name, std::string_view bytes,
                                     const ReadOptions& options) {
  if (!options.executor) {
    Executor executor(options.threads);
    ReadOptions with = options;
    with.executor = &executor;
    return ReadTraceBytesRanks(name, bytes, with);
  }
  if (auto cpu = CheckCpu(std::string(name))) return *cpu;
  ScopedPhase load(options.timings, "load");
  auto input = import::LoadInputBytes(name, bytes);
  load.Stop();
  if (!input.ok()) return input.error();
  input.value().InflateOn(options.executor);
  return import::ReadWithRegistry(input.value(), std::string(name), options);
}

Result<Trace> ReadTraceFile(const std::string& path, const ReadOptions& options) {
  return FirstRank(ReadTraceFileRanks(path, options));
}

Result<Trace> ReadTraceBytes(std::string_view name, std::string_view bytes,
                             const ReadOptions& options) {
  return FirstRank(ReadTraceBytesRanks(name, bytes, options));
}

Result<Trace> ReadRankFiles(const std::string& main, const std::vector<FoldedFile>& folded,
                            const ReadOptions& options) {
  if (folded.empty()) return ReadTraceFile(main, options);
  if (!options.executor) {
    Executor executor(options.threads);
    ReadOptions with = options;
    with.executor = &executor;
    return ReadRankFiles(main, folded, with);
  }
  if (auto cpu = CheckCpu(main)) return *cpu;
  TraceBuilder builder;
  if (auto error = ParseChromeFile(main, options, builder)) return *error;
  for (const FoldedFile& f : folded) {
    TraceBuilder part;
    if (auto error = ParseChromeFile(f.path, options, part)) {
      builder.stats().warnings.push_back("left out the child process trace " + f.path + ": " +
                                         error->ToString());
      continue;
    }
    ProcessInfo process;
    if (!part.info().processes.empty()) process = part.info().processes.front();
    process.role = f.role;
    process.file = f.path;
    builder.Merge(std::move(part));
    builder.info().processes.push_back(std::move(process));
  }
  ScopedPhase build(options.timings, "model build");
  return std::move(builder).Build(options.executor);
}

}  // namespace teye
