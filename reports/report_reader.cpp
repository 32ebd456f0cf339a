#include "teye/reports/report_reader.h"

#include <nlohmann/json.hpp>

#include "teye/reports/report.h"

namespace teye {
namespace {

// ordered: bound.shares keeps the report's class order, as a fresh analysis gives it.
using Json = nlohmann::ordered_json;

Error Malformed(const std::string& path, const std::string& what) {
  return Error{"not a valid teye report: " + what, path};
}

bool IsNumber(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number();
}

}  // namespace

bool LooksLikeReport(std::string_view head) {
  const size_t brace = head.find_first_not_of(" \t\r\n");
  if (brace == std::string_view::npos || head[brace] != '{') return false;
  const size_t schema = head.find("\"schema\"");
  return schema != std::string_view::npos &&
         head.find("teye.report/", schema) != std::string_view::npos;
}

Result<RunSummary> ReadReportSummary(std::string_view json_text, const std::string& path) {
  const Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Malformed(path, "the file is not valid JSON");
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string())
    return Malformed(path, "no \"schema\" field");
  if (doc["schema"].get<std::string>() != kReportSchema)
    return Malformed(path, "schema is \"" + doc["schema"].get<std::string>() + "\", expected \"" +
                               std::string(kReportSchema) + "\"");
  if (!doc.contains("ranks") || !doc["ranks"].is_array() || doc["ranks"].empty())
    return Malformed(path, "no ranks");
  const Json& rank = doc["ranks"][0];
  if (!rank.is_object()) return Malformed(path, "ranks[0] is not an object");

  RunSummary r;
  r.source = path;
  r.rank_count = static_cast<int>(doc["ranks"].size());
  if (IsNumber(rank, "gpu_utilization")) r.gpu_utilization = rank["gpu_utilization"].get<double>();

  // A report of a trace without GPU activity or steps has a null breakdown: zero steps, which
  // the gate refuses to judge.
  if (rank.contains("breakdown") && !rank["breakdown"].is_null()) {
    const Json& b = rank["breakdown"];
    if (!b.is_object() || !b.contains("per_step") || !b["per_step"].is_array())
      return Malformed(path, "breakdown.per_step is missing");
    r.host_timeline = b.contains("timeline") && b["timeline"] == "host";
    for (const Json& e : b["per_step"]) {
      if (!IsNumber(e, "duration_ms") || !IsNumber(e, "gpu_utilization") || !e.contains("ms") ||
          !e["ms"].is_object())
        return Malformed(path,
                         "a breakdown.per_step entry lacks duration_ms, gpu_utilization or ms");
      StepSample s;
      s.step = IsNumber(e, "step") ? e["step"].get<int>() : -1;
      s.duration_ms = e["duration_ms"].get<double>();
      s.gpu_utilization = e["gpu_utilization"].get<double>();
      for (size_t c = 0; c < kTimeCategoryCount; ++c) {
        const std::string key(ToString(static_cast<TimeCategory>(c)));
        if (IsNumber(e["ms"], key.c_str())) s.ms[c] = e["ms"][key].get<double>();
      }
      r.steps.push_back(s);
    }
  }
  if (rank.contains("kernel_classes") && rank["kernel_classes"].is_array()) {
    for (const Json& c : rank["kernel_classes"]) {
      if (!c.is_object() || !c.contains("class") || !c["class"].is_string() ||
          !IsNumber(c, "total_ms"))
        return Malformed(path, "a kernel_classes entry lacks class or total_ms");
      r.classes.push_back({c["class"].get<std::string>(),
                           IsNumber(c, "count") ? c["count"].get<int64_t>() : 0,
                           c["total_ms"].get<double>()});
    }
  }
  if (rank.contains("top_kernels") && rank["top_kernels"].is_array()) {
    for (const Json& k : rank["top_kernels"]) {
      if (!k.is_object() || !k.contains("name") || !k["name"].is_string() ||
          !IsNumber(k, "total_ms"))
        return Malformed(path, "a top_kernels entry lacks name or total_ms");
      r.top_kernels.push_back(
          {k["name"].get<std::string>(),
           k.contains("class") && k["class"].is_string() ? k["class"].get<std::string>() : "other",
           IsNumber(k, "count") ? k["count"].get<int64_t>() : 0, k["total_ms"].get<double>(),
           IsNumber(k, "mean_us") ? k["mean_us"].get<double>() : 0.0});
    }
  }
  if (rank.contains("bound") && rank["bound"].is_object()) {
    const Json& b = rank["bound"];
    if (b.contains("class") && b["class"].is_string())
      r.bound_class = b["class"].get<std::string>();
    if (b.contains("shares") && b["shares"].is_object())
      for (const auto& [name, v] : b["shares"].items())
        if (v.is_number()) r.bound_shares.emplace_back(name, v.get<double>());
  }
  return r;
}

}  // namespace teye
