// What host ranges mean: input pipeline, synchronization, kernel launches. Shared by step
// detection and idle attribution so both read names the same way. Names are matched as the
// PyTorch profiler, CUDA/HIP runtimes and teye's collector write them.
#pragma once

#include <string_view>

#include "teye/model/trace.h"

namespace teye {

// A DataLoader iteration: PyTorch's `enumerate(DataLoader)#...__next__` or a teye collector
// dataloader range.
bool IsDataLoaderNext(const Trace& trace, RowIndex slice);

// How a DataLoader iteration gets its batch. kInline: it loads the batch itself, on the calling
// thread — PyTorch's `_SingleProcessDataLoaderIter` (num_workers=0), or any loader range that is
// mostly loading work recorded inside it (framework ops such as decode, transforms and collate;
// file reads). kWorkers: it takes a batch that other processes made
// (`_MultiProcessingDataLoaderIter`, or a range with little work of its own inside), so its
// length is how long the batch kept the loop waiting.
enum class LoaderMode : uint8_t { kWorkers, kInline };
LoaderMode LoaderModeOf(const Trace& trace, RowIndex slice);

// Waiting for input: DataLoader iterations, teye I/O and dataloader ranges, and annotations
// named for batch loading (load_batch, wait_for_batch, data_load, ...).
bool IsInputSlice(const Trace& trace, RowIndex slice);

// A collective communication range on the host: PyTorch's `record_param_comms` and backend
// annotations (`nccl:all_reduce`, `gloo:all_reduce`, …), c10d collective ops, or any range that
// carries collective arguments.
bool IsCollectiveSlice(const Trace& trace, RowIndex slice);

// A range named for input preprocessing: transforms, decoding, tokenizing, collating,
// augmentation, normalizing, resizing (ASCII, any case).
bool IsPreprocessingName(std::string_view name);

// Blocks the host until the GPU is done: device/stream/event synchronize, synchronous memcpy
// and memset, cudaFree, and the PyTorch ops that read a GPU value back (.item(), nonzero).
bool IsSyncCall(std::string_view name, HostSliceKind kind);

// Runtime/driver calls that put work on a GPU queue.
bool IsLaunchCall(std::string_view name);

}  // namespace teye
