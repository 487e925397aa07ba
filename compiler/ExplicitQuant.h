// Explicitly quantized models (QuantizeLinear -> DequantizeLinear pairs on activations, as ONNX
// Runtime's quantize_static, PyTorch QAT or ModelOpt write them): each pair's scale is the
// tensor's INT8 scale, as a calibration would give it, so the model builds through the same
// quantize-int8 stage as `--int8 --calib` (docs/int8.md).
#pragma once

#include "ir/IR.h"

#include <map>
#include <string>

namespace infc {

/// Whether `graph` has a QuantizeLinear -> DequantizeLinear pair on a computed tensor.
bool hasActivationQdq(const Graph &graph);

/// Removes every QuantizeLinear -> DequantizeLinear pair on a computed tensor x (the
/// DequantizeLinear's readers read x) and returns amax = 127 * scale for each such x, by name:
/// the ranges quantize-int8 takes, giving back each pair's scale exactly. Pairs on constants
/// (fake-quantized weights) and DequantizeLinear of constants (int8 weights, int32 biases) stay
/// for const-fold. Errors, naming the node: a zero point that is not 0 (asymmetric activations),
/// a scale that is not one constant value (per-axis or blocked activation scales), a pair whose
/// two scales differ, a type other than int8.
Expected<std::map<std::string, double>> takeActivationQdq(Graph &graph, const std::string &modelPath);

} // namespace infc
