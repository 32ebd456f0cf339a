// Which trace files of a recorded job are ranks. teye's collector writes one file per process:
// a job with 2 DataLoader workers leaves 3 files, a 2-rank torchrun job 3 + the agent's, each
// worker of each rank its own. Analysing each file as a rank would count workers and launchers
// as ranks; this decides, from each file's footer alone (cheap: the footer is the file's last
// bytes), what each file is:
//
//   - a child that is folded into its parent's rank (the parent's trace is among the inputs, on
//     the same host): a process forked without exec (footer `forked_from`: DataLoader workers
//     in the fork context), or one started through Python multiprocessing (spawn/forkserver
//     workers, the resource tracker; told by its command line), unless it knows a rank of its
//     own that differs from its parent's (torch.multiprocessing.spawn'ed ranks);
//   - a rank: any other process that did training work (DataLoader iterations, optimizer or
//     ProfilerStep ranges, NVTX ranges, GPU activity, NCCL operations; its own or its folded
//     children's). When no process did any, the processes that started no other recorded
//     process are the ranks;
//   - a launcher, which is not a rank: a process that is neither (the torchrun agent, a shell
//     script that runs the job, a process that only started others). A launcher's folded
//     children go with it. Each launcher is named in a note.
//
// Files that are not the collector's (a PyTorch profiler trace, a .gz) are each a rank, as
// before. See docs/collector.md, "teye analyze of a recorded job".
#pragma once

#include <string>
#include <vector>

#include "teye/import/read_trace.h"

namespace teye {

// One rank: the file of its own process and the files folded into it.
struct RankFiles {
  std::string main;
  std::vector<FoldedFile> folded;
};

struct JobLayout {
  std::vector<RankFiles> ranks;    // in the order of their main file among the inputs
  std::vector<std::string> notes;  // launchers and other processes that are not ranks
};

JobLayout PlanJob(const std::vector<std::string>& paths);

// What the collector's footer says about the process that wrote `path`; `found` is false for
// files without one (other producers, .gz, a file cut off before its footer).
struct CollectorFooter {
  bool found = false;
  std::string host;
  int64_t pid = 0;
  int64_t ppid = 0;
  int64_t forked_from = 0;
  int rank = -1;
  std::string command;
  int64_t training_events = 0;  // ranges, GPU activity and NCCL operations (see above)
};
CollectorFooter ReadCollectorFooter(const std::string& path);

}  // namespace teye
