// Explicitly quantized models (QuantizeLinear -> DequantizeLinear pairs on activations, as ONNX
// Runtime's quantize_static, PyTorch QAT or ModelOpt write them): each pair's scale is the
// tensor's INT8 (or FP8) scale, as a calibration would give it, so the model builds through the
// same quantize-int8 stage as `--int8 --calib` (int8 pairs) or quantize-fp8 stage as `--fp8
// --calib` (float8e4m3fn pairs) (docs/int8.md).
#pragma once

#include "ir/IR.h"

#include <map>
#include <string>

namespace infc {

/// Whether `graph` has a QuantizeLinear -> DequantizeLinear pair on a computed tensor.
bool hasActivationQdq(const Graph &graph);

/// The type the activation pairs of `graph` quantize to: I8 or F8E4M3 (Undefined without pairs);
/// an error naming a node for another type or for pairs of both.
Expected<DType> activationQdqType(const Graph &graph, const std::string &modelPath);

/// Removes every QuantizeLinear -> DequantizeLinear pair on a computed tensor x (the
/// DequantizeLinear's readers read x) and returns amax = 127 * scale (int8 pairs) or 448 * scale
/// (float8e4m3fn pairs) for each such x, by name: the ranges quantize-int8 or quantize-fp8 take,
/// giving back each pair's scale exactly. Pairs on constants
/// (fake-quantized weights) and DequantizeLinear of constants (int8 weights, int32 biases) stay
/// for const-fold. Errors, naming the node: a zero point that is not 0 (asymmetric activations),
/// a scale that is not one constant value (per-axis or blocked activation scales), a pair whose
/// two scales differ, a type other than int8 or float8e4m3fn.
Expected<std::map<std::string, double>> takeActivationQdq(Graph &graph, const std::string &modelPath);

} // namespace infc
