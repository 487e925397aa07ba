// Shape inference for reductions, the softmax family, ArgMax/ArgMin, TopK and CumSum.
#include "ir/ops/ShapeUtil.h"

#include <algorithm>

namespace infc::ops {

namespace {

/// Output dims of a reduction over `axes` (empty + noop: identity; empty: all).
Status reduceShape(InferContext &ctx, DType outType) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t keep, ctx.attrs().getInt("keepdims", 1));
  INFC_ASSIGN_OR_RETURN(int64_t noop, ctx.attrs().getInt("noop_with_empty_axes", 0));
  std::vector<int64_t> axes;
  bool axesKnown = true;
  if (ctx.hasOperand(1)) {
    const Tensor *a = ctx.constantOperand(1);
    if (a)
      axes = tensorToInts(*a);
    else
      axesKnown = false;
  }
  if (!t.isRanked() || !axesKnown) {
    if (t.isRanked() && keep)
      ctx.setResultType(0, unknownDims(outType, t.rank()));
    else
      ctx.setResultType(0, TensorType::unranked(outType));
    return Status::ok();
  }
  if (axes.empty()) {
    if (noop) {
      ctx.setResultType(0, TensorType(outType, t.shape()));
      return Status::ok();
    }
    for (int64_t i = 0; i < t.rank(); ++i)
      axes.push_back(i);
  }
  for (int64_t &a : axes) {
    INFC_ASSIGN_OR_RETURN(a, normalizeAxis(ctx, a, t.rank()));
  }
  std::vector<Dim> out;
  for (int64_t i = 0; i < t.rank(); ++i) {
    bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!r)
      out.push_back(t.dim(i));
    else if (keep)
      out.push_back(Dim(1));
  }
  ctx.setResultType(0, TensorType(outType, out));
  return Status::ok();
}

Status argReduce(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(int64_t keep, ctx.attrs().getInt("keepdims", 1));
  if (!t.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(DType::I64));
    return Status::ok();
  }
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, t.rank()));
  if (t.dim(axis).isStatic() && t.dim(axis).value == 0)
    return ctx.error("arg-reduction over axis " + std::to_string(axis) + " of " + t.str() + ", which is empty");
  std::vector<Dim> out;
  for (int64_t i = 0; i < t.rank(); ++i) {
    if (i != axis)
      out.push_back(t.dim(i));
    else if (keep)
      out.push_back(Dim(1));
  }
  ctx.setResultType(0, TensorType(DType::I64, out));
  return Status::ok();
}

Status axisOp(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", -1));
  if (t.isRanked()) {
    INFC_RETURN_IF_ERROR(normalizeAxis(ctx, axis, t.rank()).status());
  }
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

} // namespace

#define INFC_REDUCE(Name)                                                                                              \
  Status inferShapes##Name(InferContext &ctx) { return reduceShape(ctx, ctx.operandType(0).elem()); }
INFC_REDUCE(ReduceL1) INFC_REDUCE(ReduceL2) INFC_REDUCE(ReduceLogSum) INFC_REDUCE(ReduceLogSumExp)
INFC_REDUCE(ReduceMax) INFC_REDUCE(ReduceMean) INFC_REDUCE(ReduceMin) INFC_REDUCE(ReduceProd)
INFC_REDUCE(ReduceSum) INFC_REDUCE(ReduceSumSquare)
#undef INFC_REDUCE

Status inferShapesArgMax(InferContext &ctx) { return argReduce(ctx); }
Status inferShapesArgMin(InferContext &ctx) { return argReduce(ctx); }
Status inferShapesSoftmax(InferContext &ctx) { return axisOp(ctx); }
Status inferShapesLogSoftmax(InferContext &ctx) { return axisOp(ctx); }
Status inferShapesHardmax(InferContext &ctx) { return axisOp(ctx); }

Status inferShapesCumSum(InferContext &ctx) {
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesTopK(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", -1));
  if (!t.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(t.elem()));
    ctx.setResultType(1, TensorType::unranked(DType::I64));
    return Status::ok();
  }
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, t.rank()));
  std::vector<Dim> out = t.shape();
  if (const Tensor *k = ctx.constantOperand(1)) {
    if (k->numElements() != 1)
      return ctx.error("k must have one element");
    int64_t kv = k->getInt(0);
    if (kv < 0 || (t.dim(axis).isStatic() && kv > t.dim(axis).value))
      return ctx.error("k = " + std::to_string(kv) + " is out of range");
    out[static_cast<size_t>(axis)] = Dim(kv);
  } else {
    out[static_cast<size_t>(axis)] = Dim::unknown();
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  ctx.setResultType(1, TensorType(DType::I64, out));
  return Status::ok();
}

} // namespace infc::ops
