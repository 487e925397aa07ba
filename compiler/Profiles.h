// Optimization profiles on the command line (`--min-shapes/--opt-shapes/--max-shapes`, the k-th
// of each forming profile k), checked against the model's inputs. Engines with profiles have no
// GPU layers yet: they run on the reference executor (codegen::buildProfileEngine).
#pragma once

#include "codegen/EngineBuilder.h"
#include "ir/IR.h"
#include "runtime/engine_generated.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace infc {

using ProfileInputRange = codegen::ProfileRange;

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

/// The profiles an engine carries, as the builder gave them (empty for a static engine).
std::vector<codegen::ProfileRanges> engineProfiles(const fb::Engine &engine);

/// Profiles as JSON: per profile an object with, per input name, `min`, `opt` and `max` (what
/// `infc inspect --json` lists and the build options record).
nlohmann::json profilesJson(const std::vector<codegen::ProfileRanges> &profiles);

} // namespace infc
