// dce: removes side-effect-free ops none of whose results is used (by ops or graph outputs).
#include "passes/Pass.h"

namespace infc {
namespace {

bool isDead(const Operation &op) {
  if (!hasTrait(op.kind(), kPure))
    return false;
  for (Value *r : op.results())
    if (r->hasUses())
      return false;
  return true;
}

class DcePass final : public Pass {
public:
  std::string_view name() const override { return "dce"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    // Walk backwards so a chain of dead ops goes in one sweep.
    std::vector<Operation *> ops = graph.body().opPointers();
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      if (!isDead(**it))
        continue;
      (*it)->erase();
      ++ctx.stat(name(), "ops-removed");
      changed = true;
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createDcePass() { return std::make_unique<DcePass>(); }

} // namespace infc
