// The ONNX backend-test runner behind `infc-conformance`.
#pragma once

#include "ir/IR.h"
#include "passes/PassManager.h"

#include <string>
#include <vector>

namespace infc {

struct ConformanceOptions {
  std::vector<std::string> dirs;
  std::string filter;
  std::string passes = kDefaultOnnxPipeline;
  std::string backend = "reference";
  bool verbose = false;
  bool listSkips = false;
  double rtol = 1e-3, atol = 1e-7; ///< ONNX backend-test defaults
};

struct ConformanceSummary {
  int64_t passed = 0, failed = 0, skipped = 0;
};

/// Prints one line per failure (and per skip with listSkips), a per-folder summary, and returns
/// the totals. Skips: unsupported op/feature, training op, string or non-tensor data.
Expected<ConformanceSummary> runConformance(const ConformanceOptions &options);

/// Runs a module on the GPU through an engine (nullptr when the GPU back end is not built in).
using GpuExecutor = Expected<std::vector<Tensor>> (*)(const class Module &, const std::vector<Tensor> &);
void setConformanceGpuExecutor(GpuExecutor exec);

} // namespace infc
