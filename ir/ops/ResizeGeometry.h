// Resize geometry shared by the reference kernel and the GPU kernel generator: output sizes,
// per-axis coordinate transforms and interpolation taps (input index, weight) per output index.
#pragma once

#include "ir/Attribute.h"

#include <vector>

namespace infc::ops {

/// Taps for one output coordinate along one axis; empty = extrapolate (tf_crop_and_resize).
using ResizeTaps = std::vector<std::pair<int64_t, double>>;

struct ResizePlan {
  std::vector<int64_t> outShape;
  std::vector<std::vector<ResizeTaps>> taps; ///< [axis][output index]
  float extrapolation = 0;
};

/// `scales`/`sizes`/`roi` are the operand values (empty when absent).
Expected<ResizePlan> planResize(const AttrMap &attrs, const std::vector<int64_t> &inShape, const std::vector<double> &scales,
                                const std::vector<int64_t> &sizes, const std::vector<double> &roi);

} // namespace infc::ops
