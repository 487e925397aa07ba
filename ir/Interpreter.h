// Reference interpreter: runs a graph on the CPU with the per-op reference kernels.
// It is the numerical oracle for conformance tests, pass tests and GPU kernel checks.
#pragma once

#include "ir/IR.h"

#include <functional>
#include <vector>

namespace infc {

struct InterpreterOptions {
  /// Check every result against its inferred static type (shape and dtype); a mismatch is an
  /// internal error naming the op. On by default: it keeps shape inference honest.
  bool checkResultTypes = true;
  /// Called after each op with its results (e.g. calibration statistics). May be empty.
  std::function<void(const Operation &, const std::vector<Tensor> &)> observer;
};

/// Runs `graph` on `inputs` (one per graph argument, in order). Returns one tensor per graph
/// output. Input dtypes and static dims are checked against the argument types.
Expected<std::vector<Tensor>> interpret(const Graph &graph, const std::vector<Tensor> &inputs,
                                        const InterpreterOptions &options = {});

/// Runs a region block (an infc.fused body) with `args` bound to its arguments; returns the
/// values it yields.
Expected<std::vector<Tensor>> interpretRegion(const Block &block, const std::vector<const Tensor *> &args);

/// Evaluates a single op on the given operand values (nullptr = absent operand).
Expected<std::vector<Tensor>> evaluateOp(const Operation &op, const std::vector<const Tensor *> &operands);

/// Does `t` conform to `type` (dtype and every static dim)?
bool tensorMatchesType(const Tensor &t, const TensorType &type);

} // namespace infc
