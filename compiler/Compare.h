// `infc compare MODEL.onnx MODEL.plan`: the ONNX model on the reference interpreter versus the
// engine on the GPU, per output: max abs/rel error and cosine similarity.
#pragma once

#include "ir/Tensor.h"

#include <map>
#include <string>

namespace infc {

struct OutputDiff {
  std::string name;
  double maxAbs = 0, maxRel = 0, cosine = 1;
  int64_t worstIndex = -1;
  bool withinTolerance = true;
};

/// Compares two tensors: |g - w| <= atol + rtol * |w| elementwise (NaN == NaN, inf exact).
OutputDiff diffTensors(const std::string &name, const Tensor &got, const Tensor &want, double rtol, double atol);

struct CompareOptions {
  std::string modelPath, enginePath;
  std::map<std::string, std::string> inputFiles;
  double rtol = 1e-3, atol = 1e-4;
};

struct CompareReport {
  std::vector<OutputDiff> outputs;
  bool ok = true;
  std::string text;
  std::vector<std::string> notes; ///< for stderr: inputs that were made up
};

Expected<CompareReport> compareModelAndEngine(const CompareOptions &options);

} // namespace infc
