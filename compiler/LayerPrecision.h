// Per-layer precision on the command line (`--layer-precision NAME:fp32|fp16|int8|fp8,...`, by ONNX
// node name) and `--strict-precision`, checked against the model before any pass runs.
#pragma once

#include "ir/IR.h"

#include <map>
#include <string>

namespace infc {

/// Parses "a:fp32,b:fp16" and checks it against `graph` (every NAME is a node of the model, named
/// once) and the build's flags (fp16 layers need --fp16, as TensorRT's layer precisions need its
/// builder flag, or --int8/--fp8, which allow FP16 fallback; int8 layers need --int8, fp8 layers
/// --fp8). Returns NAME -> DType (F32, F16, I8 or F8E4M3). Errors name the flag's entry.
Expected<std::map<std::string, DType>> parseLayerPrecision(const std::string &spec, const Graph &graph, bool fp16,
                                                           bool int8, const std::string &modelPath, bool fp8 = false);

struct PrecisionFlags {
  std::map<std::string, DType> layers;
  bool strict = false;
};
/// --layer-precision and --strict-precision for a build of `module` (with --fp16 or not):
/// --strict-precision needs --fp16, --int8 or --fp8 (in an FP32 build nothing falls back).
Expected<PrecisionFlags> precisionFlags(const std::string &layerPrecision, bool strict, const Module &module, bool fp16,
                                        bool int8, const std::string &modelPath, bool fp8 = false);

} // namespace infc
