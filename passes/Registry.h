// Pass lookup by name, from passes/passes.def.
#pragma once

#include "passes/Pass.h"

#include <vector>

namespace infc {

struct PassInfo {
  std::string_view name;
  std::string_view summary;
  std::unique_ptr<Pass> (*create)();
};

/// All registered passes in declaration order.
const std::vector<PassInfo> &registeredPasses();
/// Factory by CLI name; nullptr if unknown.
const PassInfo *findPass(std::string_view name);

#define INFC_PASS(Class, Name, Summary) std::unique_ptr<Pass> create##Class();
#include "passes/passes.def"

} // namespace infc
