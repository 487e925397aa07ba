// Per-op hooks: shape inference (ir/ops/*.cpp) and reference evaluation (ir/interp/*.cpp).
// Declarations expand from ir/ops.def; a missing definition fails the link.
#pragma once

#include "ir/IR.h"

#include <vector>

namespace infc {

/// What a shape-inference hook sees: operand types, constant operand values, attributes.
/// It sets every result type (dtype always; dims as precisely as known, `?` otherwise).
class InferContext {
public:
  explicit InferContext(Operation &op) : op_(op) {}
  Operation &op() { return op_; }
  const AttrMap &attrs() const { return op_.attrs(); }
  size_t numOperands() const { return op_.numOperands(); }
  bool hasOperand(size_t i) const { return op_.hasOperand(i); }
  const TensorType &operandType(size_t i) const { return op_.operand(i)->type(); }
  /// The operand's value when it is produced by onnx.Constant, else nullptr.
  const Tensor *constantOperand(size_t i) const {
    return hasOperand(i) ? getConstantValue(op_.operand(i)) : nullptr;
  }
  size_t numResults() const { return op_.numResults(); }
  void setResultType(size_t i, TensorType t) { op_.result(i)->setType(std::move(t)); }
  /// Error naming the op and its ONNX node.
  Status error(const std::string &msg) const { return op_.error(msg); }

private:
  Operation &op_;
};

/// What a reference-evaluation hook sees: input tensors (nullptr = absent optional input) and
/// the op (for attributes). It fills `outputs` (one per result).
class EvalContext {
public:
  EvalContext(const Operation &op, std::vector<const Tensor *> inputs)
      : op_(op), inputs_(std::move(inputs)), outputs_(op.numResults()) {}
  const Operation &op() const { return op_; }
  const AttrMap &attrs() const { return op_.attrs(); }
  size_t numInputs() const { return inputs_.size(); }
  bool hasInput(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  const Tensor &input(size_t i) const { return *inputs_[i]; }
  size_t numOutputs() const { return outputs_.size(); }
  void setOutput(size_t i, Tensor t) { outputs_[i] = std::move(t); }
  std::vector<Tensor> &outputs() { return outputs_; }
  Status error(const std::string &msg) const { return op_.error(msg); }

private:
  const Operation &op_;
  std::vector<const Tensor *> inputs_;
  std::vector<Tensor> outputs_;
};

namespace ops {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits) Status inferShapes##Name(InferContext &);
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits) Status inferShapesInfc##Name(InferContext &);
#include "ir/ops.def"
} // namespace ops

namespace interp {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits) Status eval##Name(EvalContext &);
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits) Status evalInfc##Name(EvalContext &);
#include "ir/ops.def"
} // namespace interp

/// Runs the op's shape-inference hook.
Status inferShapes(Operation &op);
/// Runs the op's reference implementation.
Status evaluate(EvalContext &ctx);

} // namespace infc
