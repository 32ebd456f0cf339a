#include "cross_rank_writer.h"

#include <cmath>

#include <fmt/format.h>

#include "teye/reports/format.h"

namespace teye {
namespace {

using Json = nlohmann::ordered_json;

double Round(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  double r = std::round(v * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0"
}
double Ms(double ms) {
  return Round(ms, 3);
}

std::string Bold(const TextOptions& o, std::string_view t) {
  return o.color ? fmt::format("\033[1m{}\033[0m", t) : std::string(t);
}

}  // namespace

Json CrossRankJson(const CrossRankResult& x) {
  Json j;
  j["ranks"] = x.ranks;
  j["step_ms"] = {{"mean", Ms(x.step_ms.mean)},
                  {"median", Ms(x.step_ms.median)},
                  {"min", Ms(x.step_ms.min)},
                  {"max", Ms(x.step_ms.max)}};
  j["matched_collectives"] = x.matched;
  j["unmatched_collectives"] = x.unmatched;
  j["transfer_ms_per_step"] = Ms(x.transfer_ms);
  j["wait_ms_per_step"] = Ms(x.wait_ms);
  Json rows = Json::array();
  for (const RankRow& r : x.rows) {
    rows.push_back({{"rank", r.rank},
                    {"file", r.file},
                    {"complete_steps", r.complete_steps},
                    {"step_ms", Ms(r.step_ms)},
                    {"gpu_utilization", Round(r.gpu_utilization, 4)},
                    {"exposed_comm_ms_per_step", Ms(r.exposed_comm_ms)},
                    {"input_ms_per_step", Ms(r.phase_ms[0])},
                    {"compute_ms_per_step", Ms(r.phase_ms[1])},
                    {"host_ms_per_step", Ms(r.phase_ms[2])},
                    {"collectives", r.collectives},
                    {"comm_ms_per_step", Ms(r.comm_ms)},
                    {"transfer_ms_per_step", Ms(r.transfer_ms)},
                    {"wait_ms_per_step", Ms(r.wait_ms)},
                    {"arrived_last", r.arrived_last},
                    {"caused_wait_ms_per_step", Ms(r.caused_wait_ms)},
                    {"clock_offset_ms", Ms(r.clock_offset_ms)}});
  }
  j["per_rank"] = std::move(rows);
  Json groups = Json::array();
  for (const CollectiveGroupRow& g : x.groups) {
    groups.push_back({{"group", g.group},
                      {"op", g.op},
                      {"ranks", g.ranks},
                      {"count", g.count},
                      {"bytes", g.bytes},
                      {"transfer_ms", Ms(g.transfer_ms)},
                      {"wait_ms", Ms(g.wait_ms)},
                      {"mean_wait_ms", Ms(g.mean_wait_ms)}});
  }
  j["collectives"] = std::move(groups);
  Json stragglers = Json::array();
  for (const Straggler& s : x.stragglers) {
    stragglers.push_back({{"rank", s.rank},
                          {"cause", s.cause},
                          {"caused_wait_ms_per_step", Ms(s.caused_wait_ms)},
                          {"late_share", Round(s.late_share, 4)},
                          {"excess_ms_per_step", Ms(s.excess_ms)},
                          {"evidence", s.evidence}});
  }
  j["stragglers"] = std::move(stragglers);
  j["notes"] = x.notes;
  return j;
}

std::string CrossRankText(const CrossRankResult& x, const TextOptions& o) {
  std::string s;
  auto line = [&](std::string_view t) {
    s.append(t);
    s.push_back('\n');
  };
  line(Bold(o, fmt::format("ACROSS {} RANKS", x.ranks)) +
       fmt::format("  step {} ms median (min {}, max {})", FormatMs(x.step_ms.median),
                   FormatMs(x.step_ms.min), FormatMs(x.step_ms.max)));
  line(fmt::format("  {} collectives matched · per step and rank: transfer {} ms, wait {} ms",
                   WithCommas(x.matched), FormatMs(x.transfer_ms), FormatMs(x.wait_ms)));
  line(fmt::format("  {:>5} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "rank",
                   "step ms", "util", "exposed", "input", "compute", "host", "wait", "late",
                   "caused"));
  for (const RankRow& r : x.rows) {
    line(fmt::format("  {:>5} {:>9} {:>5.1f}% {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", r.rank,
                     FormatMs(r.step_ms), r.gpu_utilization * 100, FormatMs(r.exposed_comm_ms),
                     FormatMs(r.phase_ms[0]), FormatMs(r.phase_ms[1]), FormatMs(r.phase_ms[2]),
                     FormatMs(r.wait_ms), WithCommas(r.arrived_last), FormatMs(r.caused_wait_ms)));
  }
  line(fmt::format("  {}",
                   "ms per step; late: collectives it arrived last at; caused: the "
                   "others' wait for it"));
  const size_t width = static_cast<size_t>(o.width);
  if (x.stragglers.empty()) {
    line("  no straggler: no rank keeps the others waiting");
  }
  for (const Straggler& st : x.stragglers) {
    line(Bold(o, fmt::format("  STRAGGLER rank {}", st.rank)) +
         fmt::format(" — late in {}: the others wait {} ms per step for it", st.cause,
                     FormatMs(st.caused_wait_ms)));
    // The evidence sentence, wrapped to the width.
    std::string words = st.evidence, cur = "    ";
    size_t pos = 0;
    while (pos < words.size()) {
      size_t next = words.find(' ', pos);
      if (next == std::string::npos) next = words.size();
      std::string word = words.substr(pos, next - pos);
      if (cur.size() + word.size() + 1 > width && cur.size() > 4) {
        line(cur);
        cur = "    ";
      }
      cur += (cur.size() > 4 ? " " : "") + word;
      pos = next + 1;
    }
    if (cur.size() > 4) line(cur);
  }
  for (const std::string& n : x.notes)
    line("  " + Ellipsize(n, width - 2));
  line("");
  return s;
}

}  // namespace teye
