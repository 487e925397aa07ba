// What the quantization passes (quantize-int8, quantize-fp8) share: the calibrated range of a
// value, the precision the user asked for an op by ONNX node name, and how scales are printed.
#pragma once

#include "ir/IR.h"

#include <map>
#include <string>

namespace infc {

/// The calibrated range (amax) of `v`: its own ONNX name (less the suffixes passes add when they
/// re-create a value in another layout or precision: "x.nhwc", "x.f16"), else that of the value
/// it is a relayout, precision cast or reshape of; nullptr when none is known.
const double *calibratedRange(const std::map<std::string, double> &ranges, const Value *v);

/// The precision `--layer-precision` asked for one of `op`'s ONNX nodes ("fp32", "fp16", "int8",
/// "fp8"; "" when none), and that node's name in `node`.
std::string askedPrecision(const Operation &op, const std::map<std::string, DType> &layerPrecision, std::string &node);

/// --strict-precision's error for the ops in `failures` ("op: why" each; the first five listed)
/// that would stay in `from` instead of `to` ("3 convolutions would stay in f16 instead of INT8").
Status strictPrecisionError(const std::vector<std::string> &failures, const std::string &noun, const std::string &from,
                            const std::string &to);

/// A scale as `infc inspect` and the precision notes print it ("%.6g").
std::string formatScale(double v);

} // namespace infc
