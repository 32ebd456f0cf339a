// Device properties: TARGET_INFO_GPU (every generation; fewer columns in old ones),
// TARGET_INFO_CUDA_GPU (old exports: CUDA properties per process) and TARGET_INFO_CUDA_DEVICE
// (new exports: which GPU each process saw as which CUDA device). Activity rows give the CUDA
// device id as the process saw it (CUPTI's deviceId), so each process gets its own mapping.
#include <map>
#include <vector>

#include "export_context.h"

namespace teye::import::nsys {
namespace {

struct Gpu {
  int64_t id = -1;         // nsys's GPU id
  int64_t cu_device = -1;  // CUDA ordinal as nsys enumerated it, when recorded
  int64_t pid = -1;        // TARGET_INFO_CUDA_GPU: the process these properties are for
  DeviceInfo info;
};

std::vector<Gpu> ReadGpus(Database& db, const std::string& table) {
  std::vector<Gpu> out;
  if (!db.HasTable(table)) return out;
  const bool old = table == "TARGET_INFO_CUDA_GPU";
  // New and old spellings of the same properties, in one column order.
  enum { kId, kName, kMemory, kSms, kMajor, kMinor, kWarp, kWarpsPerSm, kCuDevice, kPid };
  const std::string columns =
      old ? SelectList(db, table,
                       {"deviceId", "name", "globalMemorySize", "numMultiprocessors",
                        "computeCapabilityMajor", "computeCapabilityMinor", "numThreadsPerWarp",
                        "maxWarpsPerMultiprocessor", "cuDevice", "pid"})
          : SelectList(db, table,
                       {db.HasColumn(table, "id") ? "id" : "deviceId", "name", "totalMemory",
                        "smCount", "computeMajor", "computeMinor", "threadsPerWarp",
                        "maxWarpsPerSm", "cuDevice", "pid"});
  auto stmt = db.Prepare("SELECT " + columns + " FROM " + table);
  if (!stmt.ok()) return out;
  while (stmt->Next()) {
    Gpu g;
    g.id = stmt->Int(kId);
    g.cu_device = stmt->IsNull(kCuDevice) ? -1 : stmt->Int(kCuDevice);
    g.pid = stmt->IsNull(kPid) ? -1 : stmt->Int(kPid);
    g.info.name = std::string(stmt->Text(kName));
    g.info.total_global_mem = stmt->Int(kMemory);
    g.info.num_sms = static_cast<int>(stmt->Int(kSms));
    g.info.compute_major = static_cast<int>(stmt->Int(kMajor));
    g.info.compute_minor = static_cast<int>(stmt->Int(kMinor));
    g.info.warp_size = static_cast<int>(stmt->Int(kWarp));
    g.info.max_threads_per_sm = static_cast<int>(stmt->Int(kWarpsPerSm) * stmt->Int(kWarp));
    out.push_back(std::move(g));
  }
  return out;
}

// (pid, CUDA device) → nsys GPU id, from TARGET_INFO_CUDA_DEVICE.
std::map<std::pair<int64_t, int64_t>, int64_t> ReadCudaDeviceMap(Database& db) {
  std::map<std::pair<int64_t, int64_t>, int64_t> out;
  const std::string table = "TARGET_INFO_CUDA_DEVICE";
  if (RequireColumns(db, table, {"gpuId", "cudaId", "pid"})) return out;
  auto stmt = db.Prepare("SELECT pid, cudaId, gpuId FROM " + table);
  if (!stmt.ok()) return out;
  while (stmt->Next())
    out[{stmt->Int(0), stmt->Int(1)}] = stmt->Int(2);
  return out;
}

const Gpu* FindGpu(const std::vector<Gpu>& gpus, int64_t pid, int64_t cuda_device,
                   const std::map<std::pair<int64_t, int64_t>, int64_t>& cuda_map,
                   const std::vector<Gpu>& cuda_gpus) {
  if (auto it = cuda_map.find({pid, cuda_device}); it != cuda_map.end())
    for (const Gpu& g : gpus)
      if (g.id == it->second) return &g;
  for (const Gpu& g : cuda_gpus)
    if (g.pid == pid && g.id == cuda_device) return &g;
  for (const Gpu& g : gpus)
    if (g.cu_device == cuda_device) return &g;
  for (const Gpu& g : gpus)
    if (g.id == cuda_device) return &g;
  if (gpus.size() == 1) return &gpus.front();
  if (cuda_gpus.size() == 1) return &cuda_gpus.front();
  return nullptr;
}

}  // namespace

void AddDevices(Database& db, RowSink& sink) {
  const std::vector<Gpu> gpus = ReadGpus(db, "TARGET_INFO_GPU");
  const std::vector<Gpu> cuda_gpus = ReadGpus(db, "TARGET_INFO_CUDA_GPU");
  const auto cuda_map = ReadCudaDeviceMap(db);
  for (const auto& [pid, devices] : sink.devices_by_pid) {
    for (int device : devices) {
      const Gpu* g = FindGpu(gpus, pid, device, cuda_map, cuda_gpus);
      if (!g) continue;
      DeviceInfo info = g->info;
      // Old exports split the properties: the name from TARGET_INFO_GPU, the rest per process.
      if (info.name.empty() && gpus.size() == 1) info.name = gpus.front().info.name;
      info.id = device;
      sink.Process(pid).AddDevice(std::move(info));
    }
  }
}

}  // namespace teye::import::nsys
