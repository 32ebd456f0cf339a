#include "json_resources.h"

namespace teye::json {
namespace {

Json Optional(const std::optional<double>& v, int digits) {
  return v ? Json(Round(*v, digits)) : Json();
}

Json StatsJson(const SampleStats& s) {
  return {{"samples", s.samples},
          {"mean_pct", Pct(s.mean)},
          {"p90_pct", Pct(s.p90)},
          {"max_pct", Pct(s.max)}};
}

std::string_view Role(bool worker) {
  return worker ? "worker" : "training";
}

Json ResourcesJson(const ResourceProfile& r) {
  Json j;
  j["span_ms"] = Ms(static_cast<double>(r.span.length()));
  j["host_cpus"] = r.host_cpus > 0 ? Json(r.host_cpus) : Json();
  Json cpu = StatsJson(r.cpu_pct);
  cpu["cores"] = Round(r.cpu_cores, 3);
  cpu["machine_share"] = r.host_cpus > 0 ? Json(Share(r.cpu_machine_share)) : Json();
  j["cpu"] = std::move(cpu);
  j["host_memory"] = {
      {"source", r.host_memory_source.empty() ? Json() : Json(r.host_memory_source)},
      {"max_bytes", std::llround(r.rss_max_bytes)}};
  j["read_bytes_per_s"] = Round(r.read_bytes_per_s, 0);
  j["write_bytes_per_s"] = Round(r.write_bytes_per_s, 0);
  Json processes = Json::array();
  for (const ProcessResources& p : r.processes) {
    Json e;
    e["pid"] = p.pid;
    e["role"] = Role(p.worker);
    e["cpu"] = StatsJson(p.cpu_pct);
    e["run_queue_wait"] = StatsJson(p.run_queue_pct);
    e["rss"] = {{"samples", p.rss_samples},
                {"max_bytes", std::llround(p.rss_max_bytes)},
                {"first_bytes", std::llround(p.rss_first_bytes)},
                {"last_bytes", std::llround(p.rss_last_bytes)},
                {"slope_bytes_per_s", Round(p.rss_slope_bytes_per_s, 0)},
                {"correlation", Round(p.rss_correlation, 3)},
                {"leak", p.rss_leak}};
    e["read_bytes_per_s"] = Round(p.read_bytes_per_s.mean, 0);
    e["write_bytes_per_s"] = Round(p.write_bytes_per_s.mean, 0);
    processes.push_back(std::move(e));
  }
  j["processes"] = std::move(processes);
  Json gpus = Json::array();
  for (const GpuResources& g : r.gpus) {
    Json util = StatsJson(g.utilization_pct);
    util["source"] = g.utilization_source.empty() ? Json() : Json(g.utilization_source);
    Json memory;
    memory["source"] = g.memory_source.empty() ? Json() : Json(g.memory_source);
    memory["max_bytes"] = std::llround(g.memory_max_bytes);
    memory["total_bytes"] = g.memory_total_bytes > 0 ? Json(g.memory_total_bytes) : Json();
    memory["max_fraction"] = g.memory_total_bytes > 0 ? Json(Share(g.memory_max_fraction)) : Json();
    memory["near_limit"] = g.memory_near_limit;
    gpus.push_back({{"device", g.device}, {"utilization", util}, {"memory", memory}});
  }
  j["gpus"] = std::move(gpus);
  Json per_step = Json::array();
  for (const StepResources& s : r.per_step) {
    per_step.push_back({{"step", s.step},
                        {"cpu_pct", Optional(s.cpu_pct, 2)},
                        {"rss_bytes", Optional(s.rss_bytes, 0)},
                        {"read_bytes_per_s", Optional(s.read_bytes_per_s, 0)},
                        {"gpu_utilization_pct", Optional(s.gpu_utilization_pct, 2)},
                        {"gpu_memory_bytes", Optional(s.gpu_memory_bytes, 0)}});
  }
  j["per_step"] = std::move(per_step);
  j["warnings"] = r.warnings;
  return j;
}

Json IoJson(const IoProfile& io) {
  Json j;
  j["batches"] = io.batches;
  j["max_concurrent_reads"] = io.max_concurrent_reads;
  j["single_read_mb_per_s"] = Round(io.single_read_mb_per_s, 2);
  j["concurrent_read_mb_per_s"] = Round(io.concurrent_read_mb_per_s, 2);
  j["store_saturated"] = io.store_saturated;
  Json processes = Json::array();
  for (const ProcessIo& p : io.processes) {
    Json paths = Json::array();
    for (const IoPathStat& s : p.top_paths)
      paths.push_back({{"path", s.path},
                       {"calls", s.calls},
                       {"bytes", s.bytes},
                       {"time_ms", Ms(static_cast<double>(s.time_ns))}});
    Json e;
    e["pid"] = p.pid;
    e["role"] = Role(p.worker);
    e["read_calls"] = p.read_calls;
    e["read_bytes"] = p.read_bytes;
    e["read_ms"] = Ms(static_cast<double>(p.read_ns));
    e["open_calls"] = p.open_calls;
    e["open_ms"] = Ms(static_cast<double>(p.open_ns));
    e["read_calls_per_step"] = Round(p.read_calls_per_step, 2);
    e["read_bytes_per_step"] = Round(p.read_bytes_per_step, 0);
    e["read_ms_per_step"] = Round(p.read_ms_per_step, 3);
    e["opens_per_batch"] = Round(p.opens_per_batch, 2);
    e["read_mb_per_s"] = Round(p.read_mb_per_s, 2);
    e["read_latency_us"] = {{"p50", Round(p.read_latency_us_p50, 1)},
                            {"p90", Round(p.read_latency_us_p90, 1)},
                            {"p99", Round(p.read_latency_us_p99, 1)},
                            {"max", Round(p.read_latency_us_max, 1)}};
    e["loader_ms"] = Ms(static_cast<double>(p.loader_ns));
    e["read_wait_share"] = Share(p.read_wait_share);
    e["top_paths"] = std::move(paths);
    processes.push_back(std::move(e));
  }
  j["processes"] = std::move(processes);
  return j;
}

Json InputJson(const InputDiagnosis& d) {
  Json j;
  j["loader"] = d.loader;
  j["workers"] = d.workers;
  j["wait_ms_per_step"] = Round(d.wait_ms_per_step, 3);
  j["read_ms_per_step"] = Round(d.read_ms_per_step, 3);
  j["read_bytes_per_step"] = Round(d.read_bytes_per_step, 0);
  j["cpu_ms_per_step"] = Round(d.cpu_ms_per_step, 3);
  j["cause"] = ToString(d.cause);
  j["relevant"] = d.relevant;
  j["loader_ms_per_step"] = Round(d.loader_ms_per_step, 3);
  j["run_queue_ms_per_step"] = Round(d.run_queue_ms_per_step, 3);
  j["cpu_measured"] = d.cpu_measured;
  j["reason"] = d.reason;
  if (d.fix.workers > 0) {
    j["fix"] = {{"workers", d.fix.workers},
                {"predicted_step_ms", Round(d.fix.predicted_step_ms, 3)},
                {"limit", d.fix.limit},
                {"method", d.fix.method}};
  } else {
    j["fix"] = Json();
  }
  return j;
}

}  // namespace

void AddResources(const TraceAnalysis& a, Json& rank) {
  if (a.resources.has_host || a.resources.has_gpu) rank["resources"] = ResourcesJson(a.resources);
  if (a.io.present) rank["io"] = IoJson(a.io);
  if (a.input.present) rank["input"] = InputJson(a.input);
}

}  // namespace teye::json
