// The trace's file on disk: created without trusting what is already in the folder, written
// while the job runs under "<name>.partial", and given its final name only when whole.
//
// The partial file is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a symlink or a file someone put
// at the predictable name (host.pid) is never followed, truncated or overwritten; the final name
// is taken with renameat2(RENAME_NOREPLACE) (or link + unlink where the file system lacks it),
// so an older trace of a process with the same pid is kept. When a name is taken, the next free
// one is used: host.pid.2.pt.trace.json, host.pid.3.pt.trace.json, ...
#pragma once

#include <cstddef>
#include <string>

namespace teye::collector {

class TraceFile {
 public:
  TraceFile() = default;
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // Creates the folder (mkdir -p) and "<dir>/<name>.partial" (name ends in ".pt.trace.json").
  // False on failure, with error() the errno of the step that failed (mkdir, open).
  bool Create(const std::string& dir, const std::string& name);
  // Benchmarks: everything goes to `fd` (e.g. /dev/null) and nothing is created or renamed.
  void UseSink(int fd);

  bool is_open() const { return fd_ >= 0; }
  bool Write(const char* data, size_t size);
  // Syncs and closes the file and renames it to "<dir>/<final_name>" (or the next free name).
  // False when the file cannot be completed; the partial file then stays.
  bool Commit(const std::string& final_name, std::string* final_path);
  // Forgets the file without touching it (a forked child's copy of the parent's descriptor).
  void Abandon();

  const std::string& partial_path() const { return partial_path_; }
  int error() const { return error_; }

 private:
  std::string dir_;
  std::string partial_path_;
  int fd_ = -1;
  bool sink_ = false;
  int error_ = 0;
};

// "<stem>.pt.trace.json" → "<stem>.<n>.pt.trace.json" for n >= 2 (n == 1: unchanged).
std::string NumberedTraceName(const std::string& name, int n);

}  // namespace teye::collector
