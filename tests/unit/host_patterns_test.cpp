// What host ranges mean (host_patterns.h): the predicates every analyzer reads names with, and
// the CPU-only host timeline built on them.
#include "teye/analyzers/host_patterns.h"

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/analyzers/host_timeline.h"

#include "trace_maker.h"

namespace teye {
namespace {

using test::TraceMaker;

// The row of the first host slice named `name`.
RowIndex Row(const Trace& t, std::string_view name) {
  const HostSliceTable& h = t.host_slices();
  for (size_t i = 0; i < h.size(); ++i)
    if (t.str(h.name[i]) == name) return static_cast<RowIndex>(i);
  ADD_FAILURE() << "no slice " << name;
  return 0;
}

TEST(HostPatterns, SyncCalls) {
  for (auto name : {"cudaDeviceSynchronize", "cudaStreamSynchronize", "cudaEventSynchronize",
                    "cuCtxSynchronize", "hipDeviceSynchronize", "cudaMemcpy", "cuMemcpyDtoH_v2",
                    "cudaFree", "cudaStreamSynchronize_ptsz"})
    EXPECT_TRUE(IsSyncCall(name, HostSliceKind::kRuntime)) << name;
  EXPECT_TRUE(IsSyncCall("aten::item", HostSliceKind::kCpuOp));
  EXPECT_TRUE(IsSyncCall("aten::nonzero", HostSliceKind::kCpuOp));
  for (auto name : {"cudaMemcpyAsync", "cudaLaunchKernel", "cudaEventRecord", "cudaMalloc"})
    EXPECT_FALSE(IsSyncCall(name, HostSliceKind::kRuntime)) << name;
  // The same name in another kind is not a call.
  EXPECT_FALSE(IsSyncCall("cudaDeviceSynchronize", HostSliceKind::kUserAnnotation));
  EXPECT_FALSE(IsSyncCall("aten::item", HostSliceKind::kRuntime));
}

TEST(HostPatterns, LaunchCalls) {
  for (auto name : {"cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC_v11060",
                    "hipExtModuleLaunchKernel", "cudaGraphLaunch", "cudaMemcpyAsync",
                    "cudaMemsetAsync", "cuMemcpyHtoDAsync_v2"})
    EXPECT_TRUE(IsLaunchCall(name)) << name;
  for (auto name : {"cudaStreamSynchronize", "cudaMalloc", "cudaEventRecord", "aten::linear"})
    EXPECT_FALSE(IsLaunchCall(name)) << name;
}

TEST(HostPatterns, PreprocessingNames) {
  for (auto name : {"transforms.Compose", "image_processing_vit.py(300): preprocess",
                    "tokenizer.encode -> Tokenize", "default_collate", "decode_jpeg",
                    "RandomResizedCrop: resize", "T.Normalize: normalize"})
    EXPECT_TRUE(IsPreprocessingName(name)) << name;
  for (auto name : {"aten::linear", "ProfilerStep#3", "Optimizer.step#SGD.step"})
    EXPECT_FALSE(IsPreprocessingName(name)) << name;
}

TEST(HostPatterns, InputRangesAndLoaderIterations) {
  TraceMaker m;
  m.Host("user_annotation", "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__", 0, 10)
      .Host("dataloader", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", 20, 10)
      .Host("io", "read", 22, 2)
      .Host("user_annotation", "load_batch", 40, 5)
      .Host("python_function", "torch/utils/data/dataloader.py(628): __next__", 50, 5)
      .Host("python_function", "model.py(10): forward", 60, 5)
      .Host("cpu_op", "aten::linear", 70, 5)
      // torch's own export: no category at all.
      .Raw(R"({"ph":"X","name":"enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__",)"
           R"("pid":"CPU functions","tid":1,"ts":80,"dur":10})");
  const Trace t = m.Build();
  const HostSliceTable& h = t.host_slices();
  int loader = 0, input = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    loader += IsDataLoaderNext(t, static_cast<RowIndex>(i));
    input += IsInputSlice(t, static_cast<RowIndex>(i));
  }
  EXPECT_EQ(loader, 3);  // the two named ranges and the teye collector's; not the Python frame
  EXPECT_EQ(input, 6);   // those, the read, load_batch and the DataLoader's Python frame
  EXPECT_FALSE(IsInputSlice(t, Row(t, "model.py(10): forward")));
  EXPECT_FALSE(IsInputSlice(t, Row(t, "aten::linear")));
}

TEST(HostPatterns, LoaderModeByNameElseByTheWorkInside) {
  TraceMaker m;
  m.Host("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", 0, 100)
      .Host("user_annotation", "enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__", 200,
            100)
      .Host("cpu_op", "aten::stack", 210, 80)  // a big collate inside: still worker-fed by name
      // A loader teye does not know by name: mostly reads and ops inside is inline...
      .Host("dataloader", "enumerate(DataLoader)#MyIter.__next__", 400, 100)
      .Host("io", "read", 405, 30)
      .Host("cpu_op", "aten::div_", 440, 25)
      // ...mostly waiting is worker-fed.
      .Host("dataloader", "enumerate(DataLoader)#OtherIter.__next__", 600, 100)
      .Host("cpu_op", "aten::empty", 690, 2);
  const Trace t = m.Build();
  const HostSliceTable& h = t.host_slices();
  std::vector<LoaderMode> modes;
  for (size_t i = 0; i < h.size(); ++i)
    if (IsDataLoaderNext(t, static_cast<RowIndex>(i)))
      modes.push_back(LoaderModeOf(t, static_cast<RowIndex>(i)));
  EXPECT_EQ(modes, (std::vector<LoaderMode>{LoaderMode::kInline, LoaderMode::kWorkers,
                                            LoaderMode::kInline, LoaderMode::kWorkers}));
}

TEST(HostTimeline, CpuOnlyStepSplitsIntoInputComputeAndOther) {
  // Two 100 µs steps on one thread, no GPU: 40 µs loading inline (ops inside count as input),
  // 50 µs of ops, 10 µs of Python between them.
  TraceMaker m;
  for (int s = 0; s < 2; ++s) {
    const double t0 = 100.0 * s;
    m.Host("user_annotation", "ProfilerStep#" + std::to_string(s + 1), t0, 100)
        .Host("user_annotation", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", t0,
              40)
        .Host("cpu_op", "aten::stack", t0 + 10, 25)
        .Host("cpu_op", "aten::linear", t0 + 45, 30)
        .Host("cpu_op", "aten::relu", t0 + 80, 20);
  }
  const Trace t = m.Build();
  auto a = AnalyzeTrace(t, {});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_gpu_activity);
  ASSERT_TRUE(a->breakdown.host_timeline);
  const DeviceBreakdown* p = a->breakdown.Primary();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->device, kHostTimelineDevice);
  EXPECT_EQ(p->total[TimeCategory::kInput], 80 * kNsPerUs);
  EXPECT_EQ(p->total[TimeCategory::kCompute], 100 * kNsPerUs);
  EXPECT_EQ(p->total[TimeCategory::kOtherCpu], 20 * kNsPerUs);  // 40–45 and 75–80, twice
  EXPECT_EQ(p->total.Total(), 200 * kNsPerUs);
  ASSERT_TRUE(a->bound.valid);
  EXPECT_EQ(a->bound.run.cls, BoundClass::kInput);  // compute 50% < 80%; input 40% > host 10%
  EXPECT_TRUE(a->devices.empty());                  // no GPU to report
  ASSERT_FALSE(a->notes.empty());
  EXPECT_NE(a->notes[0].find("training thread"), std::string::npos) << a->notes[0];
}

TEST(HostTimeline, WithoutRecordedOpsTheThreadsOwnTimeIsCompute) {
  // teye's collector without the PyTorch profiler: only the loader and the optimizer are marked.
  TraceMaker m;
  for (int s = 0; s < 3; ++s) {
    const double t0 = 100.0 * s;
    m.Host("dataloader", "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", t0, 30)
        .Host("user_annotation", "Optimizer.step#SGD.step", t0 + 80, 10);
  }
  const Trace t = m.Build();
  auto a = AnalyzeTrace(t, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->steps.source, StepSource::kDataLoader);
  const DeviceBreakdown* p = a->breakdown.Primary();
  ASSERT_NE(p, nullptr);
  // Steps 0–100 and 100–200 (the third runs to the end of the recording: its last range).
  ASSERT_GE(p->steps.size(), 2u);
  const StepBreakdown& first = p->steps[0];
  EXPECT_EQ(first.times[TimeCategory::kInput], 30 * kNsPerUs);
  EXPECT_EQ(first.times[TimeCategory::kCompute], 70 * kNsPerUs);
  EXPECT_EQ(first.times[TimeCategory::kOtherCpu], 0);
}

TEST(HostTimeline, TrainingThreadCarriesTheMarkersElseTheMostOps) {
  TraceMaker m;
  m.Host("cpu_op", "aten::mm", 0, 50, /*tid=*/2).Host("cpu_op", "aten::add", 0, 10, /*tid=*/3);
  const Trace t = m.Build();
  auto steps = DetectSteps(t, {});
  ASSERT_TRUE(steps.ok());
  const ThreadIndex thread = TrainingThread(t, steps.value());
  ASSERT_NE(thread, kNoThread);
  EXPECT_EQ(t.threads().tid[thread], 2);
}

}  // namespace
}  // namespace teye
