// Optimization profiles on the command line (`--min-shapes/--opt-shapes/--max-shapes`, the k-th
// of each forming profile k), checked against the model's inputs. Engines do not support them
// yet (their kernels take static shapes): `infc build` checks the ranges, then says so.
#pragma once

#include "ir/IR.h"

#include <string>
#include <vector>

namespace infc {

struct ProfileInputRange {
  std::string name;
  std::vector<int64_t> min, opt, max;
};

struct OptimizationProfile {
  std::vector<ProfileInputRange> inputs; ///< in graph-argument order
};

/// Parses and checks the profiles: as many --min-shapes as --opt-shapes and --max-shapes; each
/// names graph inputs only, all three for the same inputs; every input with a dynamic dim has a
/// range; ranks match; a dim fixed in the model is that value in min, opt and max; and
/// 1 <= min <= opt <= max. Errors name the profile, the input and the dim.
Expected<std::vector<OptimizationProfile>> parseProfiles(const std::vector<std::string> &mins,
                                                         const std::vector<std::string> &opts,
                                                         const std::vector<std::string> &maxs, const Graph &graph,
                                                         const std::string &modelPath);

} // namespace infc
