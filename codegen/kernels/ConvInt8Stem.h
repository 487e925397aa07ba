// infc.conv's stem form (ConvAttrs: x_scale and a fused max pool; quantize-int8-stem) as one
// generated kernel: codegen/kernels/ConvInt8Stem.cpp.
#pragma once

#include "codegen/Lowering.h"
#include "ir/InfcAttrs.h"

#include <string>

namespace infc::codegen {

/// "" when the stem kernel runs `op` (attributes `a`), else why not: both x_scale and pool_*, static
/// shapes, a 2-D NHWC convolution, ungrouped and undilated, no residual, relu or no activation,
/// f32, f16 or bf16 input of at most 4 channels, kernels up to 8x8, 32, 64, 128 or 256 output
/// channels (passes/QuantUtil.h, int8StemCandidate, repeats these).
std::string int8StemRefusal(const Operation &op, const ConvAttrs &a);

/// Emits the stem kernel for `op`, or returns Unsupported with int8StemRefusal's reason.
Status lowerInt8StemConv(const Operation &op, LoweringContext &ctx, const ConvAttrs &a);

} // namespace infc::codegen
