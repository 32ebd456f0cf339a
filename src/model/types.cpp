#include "teye/model/types.h"

#include "teye/model/read_stats.h"

namespace teye {

std::string_view ToString(GpuOpKind kind) {
  switch (kind) {
    case GpuOpKind::kKernel:
      return "kernel";
    case GpuOpKind::kMemcpy:
      return "memcpy";
    case GpuOpKind::kMemset:
      return "memset";
    case GpuOpKind::kSync:
      return "sync";
  }
  return "?";
}

std::string_view ToString(HostSliceKind kind) {
  switch (kind) {
    case HostSliceKind::kCpuOp:
      return "cpu_op";
    case HostSliceKind::kUserAnnotation:
      return "user_annotation";
    case HostSliceKind::kPythonFunction:
      return "python_function";
    case HostSliceKind::kRuntime:
      return "runtime";
    case HostSliceKind::kDriver:
      return "driver";
    case HostSliceKind::kDataLoader:
      return "dataloader";
    case HostSliceKind::kIo:
      return "io";
    case HostSliceKind::kOverhead:
      return "overhead";
    case HostSliceKind::kProfilerSpan:
      return "profiler_span";
    case HostSliceKind::kOther:
      return "other";
  }
  return "?";
}

std::string_view ToString(CopyKind kind) {
  switch (kind) {
    case CopyKind::kUnknown:
      return "unknown";
    case CopyKind::kHtoD:
      return "HtoD";
    case CopyKind::kDtoH:
      return "DtoH";
    case CopyKind::kDtoD:
      return "DtoD";
    case CopyKind::kHtoH:
      return "HtoH";
    case CopyKind::kPtoP:
      return "PtoP";
  }
  return "?";
}

std::string_view ToString(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kUnknown:
      return "unknown";
    case MemoryKind::kPageable:
      return "pageable";
    case MemoryKind::kPinned:
      return "pinned";
    case MemoryKind::kDevice:
      return "device";
    case MemoryKind::kManaged:
      return "managed";
  }
  return "?";
}

std::string_view ToString(GpuVendor vendor) {
  switch (vendor) {
    case GpuVendor::kUnknown:
      return "unknown";
    case GpuVendor::kNvidia:
      return "NVIDIA";
    case GpuVendor::kAmd:
      return "AMD";
  }
  return "?";
}

std::string_view ToString(SkipReason reason) {
  switch (reason) {
    case SkipReason::kMalformedJson:
      return "malformed JSON";
    case SkipReason::kNotAnObject:
      return "not an object";
    case SkipReason::kMissingPhase:
      return "missing ph";
    case SkipReason::kUnknownPhase:
      return "phase not modelled";
    case SkipReason::kMissingTimestamp:
      return "missing or bad ts";
    case SkipReason::kBadNumber:
      return "time out of range";
    case SkipReason::kNegativeDuration:
      return "negative dur";
    case SkipReason::kUnmatchedEnd:
      return "end without begin";
    case SkipReason::kUnclosedBegin:
      return "begin without end";
    case SkipReason::kCount:
      break;
  }
  return "?";
}

}  // namespace teye
