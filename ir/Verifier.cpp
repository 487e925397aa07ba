#include "ir/Verifier.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace infc {

namespace {

class Verifier {
public:
  explicit Verifier(const Graph &g) : graph_(g) {}

  Status run() {
    INFC_RETURN_IF_ERROR(verifyBlock(graph_.body()));
    for (size_t i = 0; i < graph_.outputs().size(); ++i) {
      const GraphOutput &o = graph_.outputs()[i];
      if (!o.value)
        return fail("graph output '" + o.name + "' has no value");
      if (!visible_.count(o.value))
        return fail("graph output '" + o.name + "' refers to '%" + o.value->name() + "', which is not defined in the graph");
    }
    return Status::ok();
  }

private:
  Status fail(const std::string &msg) const { return internalError("graph @" + graph_.name() + ": " + msg); }

  Status defineValue(const Value *v) {
    if (!names_.insert(v->name()).second)
      return fail("value name '%" + v->name() + "' is defined twice");
    if (v->type().elem() == DType::Undefined)
      return fail("value '%" + v->name() + "' has no element type");
    visible_.insert(v);
    return Status::ok();
  }

  Status verifyBlock(const Block &b) {
    std::vector<const Value *> scoped;
    for (const auto &a : b.arguments()) {
      INFC_RETURN_IF_ERROR(defineValue(a.get()));
      scoped.push_back(a.get());
    }
    for (const auto &opPtr : b.ops()) {
      const Operation &op = *opPtr;
      const OpInfo &info = op.info();
      int nIn = static_cast<int>(op.numOperands()), nOut = static_cast<int>(op.numResults());
      if (nIn < info.minOperands || (info.maxOperands >= 0 && nIn > info.maxOperands))
        return fail(op.describe() + ": " + std::string(op.name()) + " has " + std::to_string(nIn) + " operands");
      if (nOut < info.minResults || (info.maxResults >= 0 && nOut > info.maxResults))
        return fail(op.describe() + ": " + std::string(op.name()) + " has " + std::to_string(nOut) + " results");
      if (op.parentBlock() != &b)
        return fail(op.describe() + ": op's parent block pointer is wrong");
      for (size_t i = 0; i < op.numOperands(); ++i) {
        const Value *v = op.operand(i);
        if (!v)
          continue;
        if (!visible_.count(v))
          return fail(op.describe() + ": operand " + std::to_string(i) + " '%" + v->name() +
                      "' is used before its definition or outside its scope");
        auto uses = std::count(v->users().begin(), v->users().end(), &op);
        auto refs = std::count(op.operands().begin(), op.operands().end(), v);
        if (uses != refs)
          return fail(op.describe() + ": use list of '%" + v->name() + "' is out of date");
      }
      for (size_t r = 0; r < op.numRegions(); ++r) {
        const Block &region = op.region(r);
        if (region.parentOp() != &op)
          return fail(op.describe() + ": region's parent op pointer is wrong");
        INFC_RETURN_IF_ERROR(verifyBlock(region));
      }
      for (const Value *res : op.results()) {
        INFC_RETURN_IF_ERROR(defineValue(res));
        scoped.push_back(res);
        for (const Operation *user : res->users())
          if (std::find(user->operands().begin(), user->operands().end(), res) == user->operands().end())
            return fail("value '%" + res->name() + "' lists a user that does not use it");
      }
    }
    for (const Value *y : b.yields())
      if (!y || !visible_.count(y))
        return fail("a region yields a value that is not defined in scope");
    if (b.parentOp())
      for (const Value *v : scoped)
        visible_.erase(v); // region values are not visible after the region
    return Status::ok();
  }

  const Graph &graph_;
  std::unordered_set<std::string> names_;
  std::unordered_set<const Value *> visible_;
};

} // namespace

Status verifyGraph(const Graph &graph) { return Verifier(graph).run(); }

Status verifyModule(const Module &module) {
  for (const auto &g : module.graphs())
    INFC_RETURN_IF_ERROR(verifyGraph(*g));
  return Status::ok();
}

} // namespace infc
