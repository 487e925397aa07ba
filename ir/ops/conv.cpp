// Shape inference for Conv, ConvTranspose, pooling and LRN.
#include "ir/ops/ShapeUtil.h"

#include "ir/ops/ConvGeometry.h"

namespace infc::ops {

namespace {

std::vector<int64_t> spatialSizes(const TensorType &x) {
  std::vector<int64_t> v;
  for (int64_t d = 2; d < x.rank(); ++d)
    v.push_back(x.dim(d).isStatic() ? x.dim(d).value : -1);
  return v;
}

/// Output type of a sliding-window op over x with `channels` output channels.
Status windowOp(InferContext &ctx, const std::vector<int64_t> &kernel, Dim channels, bool transposed, size_t result = 0) {
  const TensorType &x = ctx.operandType(0);
  Expected<WindowGeometry> g = windowGeometry(ctx.attrs(), kernel, spatialSizes(x), transposed);
  if (!g.isOk())
    return ctx.error(g.status().message());
  std::vector<Dim> out = {x.dim(0), channels};
  std::vector<int64_t> in = spatialSizes(x);
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> outputShape, ctx.attrs().getInts("output_shape", std::vector<int64_t>{}));
  if (transposed && !outputShape.empty()) {
    // output_shape holds the spatial sizes (or N, C and the spatial sizes): at least one per dim.
    if (outputShape.size() < kernel.size())
      return ctx.error("output_shape has " + std::to_string(outputShape.size()) + " values for " +
                       std::to_string(kernel.size()) + " spatial dims");
    for (size_t i = outputShape.size() - kernel.size(); i < outputShape.size(); ++i)
      if (outputShape[i] <= 0)
        return ctx.error("output_shape value " + std::to_string(outputShape[i]) + " is not positive");
  }
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (transposed && !outputShape.empty()) {
      out.push_back(Dim(outputShape[outputShape.size() - kernel.size() + i]));
      continue;
    }
    int64_t o = windowOutput(*g, i, in[i], transposed);
    if (in[i] >= 0 && o <= 0)
      return ctx.error("the window does not fit: spatial dim " + std::to_string(i) + " of size " + std::to_string(in[i]) +
                       " gives an empty output");
    out.push_back(o < 0 ? Dim::unknown() : Dim(o));
  }
  ctx.setResultType(result, TensorType(ctx.operandType(0).elem(), out));
  return Status::ok();
}

Status convLike(InferContext &ctx, bool transposed) {
  const TensorType &x = ctx.operandType(0), &w = ctx.operandType(1);
  if (!x.isRanked() || !w.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(x.elem()));
    return Status::ok();
  }
  if (x.rank() < 3)
    return ctx.error("input rank " + std::to_string(x.rank()) + ", expected at least 3 (N, C, spatial...)");
  if (w.rank() != x.rank())
    return ctx.error("weight rank " + std::to_string(w.rank()) + ", expected " + std::to_string(x.rank()));
  if (x.elem() != w.elem())
    return ctx.error("input and weight have different element types");
  INFC_ASSIGN_OR_RETURN(int64_t group, ctx.attrs().getInt("group", 1));
  if (group <= 0)
    return ctx.error("group must be positive");
  std::vector<int64_t> kernel;
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> ks, ctx.attrs().getInts("kernel_shape", std::vector<int64_t>{}));
  for (int64_t d = 2; d < w.rank(); ++d) {
    if (!w.dim(d).isStatic())
      return Status(StatusCode::Unsupported, ctx.op().describe() + ": weights with dynamic spatial dims are not supported");
    kernel.push_back(w.dim(d).value);
  }
  if (!ks.empty() && ks != kernel)
    return ctx.error("kernel_shape does not match the weight's spatial dims");
  const Dim &c = x.dim(1);
  Dim outC = Dim::unknown();
  if (!transposed) {
    if (c.isStatic() && w.dim(1).isStatic() && c.value != w.dim(1).value * group)
      return ctx.error("input has " + std::to_string(c.value) + " channels, weight expects " +
                       std::to_string(w.dim(1).value * group) + " (" + std::to_string(w.dim(1).value) + " x group " +
                       std::to_string(group) + ")");
    if (w.dim(0).isStatic() && w.dim(0).value % group != 0)
      return ctx.error("output channels " + std::to_string(w.dim(0).value) + " are not divisible by group " + std::to_string(group));
    outC = w.dim(0);
  } else {
    if (c.isStatic() && w.dim(0).isStatic() && c.value != w.dim(0).value)
      return ctx.error("input has " + std::to_string(c.value) + " channels, weight expects " + std::to_string(w.dim(0).value));
    if (w.dim(1).isStatic())
      outC = Dim(w.dim(1).value * group);
  }
  if (ctx.hasOperand(2)) {
    const TensorType &b = ctx.operandType(2);
    if (b.isRanked() && (b.rank() != 1 || (b.dim(0).isStatic() && outC.isStatic() && b.dim(0).value != outC.value)))
      return ctx.error("bias must be 1-D with " + (outC.isStatic() ? std::to_string(outC.value) : std::string("M")) +
                       " elements, got " + b.str());
  }
  return windowOp(ctx, kernel, outC, transposed);
}

Status pool(InferContext &ctx) {
  const TensorType &x = ctx.operandType(0);
  if (!x.isRanked()) {
    for (size_t r = 0; r < ctx.numResults(); ++r)
      ctx.setResultType(r, TensorType::unranked(r ? DType::I64 : x.elem()));
    return Status::ok();
  }
  if (x.rank() < 3)
    return ctx.error("input rank " + std::to_string(x.rank()) + ", expected at least 3");
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, ctx.attrs().getInts("kernel_shape"));
  if (static_cast<int64_t>(kernel.size()) != x.rank() - 2)
    return ctx.error("kernel_shape has " + std::to_string(kernel.size()) + " entries for " +
                     std::to_string(x.rank() - 2) + " spatial dims");
  INFC_RETURN_IF_ERROR(windowOp(ctx, kernel, x.dim(1), false));
  if (ctx.numResults() > 1) {
    TensorType t = ctx.op().result(0)->type();
    t.setElem(DType::I64);
    ctx.setResultType(1, t);
  }
  return Status::ok();
}

Status globalPool(InferContext &ctx) {
  const TensorType &x = ctx.operandType(0);
  if (!x.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(x.elem()));
    return Status::ok();
  }
  if (x.rank() < 3)
    return ctx.error("input rank " + std::to_string(x.rank()) + ", expected at least 3");
  std::vector<Dim> out = {x.dim(0), x.dim(1)};
  for (int64_t d = 2; d < x.rank(); ++d)
    out.push_back(Dim(1));
  ctx.setResultType(0, TensorType(x.elem(), out));
  return Status::ok();
}

} // namespace

Status inferShapesConv(InferContext &ctx) { return convLike(ctx, false); }
Status inferShapesConvTranspose(InferContext &ctx) { return convLike(ctx, true); }
Status inferShapesAveragePool(InferContext &ctx) { return pool(ctx); }
Status inferShapesMaxPool(InferContext &ctx) { return pool(ctx); }
Status inferShapesGlobalAveragePool(InferContext &ctx) { return globalPool(ctx); }
Status inferShapesGlobalMaxPool(InferContext &ctx) { return globalPool(ctx); }
Status inferShapesLRN(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(int64_t size, ctx.attrs().getInt("size"));
  if (size <= 0)
    return ctx.error("size must be positive");
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

} // namespace infc::ops
