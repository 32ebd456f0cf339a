// Report → JSON, schema "teye.report/1" (docs/report-schema.md). Stable: the gate and diff read
// it, and so can users. Fractions are 0..1 (`*_share`, `gpu_utilization`); percentages are
// 0..100 (`*_pct`); times are milliseconds (`*_ms`), microseconds (`*_us`) or ns (`*_ns`).
#pragma once

#include <string>

#include "teye/reports/report.h"

namespace teye {

std::string WriteJsonReport(const Report& report);

}  // namespace teye
