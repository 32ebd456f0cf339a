// The representative-step timeline: which step, which lanes, and that merging bounds its size.
#include <sstream>

#include <gtest/gtest.h>

#include "teye/analyzers/analysis.h"
#include "teye/import/read_trace.h"
#include "teye/synth/synth.h"

namespace teye {
namespace {

Trace Simulate(const std::string& scenario) {
  auto knobs = synth::ScenarioKnobs(scenario, 1);
  EXPECT_TRUE(knobs.ok());
  std::ostringstream text;
  synth::Simulate(knobs.value(), text);
  auto trace = ReadTraceBytes("synth", text.str());
  EXPECT_TRUE(trace.ok());
  return std::move(trace.value());
}

TEST(StepTimeline, PicksTheMedianStepAndDrawsStreamsAndThreads) {
  const Trace trace = Simulate("demo");
  auto a = AnalyzeTrace(trace, {});
  ASSERT_TRUE(a.ok());
  const StepTimeline& t = a->timeline;
  ASSERT_TRUE(t.valid);
  const Step& chosen = a->steps.steps[static_cast<size_t>(t.step)];
  EXPECT_TRUE(chosen.complete);
  const double median_ns = a->steps.duration_ms.median * kNsPerMs;
  for (const Step* s : a->steps.CompleteSteps())
    EXPECT_LE(std::abs(static_cast<double>(chosen.duration()) - median_ns),
              std::abs(static_cast<double>(s->duration()) - median_ns) + 1);
  bool gpu = false, host = false, input = false;
  for (const TimelineLane& l : t.lanes) {
    (l.gpu ? gpu : host) = true;
    for (const TimelineBox& b : l.boxes) {
      EXPECT_GE(b.start, 0);
      EXPECT_LE(b.end, t.duration);
      EXPECT_LE(b.start, b.end);
      input |= b.kind == TimelineKind::kInput;
    }
  }
  EXPECT_TRUE(gpu);
  EXPECT_TRUE(host);
  EXPECT_TRUE(input) << "the demo job waits for its DataLoader";
}

TEST(StepTimeline, MergingBoundsTheBoxes) {
  // Thousands of tiny kernels per step: the boxes stay within lanes × kinds × resolution.
  const Trace trace = Simulate("host-launch");
  auto steps = DetectSteps(trace, {});
  ASSERT_TRUE(steps.ok());
  KernelClassifier classifier;
  StepTimelineOptions o;
  o.resolution = 200;
  const StepTimeline t =
      BuildStepTimeline(trace, steps.value(), classifier.ClassifyTrace(trace), o);
  ASSERT_TRUE(t.valid);
  EXPECT_GT(t.events, t.boxes);
  for (const TimelineLane& l : t.lanes)
    EXPECT_LE(l.boxes.size(), static_cast<size_t>(o.resolution) * 9 + 9) << l.name;
  int64_t merged = 0;
  for (const TimelineLane& l : t.lanes)
    for (const TimelineBox& b : l.boxes)
      merged += b.events;
  EXPECT_EQ(merged, t.events) << "every event lands in exactly one box";
}

}  // namespace
}  // namespace teye
