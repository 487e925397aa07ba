// Einsum equation parsing shared by shape inference and the reference kernel.
#pragma once

#include "ir/Status.h"

#include <map>
#include <string>
#include <vector>

namespace infc::ops {

/// Labels per operand dim and for the output; ellipsis dims become labels >= 256 (one per
/// broadcast dim, right-aligned).
struct EinsumSpec {
  std::vector<std::vector<int>> inputs;
  std::vector<int> output;
};

Expected<EinsumSpec> parseEinsum(const std::string &equation, const std::vector<int64_t> &ranks);

} // namespace infc::ops
