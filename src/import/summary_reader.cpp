#include <nlohmann/json.hpp>

#include "teye/import/read_summary.h"

#include "input_buffer.h"

namespace teye {
namespace {

using Json = nlohmann::json;

Result<RankSummary> ParseRank(const Json& j) {
  RankSummary s;
  s.file = j.at("file").get<std::string>();
  s.rank = j.at("rank").get<int>();
  s.world_size = j.at("world_size").get<int>();
  s.complete_steps = j.at("complete_steps").get<int>();
  s.step_ms = j.at("step_ms").get<double>();
  s.gpu_utilization = j.at("gpu_utilization").get<double>();
  s.exposed_comm_ms = j.at("exposed_comm_ms").get<double>();
  for (const auto& [name, ms] : j.at("phase_ms").items())
    s.phase_ms.emplace_back(name, ms.get<double>());
  const Json& c = j.at("collectives");
  const Json& group = c.at("group");
  const Json& op = c.at("op");
  const Json& start = c.at("start_ns");
  const Json& end = c.at("end_ns");
  const Json& bytes = c.at("bytes");
  const Json& in_step = c.at("in_step");
  const size_t n = group.size();
  if (op.size() != n || start.size() != n || end.size() != n || bytes.size() != n ||
      in_step.size() != n)
    return Error{"collective columns of rank " + std::to_string(s.rank) + " differ in length"};
  s.collectives.resize(n);
  for (size_t i = 0; i < n; ++i) {
    CollectiveTiming& r = s.collectives[i];
    r.group = group[i].get<std::string>();
    r.op = op[i].get<std::string>();
    r.start_ns = start[i].get<int64_t>();
    r.end_ns = end[i].get<int64_t>();
    r.bytes = bytes[i].get<int64_t>();
    r.in_step = in_step[i].get<int>() != 0;
  }
  return s;
}

}  // namespace

Result<std::vector<RankSummary>> ReadRankSummaries(const std::string& path) {
  auto input = import::LoadInputFile(path);
  if (!input.ok()) return input.error();
  std::vector<RankSummary> out;
  try {
    Json doc = Json::parse(input.value().view());
    if (!doc.is_object() || doc.value("schema", "") != kRankSummarySchema)
      return Error{"not a teye rank summary (expected \"schema\": \"" +
                       std::string(kRankSummarySchema) +
                       "\"; write one with 'teye analyze "
                       "--summary-only')",
                   path};
    for (const Json& r : doc.at("ranks")) {
      auto s = ParseRank(r);
      if (!s.ok()) {
        Error e = s.error();
        e.file = path;
        return e;
      }
      out.push_back(std::move(s.value()));
    }
  } catch (const std::exception& e) {
    // nlohmann reports with exceptions; they stop here, as an Error value.
    return Error{std::string("malformed rank summary: ") + e.what(), path};
  }
  return out;
}

}  // namespace teye
