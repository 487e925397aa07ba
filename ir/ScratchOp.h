// A one-op graph that runs an onnx.* hook on behalf of an infc.* op: infc.conv and infc.pool
// share shape inference and reference math with onnx.Conv and the onnx pools, in the logical
// NCHW layout, so the two levels cannot disagree.
#pragma once

#include "ir/OpHooks.h"

namespace infc {

class ScratchOp {
public:
  /// `of` is the op being inferred or evaluated: errors name its node.
  ScratchOp(const Operation &of, OpKind kind, const std::vector<TensorType> &operandTypes, AttrMap attrs,
            size_t numResults = 1);
  Expected<std::vector<TensorType>> infer();
  Expected<std::vector<Tensor>> eval(std::vector<const Tensor *> inputs);

private:
  Graph graph_{"scratch"};
  Operation *op_ = nullptr;
};

/// `t` with its dims permuted (out[i] = t[perm[i]]); unranked stays unranked.
TensorType permuteType(const TensorType &t, const std::vector<int64_t> &perm);

} // namespace infc
