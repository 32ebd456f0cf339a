// The text report's resource lines: the four-number headline (CPU, host memory, GPU, GPU memory)
// and the RESOURCES, I/O and INPUT sections (docs/metrics.md, "Resources", "I/O", "Input cause").
#pragma once

#include <string>
#include <vector>

#include "teye/analyzers/analysis.h"
#include "teye/reports/text_writer.h"

namespace teye {

// "CPU 48% (0.48 of 2 cores) · host memory 251 MB · GPU 63% · GPU memory 12.1 of 80.0 GB",
// empty when the trace holds none of the four.
std::string ResourceHeadline(const TraceAnalysis& a, const TextOptions& options);

// Lines of the RESOURCES and I/O sections, each without its newline; empty when there is nothing
// to say. `label_width` is the column where values start.
std::vector<std::string> ResourceSections(const TraceAnalysis& a, const TextOptions& options,
                                          int label_width);

// The INPUT section: why the input is slow, when input bounds the steps (or is the runner-up).
std::vector<std::string> InputSection(const TraceAnalysis& a, const TextOptions& options,
                                      int label_width);

}  // namespace teye
