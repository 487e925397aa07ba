// Shape inference (and with it, verification) of the infc.* ops. infc.conv and infc.pool infer
// through onnx.Conv / onnx.MaxPool on the logical (NCHW) types, then permute to the op's layout.
#include "ir/InfcAttrs.h"
#include "ir/ScratchOp.h"
#include "ir/ops/ShapeUtil.h"

namespace infc::ops {

namespace {

Status requireRank(InferContext &ctx, size_t operand, int64_t rank, const char *what) {
  const TensorType &t = ctx.operandType(operand);
  if (!t.isRanked() || t.rank() != rank)
    return ctx.error(std::string(what) + " has type " + t.str() + ", expected rank " + std::to_string(rank));
  return Status::ok();
}

} // namespace

Status inferShapesInfcConv(InferContext &ctx) {
  Operation &op = ctx.op();
  const TensorType &w = ctx.operandType(1);
  if (!w.isRanked() || w.rank() < 3)
    return ctx.error("weight type " + w.str() + ", expected rank 3 or more");
  INFC_RETURN_IF_ERROR(requireRank(ctx, 0, w.rank(), "input"));
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  int64_t rank = w.rank();
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank), toPhysical = layoutPerm(a.layout, rank);
  ScratchOp conv(op, OpKind::OnnxConv, {permuteType(ctx.operandType(0), toLogical), permuteType(w, toLogical)},
                 a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<TensorType> out, conv.infer());
  TensorType y = permuteType(out[0], toPhysical);
  if (ctx.hasOperand(2)) {
    const TensorType &b = ctx.operandType(2);
    if (!b.isRanked() || b.rank() != 1 || b.dim(0) != w.dim(0) || b.elem() != y.elem())
      return ctx.error("bias has type " + b.str() + ", expected one " + std::string(dtypeName(y.elem())) +
                       " per output channel");
  }
  if (ctx.hasOperand(3) && ctx.operandType(3) != y)
    return ctx.error("residual has type " + ctx.operandType(3).str() + ", expected the result type " + y.str());
  ctx.setResultType(0, y);
  return Status::ok();
}

Status inferShapesInfcMatmul(InferContext &ctx) {
  Operation &op = ctx.op();
  INFC_RETURN_IF_ERROR(MatmulAttrs::read(op).status());
  ScratchOp mm(op, OpKind::OnnxMatMul, {ctx.operandType(0), ctx.operandType(1)}, {});
  INFC_ASSIGN_OR_RETURN(std::vector<TensorType> out, mm.infer());
  const TensorType &y = out[0];
  if (ctx.hasOperand(2)) {
    const TensorType &b = ctx.operandType(2);
    if (!b.isRanked() || b.rank() != 1 || !y.isRanked() || y.rank() < 1 || b.dim(0) != y.dim(y.rank() - 1) ||
        b.elem() != y.elem())
      return ctx.error("bias has type " + b.str() + ", expected one " + std::string(dtypeName(y.elem())) +
                       " per output column");
  }
  ctx.setResultType(0, y);
  return Status::ok();
}

Status inferShapesInfcPool(InferContext &ctx) {
  Operation &op = ctx.op();
  INFC_ASSIGN_OR_RETURN(PoolAttrs a, PoolAttrs::read(op));
  int64_t rank = static_cast<int64_t>(a.kernel.size()) + 2;
  INFC_RETURN_IF_ERROR(requireRank(ctx, 0, rank, "input"));
  // Average and max pooling share their output shape: infer through onnx.MaxPool.
  AttrMap m = a.onnxAttrs();
  m.erase("count_include_pad");
  ScratchOp pool(op, OpKind::OnnxMaxPool, {permuteType(ctx.operandType(0), layoutInversePerm(a.layout, rank))}, m);
  INFC_ASSIGN_OR_RETURN(std::vector<TensorType> out, pool.infer());
  ctx.setResultType(0, permuteType(out[0], layoutPerm(a.layout, rank)));
  return Status::ok();
}

Status inferShapesInfcLayoutCast(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(ctx.op()));
  const TensorType &x = ctx.operandType(0);
  if (!x.isRanked() || x.rank() < 3)
    return ctx.error("layout_cast of " + x.str() + ": needs a ranked tensor of rank 3 or more");
  ctx.setResultType(0, permuteType(x, a.perm(x.rank())));
  return Status::ok();
}

} // namespace infc::ops
