// Helpers shared by the rewriting passes of the infc.* level.
#pragma once

#include "ir/IR.h"
#include "ir/InfcAttrs.h"

#include <functional>
#include <optional>

namespace infc {

/// Creates `kind(operands)` before `at` with one result of `type`, sends every use of `old`'s
/// result to it, erases `old` (and any op in `alsoErase`, whose results must then be unused)
/// and gives the new result `old`'s name, so printed IR and engine tensors keep the user's names.
Operation *replaceWithOp(Operation *old, OpKind kind, const std::vector<Value *> &operands, AttrMap attrs,
                         const TensorType &type, Location loc, Operation *at = nullptr);

/// Replaces a matched pattern, `ops` in program order: the last op's result goes to a new
/// `kind(operands)` placed there, carrying every op's location; the other ops (whose results only
/// the pattern read) are erased. Returns the new op.
Operation *replacePattern(std::vector<Operation *> ops, OpKind kind, const std::vector<Value *> &operands, AttrMap attrs);

/// Sorts ops of one block by their position in it and drops duplicates (the order
/// replacePattern needs when a matcher gathered them out of order).
void sortInProgramOrder(std::vector<Operation *> &ops);

/// The value of `v` when it is a one-element float constant (a scalar factor, bound or epsilon),
/// else nullopt; nullptr is no constant.
std::optional<double> scalarValue(const Value *v);

/// A new onnx.Constant holding `t`, placed before `before`.
Value *createConstant(Block &block, Tensor t, const std::string &nameHint, Operation *before);

/// The op reading `v` when it is the only reader and `v` is not a graph output.
Operation *soleUser(const Value *v);

/// Offers every op of the graph's body to `rewrite` (which returns whether it changed the IR, and
/// may erase ops); after each change starts over on a fresh op list, until nothing changes.
Expected<bool> rewriteUntilFixed(Graph &graph, const std::function<Expected<bool>(Operation *)> &rewrite);

/// The activation `op` computes on its first operand when an epilogue can express it (Relu,
/// Sigmoid, Tanh, HardSwish, LeakyRelu, HardSigmoid, Gelu, Clip with constant bounds), else none.
Expected<std::optional<Activation>> epilogueActivation(const Operation &op);

} // namespace infc
