#include "json_diagnosis.h"

namespace teye::json {
namespace {

Json SharesJson(const BoundShares& s) {
  Json j;
  for (size_t i = 0; i < kBoundClassCount; ++i) {
    const auto c = static_cast<BoundClass>(i);
    j[std::string(ToString(c))] = Share(s[c]);
  }
  j["unassigned"] = Share(s.unassigned);
  return j;
}

Json BoundJson(const BoundResult& b) {
  if (!b.valid) return Json();
  Json j;
  j["class"] = ToString(b.run.cls);
  j["shares"] = SharesJson(b.run.shares);
  j["margin"] = Share(b.run.margin);
  j["runner_up"] = ToString(b.run.runner_up);
  j["useful_gpu"] = Share(b.run.useful_gpu);
  j["reason"] = b.run.reason;
  j["roofline_evidence"] = b.roofline_evidence >= 0 ? Json(Share(b.roofline_evidence)) : Json();
  Json counts = Json::object();
  for (size_t i = 0; i < kBoundClassCount; ++i)
    if (b.step_counts[i])
      counts[std::string(ToString(static_cast<BoundClass>(i)))] = b.step_counts[i];
  j["steps_by_class"] = std::move(counts);
  Json per_step = Json::array();
  for (const BoundVerdict& v : b.steps)
    per_step.push_back({{"class", ToString(v.cls)}, {"margin", Share(v.margin)}});
  j["per_step"] = std::move(per_step);
  return j;
}

Json RecommendationJson(const Recommendation& r) {
  Json j;
  j["id"] = r.id;
  j["title"] = r.title;
  j["action"] = r.action;
  j["evidence"] = r.evidence;
  j["saving_ms"] = Round(r.saving_ms, 3);
  j["saving_pct"] = Pct(r.saving_pct);
  j["method"] = r.method;
  j["saving_basis"] = ToString(r.basis);
  j["confidence"] = ToString(r.confidence);
  j["relieves"] = ToString(r.relieves);
  return j;
}

Json StallJson(const StallPattern& s) {
  Json j;
  j["reason"] = ToString(s.reason);
  j["activity"] = s.activity;
  j["evidence"] = s.evidence;
  j["every_steps"] = s.every_steps;
  j["period_ms"] = Round(s.period_ms, 3);
  j["occurrences"] = s.occurrences;
  j["mean_ms"] = Round(s.mean_ms, 3);
  j["max_ms"] = Round(s.max_ms, 3);
  j["ms_per_step"] = Round(s.ms_per_step, 3);
  j["steps"] = s.steps;
  return j;
}

Json MemoryJson(const MemoryHeadroom& m) {
  Json j;
  j["device"] = m.device;
  j["peak_allocated_bytes"] = m.peak_allocated;
  j["peak_reserved_bytes"] = m.peak_reserved;
  j["total_bytes"] = m.total > 0 ? Json(m.total) : Json();
  j["peak_fraction"] = m.total > 0 ? Json(Share(m.peak_fraction)) : Json();
  j["reserved_fraction"] = m.total > 0 ? Json(Share(m.reserved_fraction)) : Json();
  return j;
}

}  // namespace

void AddDiagnosis(const TraceAnalysis& a, Json& rank) {
  rank["bound"] = BoundJson(a.bound);
  Json recs = Json::array();
  for (const Recommendation& r : a.recommendations)
    recs.push_back(RecommendationJson(r));
  rank["recommendations"] = std::move(recs);
  rank["replay_error"] = Share(a.replay_error);
  Json stalls = Json::array();
  for (const StallPattern& s : a.stalls)
    stalls.push_back(StallJson(s));
  rank["periodic_stalls"] = std::move(stalls);
  Json memory = Json::array();
  for (const MemoryHeadroom& m : a.memory)
    memory.push_back(MemoryJson(m));
  rank["memory"] = std::move(memory);
}

}  // namespace teye::json
