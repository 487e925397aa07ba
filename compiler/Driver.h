// The compiler driver: model loading, input-shape overrides, emitting IR.
#pragma once

#include "ir/IR.h"

#include <memory>
#include <string>
#include <vector>

namespace infc {

/// `--shapes input:1x3x224x224` entry.
struct InputShape {
  std::string name;
  std::vector<int64_t> dims;
};

/// Parses "a:1x3x224x224,b:1x128" (a name may itself contain ':'; the last one separates).
Expected<std::vector<InputShape>> parseInputShapes(const std::string &spec);

/// Loads a model: ONNX (`.onnx`, or anything that is not textual IR) or textual IR (`.ir`).
Expected<std::unique_ptr<Module>> loadModel(const std::string &path);

/// Fixes graph-argument shapes. Each name must be an input; rank must match; static dims in the
/// model must agree. Symbolic dims bound here are bound in every input that uses the symbol.
Status applyInputShapes(Module &module, const std::vector<InputShape> &shapes, const std::string &modelPath);

} // namespace infc
