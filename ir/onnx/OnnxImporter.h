// ONNX model -> onnx.* IR. Normalizes every op to its newest (opset 21) form; initializers become
// onnx.Constant; dim_params become symbolic dims; every op is shape-inferred as it is created.
// Errors name the model file and the node: "model.onnx: node 'conv1' (Conv): ...".
#pragma once

#include "ir/IR.h"

#include <memory>
#include <string>

namespace infc {

/// Newest versions infc reads.
constexpr int64_t kMaxOnnxIrVersion = 10;
constexpr int64_t kMinOnnxOpset = 7;
constexpr int64_t kMaxOnnxOpset = 21;

struct ImportOptions {};

Expected<std::unique_ptr<Module>> importOnnxFile(const std::string &path, const ImportOptions &options = {});
/// `displayName` prefixes errors; external data is resolved inside `baseDir`.
Expected<std::unique_ptr<Module>> importOnnxBytes(const std::string &bytes, const std::string &displayName,
                                                  const std::string &baseDir, const ImportOptions &options = {});
/// Reads a serialized TensorProto file (ONNX test data `input_0.pb`).
Expected<Tensor> loadTensorProtoFile(const std::string &path);
/// True when the file holds a TensorProto whose dtype infc cannot represent (strings): callers
/// report a skip rather than a failure.
bool isNonTensorOrStringProto(const std::string &path, std::string *why);

} // namespace infc
