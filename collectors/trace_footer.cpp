#include "trace_footer.h"

#include <cstdio>
#include <cstring>

#include "version.h"

namespace teye::collector {

void AppendFooter(JsonOut& tail, const Footer& f, const ProcessIdentity& id,
                  const WrittenCounts& counts) {
  if (!f.devices.empty()) {
    tail.Lit(",\"deviceProperties\":[");
    for (size_t i = 0; i < f.devices.size(); ++i) {
      const DeviceProps& d = f.devices[i];
      if (i) tail.Char(',');
      tail.Lit("{\"id\":");
      tail.I64(d.id);
      tail.Lit(",\"name\":");
      tail.String(d.name);
      tail.Lit(",\"totalGlobalMem\":");
      tail.U64(d.total_global_mem);
      tail.Lit(",\"computeMajor\":");
      tail.I64(d.compute_major);
      tail.Lit(",\"computeMinor\":");
      tail.I64(d.compute_minor);
      tail.Lit(",\"maxThreadsPerBlock\":");
      tail.I64(d.max_threads_per_block);
      tail.Lit(",\"maxThreadsPerMultiprocessor\":");
      tail.I64(d.max_threads_per_sm);
      tail.Lit(",\"regsPerBlock\":");
      tail.I64(d.regs_per_block);
      tail.Lit(",\"warpSize\":");
      tail.I64(d.warp_size);
      tail.Lit(",\"sharedMemPerBlock\":");
      tail.I64(d.shared_mem_per_block);
      tail.Lit(",\"numSms\":");
      tail.I64(d.num_sms);
      tail.Lit(",\"sharedMemPerMultiprocessor\":");
      tail.I64(d.shared_mem_per_sm);
      tail.Lit(",\"l2CacheSize\":");
      tail.I64(d.l2_cache_size);
      if (d.regs_per_sm) {
        tail.Lit(",\"regsPerMultiprocessor\":");
        tail.I64(d.regs_per_sm);
      }
      if (d.max_blocks_per_sm) {
        tail.Lit(",\"maxBlocksPerMultiprocessor\":");
        tail.I64(d.max_blocks_per_sm);
      }
      if (d.clock_khz) {
        tail.Lit(",\"clockRate\":");
        tail.I64(d.clock_khz);
      }
      if (d.memory_bandwidth) {
        tail.Lit(",\"memoryBandwidthKBps\":");
        tail.U64(d.memory_bandwidth);
      }
      if (d.has_uuid) {
        char uuid[48];
        const uint8_t* u = d.uuid;
        std::snprintf(uuid, sizeof uuid,
                      "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                      u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                      u[12], u[13], u[14], u[15]);
        tail.Lit(",\"uuid\":");
        tail.String(uuid);
      }
      tail.Char('}');
    }
    tail.Char(']');
  }
  if (f.rank >= 0) {
    tail.Lit(",\"distributedInfo\":{\"rank\":");
    tail.I64(f.rank);
    tail.Lit(",\"world_size\":");
    tail.I64(f.world_size);
    if (!f.backend.empty()) {
      tail.Lit(",\"backend\":");
      tail.String(f.backend);
    }
    tail.Char('}');
  }
  tail.Lit(",\"teye\":{\"version\":");
  tail.String(kCollectorVersion);
  tail.Lit(",\"producer\":\"libteye_collector\",\"rank\":");
  tail.I64(f.rank);
  tail.Lit(",\"world_size\":");
  tail.I64(f.world_size);
  tail.Lit(",\"pid\":");
  tail.I64(id.pid);
  tail.Lit(",\"ppid\":");
  tail.I64(id.ppid);
  if (f.forked_from) {
    tail.Lit(",\"forked_from\":");
    tail.I64(f.forked_from);
  }
  tail.Lit(",\"host\":");
  tail.String(id.host);
  if (id.cpus > 0) {
    tail.Lit(",\"cpus\":");
    tail.I64(id.cpus);
  }
  tail.Lit(",\"command\":");
  tail.String(id.command);
  tail.Lit(",\"complete\":true,\"end_reason\":");
  tail.String(f.end_reason);
  tail.Lit(",\"start_ns\":");
  tail.I64(f.start_ns);
  tail.Lit(",\"events\":");
  tail.U64(counts.events);
  // What kind of process this was (teye analyze tells training processes from launchers).
  tail.Lit(",\"nvtx_ranges\":");
  tail.U64(counts.nvtx_ranges);
  tail.Lit(",\"annotation_ranges\":");
  tail.U64(counts.annotation_ranges);
  tail.Lit(",\"dataloader_ranges\":");
  tail.U64(counts.dataloader_ranges);
  tail.Lit(",\"gpu_events\":");
  tail.U64(counts.gpu_events);
  tail.Lit(",\"dropped_records\":");
  tail.U64(f.dropped_records);
  tail.Lit(",\"dropped_strings\":");
  tail.U64(f.dropped_strings);
  tail.Lit(",\"buffer_bytes\":");
  tail.U64(f.buffer_bytes);
  tail.Lit(",\"clock\":");
  tail.String(f.clock);
  tail.Lit(",\"cupti\":");
  tail.String(f.cupti_status);
  tail.Lit(",\"nvml\":");
  tail.String(f.nvml_status);
  if (const Stats* s = f.stats) {
    auto stat = [&](const char* key, const std::atomic<uint64_t>& v) {
      tail.Lit(",\"");
      tail.Raw(key, std::strlen(key));
      tail.Lit("\":");
      tail.U64(v.load(std::memory_order_relaxed));
    };
    stat("cupti_records", s->cupti_records);
    stat("cupti_dropped_records", s->cupti_dropped);
    stat("cupti_invalid_records", s->cupti_invalid);
    stat("cupti_unknown_records", s->cupti_unknown_kind);
    stat("cupti_filtered_api_calls", s->cupti_filtered);
    stat("cupti_buffers", s->cupti_buffers);
    stat("cupti_buffers_refused", s->cupti_buffers_refused);
    stat("nvtx_unmatched_pops", s->nvtx_unmatched_pops);
    stat("nvtx_unmatched_ends", s->nvtx_unmatched_ends);
    stat("nvtx_stack_overflows", s->nvtx_stack_overflow);
    stat("nvtx_unclosed_ranges", s->nvtx_unclosed);
    stat("nccl_events", s->nccl_events);
    stat("nccl_events_dropped", s->nccl_events_dropped);
    tail.Lit(",\"io_events\":");
    tail.U64(counts.io);
  }
  tail.Lit("}}\n");
}

}  // namespace teye::collector
