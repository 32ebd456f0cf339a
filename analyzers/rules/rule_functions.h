// Every rule of the catalogue; each lives in the file named after its subject.
#pragma once

#include <vector>

#include "teye/analyzers/recommendations.h"

namespace teye::rules {

// input_rules.cpp
std::vector<Recommendation> DataLoaderWorkers(const RuleContext& c);
std::vector<Recommendation> PinMemory(const RuleContext& c);
std::vector<Recommendation> OverlapInputCopies(const RuleContext& c);
// input_cause_rule.cpp: shapes DataLoaderWorkers' recommendation by the input's cause.
void FollowInputCause(const RuleContext& c, Recommendation& r);
// sync_rule.cpp
std::vector<Recommendation> RemoveSyncs(const RuleContext& c);
// precision_rule.cpp
std::vector<Recommendation> MixedPrecision(const RuleContext& c);
// fusion_rules.cpp
std::vector<Recommendation> FuseElementwise(const RuleContext& c);
std::vector<Recommendation> ChannelsLast(const RuleContext& c);
// communication_rules.cpp
std::vector<Recommendation> GradientBucketing(const RuleContext& c);
std::vector<Recommendation> OverlapCommunication(const RuleContext& c);
// comm_wait_rule.cpp
std::vector<Recommendation> BalanceRanks(const RuleContext& c);
// launch_rules.cpp
std::vector<Recommendation> CudaGraphs(const RuleContext& c);
std::vector<Recommendation> LargerBatch(const RuleContext& c);
// host_work_rule.cpp
std::vector<Recommendation> MoveCpuWork(const RuleContext& c);
// memory_rule.cpp
std::vector<Recommendation> MemoryPressure(const RuleContext& c);
// roofline_rules.cpp
std::vector<Recommendation> BelowRoofline(const RuleContext& c);
std::vector<Recommendation> SmallGrid(const RuleContext& c);

}  // namespace teye::rules
