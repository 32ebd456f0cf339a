#include "teye/reports/json_writer.h"

#include "cross_rank_writer.h"
#include "json_diagnosis.h"
#include "json_microarch.h"
#include "json_numbers.h"
#include "json_resources.h"

namespace teye {
namespace {

using namespace json;

Json ReadJson(const TraceAnalysis& a) {
  Json skipped = Json::object();
  for (size_t i = 0; i < kSkipReasonCount; ++i)
    if (a.read.skipped[i])
      skipped[std::string(ToString(static_cast<SkipReason>(i)))] = a.read.skipped[i];
  Json j;
  j["format"] = a.format;
  j["gzip"] = a.gzip;
  j["events_seen"] = a.read.events_seen;
  j["events_kept"] = a.read.events_kept;
  j["events_lost"] = a.read.TotalLost();
  j["skipped"] = skipped;
  j["truncated"] = a.read.truncated;
  if (a.read.truncated) j["truncated_at_byte"] = a.read.truncated_at;
  j["warnings"] = a.read.warnings;
  return j;
}

Json StepsJson(const TraceAnalysis& a) {
  const auto& d = a.steps.duration_ms;
  Json j;
  j["source"] = ToString(a.steps.source);
  j["count"] = d.count;
  j["detected"] = a.steps.steps.size();
  j["mean_ms"] = Round(d.mean, 3);
  j["median_ms"] = Round(d.median, 3);
  j["p90_ms"] = Round(d.p90, 3);
  j["min_ms"] = Round(d.min, 3);
  j["max_ms"] = Round(d.max, 3);
  j["stddev_ms"] = Round(d.stddev, 3);
  Json list = Json::array();
  for (const Step& s : a.steps.steps) {
    Json e;
    e["index"] = s.index;
    e["name"] = s.name;
    if (s.number >= 0) e["number"] = s.number;
    e["start_ns"] = s.start();
    e["duration_ms"] = Ms(static_cast<double>(s.duration()));
    e["cpu_ms"] = Ms(static_cast<double>(s.cpu_end - s.cpu_start));
    e["complete"] = s.complete;
    list.push_back(std::move(e));
  }
  j["list"] = std::move(list);
  j["warnings"] = a.steps.warnings;
  return j;
}

Json BreakdownJson(const TraceAnalysis& a) {
  Json j;
  const DeviceBreakdown* p = a.breakdown.Primary();
  if (!p || p->steps.empty()) return Json();
  j["timeline"] = a.breakdown.host_timeline ? "host" : "gpu";
  j["device"] = a.breakdown.host_timeline ? Json() : Json(p->device);
  j["step_ms"] = Round(a.mean_step_ms, 3);
  Json cats = Json::array();
  for (const BreakdownShare& s : a.shares) {
    Json c;
    c["category"] = ToString(s.category);
    c["ms_per_step"] = Round(s.ms_per_step, 3);
    c["share"] = Share(s.share);
    cats.push_back(std::move(c));
  }
  j["categories"] = std::move(cats);
  Json per_step = Json::array();
  for (const StepBreakdown& sb : p->steps) {
    Json e;
    e["step"] = sb.step;
    e["duration_ms"] = Ms(static_cast<double>(sb.duration));
    e["gpu_utilization"] = Share(sb.duration ? static_cast<double>(sb.kernel_ns) / sb.duration : 0);
    Json ms;
    for (size_t c = 0; c < kTimeCategoryCount; ++c)
      ms[std::string(ToString(static_cast<TimeCategory>(c)))] =
          Ms(static_cast<double>(sb.times.ns[c]));
    e["ms"] = std::move(ms);
    per_step.push_back(std::move(e));
  }
  j["per_step"] = std::move(per_step);
  Json evidence = Json::object();
  for (size_t c = 0; c < kTimeCategoryCount; ++c) {
    if (p->contributors[c].empty()) continue;
    Json list = Json::array();
    for (const IdleContributor& ic : p->contributors[c])
      list.push_back(
          {{"name", ic.name}, {"ms", Ms(static_cast<double>(ic.ns))}, {"gaps", ic.gaps}});
    evidence[std::string(ToString(static_cast<TimeCategory>(c)))] = std::move(list);
  }
  j["idle_evidence"] = std::move(evidence);
  Json gaps = Json::array();
  for (const IdleGap& g : p->largest_gaps) {
    gaps.push_back({{"start_ns", g.start},
                    {"duration_ms", Ms(static_cast<double>(g.length()))},
                    {"reason", ToString(g.reason)},
                    {"evidence", g.evidence},
                    {"step", g.step}});
  }
  j["largest_idle_gaps"] = std::move(gaps);
  return j;
}

Json KernelJson(const KernelStat& k, TimeNs total) {
  Json j;
  j["name"] = k.name;
  j["class"] = ToString(k.cls);
  j["count"] = k.count;
  j["total_ms"] = Ms(static_cast<double>(k.total_ns));
  j["mean_us"] = Us(k.mean_ns());
  j["min_us"] = Us(static_cast<double>(k.min_ns));
  j["max_us"] = Us(static_cast<double>(k.max_ns));
  j["share"] = Share(total ? static_cast<double>(k.total_ns) / total : 0);
  return j;
}

void AddKernels(const TraceAnalysis& a, Json& rank) {
  Json classes = Json::array();
  for (const ClassStat& c : a.kernels.classes) {
    classes.push_back({{"class", ToString(c.cls)},
                       {"display", DisplayName(c.cls)},
                       {"count", c.count},
                       {"total_ms", Ms(static_cast<double>(c.total_ns))},
                       {"share", Share(c.share)}});
  }
  rank["kernel_classes"] = std::move(classes);
  Json top = Json::array();
  for (const KernelStat& k : a.kernels.top)
    top.push_back(KernelJson(k, a.kernels.total_ns));
  rank["top_kernels"] = std::move(top);
  Json other = Json::array();
  for (const KernelStat& k : a.kernels.top_other)
    other.push_back(KernelJson(k, a.kernels.total_ns));
  rank["unclassified_kernels"] = std::move(other);
}

Json MemcpyJson(const TraceAnalysis& a) {
  Json copies = Json::array();
  for (const CopyStat& c : a.memcpy.copies) {
    copies.push_back({{"direction", ToString(c.kind)},
                      {"host_memory", ToString(c.host_memory)},
                      {"count", c.count},
                      {"bytes", c.bytes},
                      {"total_ms", Ms(static_cast<double>(c.total_ns))},
                      {"gb_per_s", Round(c.gb_per_s(), 2)}});
  }
  Json j;
  j["copies"] = std::move(copies);
  j["memset"] = {{"count", a.memcpy.memset_count},
                 {"bytes", a.memcpy.memset_bytes},
                 {"total_ms", Ms(static_cast<double>(a.memcpy.memset_ns))}};
  return j;
}

Json CommJson(const TraceAnalysis& a) {
  Json j;
  const double steps = a.complete_steps > 0 ? a.complete_steps : 1;
  j["kernel_count"] = a.comm.kernel_count;
  j["kernel_ms_per_step"] = Ms(static_cast<double>(a.comm.kernel_ns) / steps);
  j["exposed_ms_per_step"] = Round(a.exposed_comm_ms_per_step, 3);
  Json list = Json::array();
  for (const CollectiveStat& c : a.comm.collectives) {
    list.push_back({{"op", c.op},
                    {"count", c.count},
                    {"total_ms", Ms(static_cast<double>(c.total_ns))},
                    {"bytes", c.bytes}});
  }
  j["collectives"] = std::move(list);
  return j;
}

Json TemporalJson(const TraceAnalysis& a) {
  const TemporalBreakdown& t = a.temporal;
  if (!t.has_gpu_events) return Json();
  Json j;
  j["idle_pct"] = Pct(t.idle_pct);
  j["compute_pct"] = Pct(t.compute_pct);
  j["non_compute_pct"] = Pct(t.non_compute_pct);
  j["span"] = Round(t.span, 3);
  j["idle"] = Round(t.idle, 3);
  j["compute"] = Round(t.compute, 3);
  j["non_compute"] = Round(t.non_compute, 3);
  j["unit"] = "file";
  j["gpu_events"] = t.events;
  j["dropped_last_step"] = t.dropped_last_step;
  return j;
}

Json RankJson(const TraceAnalysis& a) {
  Json j;
  j["file"] = a.file;
  j["rank"] = a.rank >= 0 ? Json(a.rank) : Json();
  if (a.world_size > 0) j["world_size"] = a.world_size;
  if (!a.backend.empty()) j["backend"] = a.backend;
  j["producer"] = a.producer;
  j["vendor"] = ToString(a.vendor);
  j["read"] = ReadJson(a);
  j["steps"] = StepsJson(a);
  j["has_gpu_activity"] = a.has_gpu_activity;
  j["gpu_utilization"] = Share(a.gpu_utilization);
  j["gpu_busy"] = Share(a.gpu_busy);
  AddDiagnosis(a, j);
  Json devices = Json::array();
  for (const DeviceSummary& d : a.devices) {
    devices.push_back({{"id", d.device},
                       {"name", d.name},
                       {"gpu_utilization", Share(d.gpu_utilization)},
                       {"gpu_busy", Share(d.gpu_busy)},
                       {"kernel_count", d.kernel_count}});
  }
  j["devices"] = std::move(devices);
  j["breakdown"] = BreakdownJson(a);
  j["communication"] = CommJson(a);
  AddKernels(a, j);
  AddMicroArch(a, j);
  j["memcpy"] = MemcpyJson(a);
  j["temporal"] = TemporalJson(a);
  AddResources(a, j);
  j["notes"] = a.notes;
  return j;
}

}  // namespace

std::string WriteJsonReport(const Report& report) {
  Json j;
  j["schema"] = kReportSchema;
  j["teye_version"] = report.teye_version;
  Json ranks = Json::array();
  for (const TraceAnalysis& a : report.ranks)
    ranks.push_back(RankJson(a));
  j["ranks"] = std::move(ranks);
  if (report.cross_rank) j["cross_rank"] = CrossRankJson(*report.cross_rank);
  // Invalid UTF-8 in names (truncated kernel names, binary junk) is replaced, never fatal.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace teye
