#include "teye/reports/summary_writer.h"

#include <nlohmann/json.hpp>

namespace teye {

std::string WriteRankSummaries(const std::vector<RankSummary>& ranks,
                               std::string_view teye_version) {
  using Json = nlohmann::ordered_json;
  Json list = Json::array();
  for (const RankSummary& s : ranks) {
    Json phases = Json::object();
    for (const auto& [name, ms] : s.phase_ms)
      phases[name] = ms;
    // Collectives as parallel arrays: a few bytes per kernel instead of an object each.
    Json group = Json::array(), op = Json::array(), start = Json::array(), end = Json::array(),
         bytes = Json::array(), in_step = Json::array();
    for (const CollectiveTiming& c : s.collectives) {
      group.push_back(c.group);
      op.push_back(c.op);
      start.push_back(c.start_ns);
      end.push_back(c.end_ns);
      bytes.push_back(c.bytes);
      in_step.push_back(c.in_step ? 1 : 0);
    }
    Json j;
    j["file"] = s.file;
    j["rank"] = s.rank;
    j["world_size"] = s.world_size;
    j["complete_steps"] = s.complete_steps;
    j["step_ms"] = s.step_ms;
    j["gpu_utilization"] = s.gpu_utilization;
    j["exposed_comm_ms"] = s.exposed_comm_ms;
    j["phase_ms"] = std::move(phases);
    j["collectives"] = {{"group", std::move(group)},    {"op", std::move(op)},
                        {"start_ns", std::move(start)}, {"end_ns", std::move(end)},
                        {"bytes", std::move(bytes)},    {"in_step", std::move(in_step)}};
    list.push_back(std::move(j));
  }
  Json doc;
  doc["schema"] = kRankSummarySchema;
  doc["teye_version"] = teye_version;
  doc["ranks"] = std::move(list);
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace teye
