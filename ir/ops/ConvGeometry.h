// Window geometry shared by Conv, ConvTranspose and pooling: pads, strides, dilations, output
// sizes, auto_pad resolution. Used by shape inference and the reference kernels.
#pragma once

#include "ir/Attribute.h"

#include <vector>

namespace infc::ops {

struct WindowGeometry {
  std::vector<int64_t> kernel, strides, dilations, padsBegin, padsEnd, outputPadding;
  bool ceilMode = false;
};

/// Reads kernel_shape/strides/dilations/pads/auto_pad for `spatial` dims with input sizes `in`
/// (values < 0 = unknown) and computes explicit pads. `transposed` selects ConvTranspose rules.
Expected<WindowGeometry> windowGeometry(const AttrMap &attrs, const std::vector<int64_t> &kernel,
                                        const std::vector<int64_t> &in, bool transposed);

/// Output size of one spatial dim (-1 when the input size is unknown).
int64_t windowOutput(const WindowGeometry &g, size_t i, int64_t in, bool transposed);

} // namespace infc::ops
