#include "passes/Rewrite.h"

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

Value *createConstant(Block &block, Tensor t, const std::string &nameHint, Operation *before) {
  AttrMap a;
  TensorType type = TensorType::fromStatic(t.dtype(), t.shape());
  a.set("value", std::move(t));
  return block.create(OpKind::OnnxConstant, {}, {type}, std::move(a), {}, before, {nameHint})->result();
}

Operation *soleUser(Value *v) {
  if (v->users().size() != 1 || v->isGraphOutput())
    return nullptr;
  return v->users()[0];
}

} // namespace infc
