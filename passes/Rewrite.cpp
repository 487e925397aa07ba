#include "passes/Rewrite.h"

#include <algorithm>
#include <unordered_map>

namespace infc {

Operation *replaceWithOp(Operation *old, OpKind kind, const std::vector<Value *> &operands, AttrMap attrs,
                         const TensorType &type, Location loc, Operation *at) {
  Block *block = old->parentBlock();
  Operation *op = block->create(kind, operands, {type}, std::move(attrs), std::move(loc), at ? at : old);
  Value *oldResult = old->result(0);
  std::string name = oldResult->name();
  oldResult->replaceAllUsesWith(op->result());
  old->erase();
  block->graph()->renameValue(op->result(), name);
  return op;
}

Expected<bool> rewriteUntilFixed(Graph &graph, const std::function<Expected<bool>(Operation *)> &rewrite) {
  bool changed = false;
  for (bool again = true; again;) {
    again = false;
    for (Operation *op : graph.body().opPointers()) {
      INFC_ASSIGN_OR_RETURN(bool c, rewrite(op));
      if (c) {
        changed = again = true;
        break; // ops may have been erased: start over
      }
    }
  }
  return changed;
}

Operation *replacePattern(std::vector<Operation *> ops, OpKind kind, const std::vector<Value *> &operands, AttrMap attrs) {
  std::vector<const Location *> parts;
  for (const Operation *o : ops)
    parts.push_back(&o->loc());
  Location loc = Location::fused(parts);
  Operation *last = ops.back();
  ops.pop_back();
  Operation *op = replaceWithOp(last, kind, operands, std::move(attrs), last->result()->type(), loc);
  for (auto it = ops.rbegin(); it != ops.rend(); ++it)
    (*it)->erase();
  return op;
}

void sortInProgramOrder(std::vector<Operation *> &ops) {
  if (ops.empty())
    return;
  std::unordered_map<const Operation *, size_t> pos;
  size_t i = 0;
  for (const auto &op : ops.front()->parentBlock()->ops())
    pos[op.get()] = i++;
  std::sort(ops.begin(), ops.end(), [&](const Operation *a, const Operation *b) { return pos[a] < pos[b]; });
  ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
}

std::optional<double> scalarValue(const Value *v) {
  const Tensor *t = v ? getConstantValue(v) : nullptr;
  if (!t || t->numElements() != 1 || !isFloat(t->dtype()))
    return std::nullopt;
  return t->getDouble(0);
}

Value *createConstant(Block &block, Tensor t, const std::string &nameHint, Operation *before) {
  AttrMap a;
  TensorType type = TensorType::fromStatic(t.dtype(), t.shape());
  a.set("value", std::move(t));
  return block.create(OpKind::OnnxConstant, {}, {type}, std::move(a), {}, before, {nameHint})->result();
}

Operation *soleUser(const Value *v) {
  if (v->users().size() != 1 || v->isGraphOutput())
    return nullptr;
  return v->users()[0];
}

static std::optional<float> scalarConstant(const Operation &op, size_t i) {
  const Tensor *t = op.hasOperand(i) ? getConstantValue(op.operand(i)) : nullptr;
  if (!t || t->numElements() != 1)
    return std::nullopt;
  return static_cast<float>(t->getDouble(0));
}

Expected<std::optional<Activation>> epilogueActivation(const Operation &op) {
  auto attrF = [&](const char *n, float d) { return op.attrs().getFloat(n, d); };
  switch (op.kind()) {
  case OpKind::OnnxRelu: return std::optional<Activation>(Activation{Act::Relu, {}});
  case OpKind::OnnxSigmoid: return std::optional<Activation>(Activation{Act::Sigmoid, {}});
  case OpKind::OnnxTanh: return std::optional<Activation>(Activation{Act::Tanh, {}});
  case OpKind::OnnxHardSwish: return std::optional<Activation>(Activation{Act::HardSwish, {}});
  case OpKind::OnnxLeakyRelu: {
    INFC_ASSIGN_OR_RETURN(float a, attrF("alpha", 0.01f));
    return std::optional<Activation>(Activation{Act::LeakyRelu, {a}});
  }
  case OpKind::OnnxHardSigmoid: {
    INFC_ASSIGN_OR_RETURN(float a, attrF("alpha", 0.2f));
    INFC_ASSIGN_OR_RETURN(float b, attrF("beta", 0.5f));
    return std::optional<Activation>(Activation{Act::HardSigmoid, {a, b}});
  }
  case OpKind::OnnxGelu: {
    INFC_ASSIGN_OR_RETURN(std::string approx, op.attrs().getString("approximate", "none"));
    return std::optional<Activation>(Activation{approx == "tanh" ? Act::GeluTanh : Act::Gelu, {}});
  }
  case OpKind::OnnxClip: {
    std::optional<float> lo = scalarConstant(op, 1), hi = scalarConstant(op, 2);
    if (lo && !op.hasOperand(2) && *lo == 0.0f)
      return std::optional<Activation>(Activation{Act::Relu, {}});
    if (!lo || !hi || !(*lo <= *hi))
      return std::optional<Activation>();
    return std::optional<Activation>(Activation{Act::Clip, {*lo, *hi}});
  }
  default: return std::optional<Activation>();
  }
}

} // namespace infc
