#include "passes/Registry.h"

namespace infc {

const std::vector<PassInfo> &registeredPasses() {
  static const std::vector<PassInfo> passes = {
#define INFC_PASS(Class, Name, Summary) {Name, Summary, &create##Class},
#include "passes/passes.def"
  };
  return passes;
}

const PassInfo *findPass(std::string_view name) {
  for (const PassInfo &p : registeredPasses())
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace infc
