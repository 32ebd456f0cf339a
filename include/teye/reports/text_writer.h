// Report → terminal text: fits 100 columns, colour only when asked (the CLI asks on a TTY).
#pragma once

#include <string>

#include "teye/reports/report.h"

namespace teye {

struct TextOptions {
  bool color = false;
  int width = 100;
};

std::string WriteTextReport(const Report& report, const TextOptions& options = {});

}  // namespace teye
