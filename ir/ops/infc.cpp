// Shape inference (and with it, verification) of the infc.* ops. infc.conv and infc.pool infer
// through onnx.Conv / onnx.MaxPool on the logical (NCHW) types, then permute to the op's layout.
#include "ir/InfcAttrs.h"
#include "ir/OpHooks.h"
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
  bool int8 = w.elem() == DType::I8;
  DType xt = ctx.operandType(0).elem();
  // The stem form's x is a float tensor, quantized on read (x_scale).
  bool xOk = a.xScale ? isFloat(xt) : xt == DType::I8;
  if (int8 != xOk || int8 != ctx.hasOperand(4))
    return ctx.error("an INT8 convolution needs an int8 input (or a float one with x_scale), int8 weights and a "
                     "per-channel scale (operand 5); got " + ctx.operandType(0).str() + ", " + w.str() +
                     (ctx.hasOperand(4) ? " and a scale" : " and no scale"));
  if (!int8 && (op.attrs().has("dtype") || op.attrs().has("post_mult") || a.xScale || a.pooled()))
    return ctx.error("dtype, post_mult, x_scale and pool_* belong to INT8 convolutions");
  if (a.pooled() && ctx.hasOperand(3))
    return ctx.error("a convolution with a fused max pool (pool_*) takes no residual");
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank), toPhysical = layoutPerm(a.layout, rank);
  // INT8: the shapes are those of the same convolution in f32.
  auto logical = [&](TensorType t) {
    if (int8)
      t.setElem(DType::F32);
    return permuteType(t, toLogical);
  };
  TensorType lx = logical(ctx.operandType(0));
  if (a.xNchw) {
    // The stem form reading NCHW: x is logical already; channels beyond its own are zeros.
    lx = ctx.operandType(0);
    lx.setElem(DType::F32);
    Dim wc = w.dim(rank - 1);
    if (!lx.isRanked() || lx.rank() != rank || !lx.dim(1).isStatic() || !wc.isStatic() || lx.dim(1).value > wc.value)
      return ctx.error("x_layout nchw: input " + ctx.operandType(0).str() + " must be rank " + std::to_string(rank) +
                       " with at most the weights' " + std::to_string(wc.value) + " channels");
    std::vector<Dim> dims = lx.shape();
    dims[1] = wc;
    lx = TensorType(DType::F32, dims);
  }
  ScratchOp conv(op, OpKind::OnnxConv, {lx, logical(w)}, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<TensorType> out, conv.infer());
  if (a.pooled()) {
    ScratchOp pool(op, OpKind::OnnxMaxPool, {out[0]}, a.poolOnnxAttrs());
    INFC_ASSIGN_OR_RETURN(out, pool.infer());
  }
  TensorType y = permuteType(out[0], toPhysical);
  if (int8)
    y.setElem(a.outType);
  DType paramType = int8 ? DType::F32 : y.elem();
  for (size_t i : {size_t(2), size_t(4)}) {
    if (!ctx.hasOperand(i))
      continue;
    const TensorType &b = ctx.operandType(i);
    if (!b.isRanked() || b.rank() != 1 || b.dim(0) != w.dim(0) || b.elem() != paramType)
      return ctx.error(std::string(i == 2 ? "bias" : "scale") + " has type " + b.str() + ", expected one " +
                       std::string(dtypeName(paramType)) + " per output channel");
  }
  if (ctx.hasOperand(3)) {
    TensorType z = ctx.operandType(3);
    bool zOk = int8 ? z.elem() == DType::I8 || isFloat(z.elem()) : z.elem() == y.elem();
    z.setElem(y.elem());
    if (!zOk || z != y)
      return ctx.error("residual has type " + ctx.operandType(3).str() + ", expected the result type " + y.str() +
                       (int8 ? " (or its shape in int8)" : ""));
  }
  ctx.setResultType(0, y);
  return Status::ok();
}

/// The result type of a quantized infc.matmul (MatmulAttrs): a [.., K] and b [N, K], both of a's
/// type (f8e4m3 or int8).
Expected<TensorType> quantMatmulType(InferContext &ctx, DType inType, DType outType) {
  const TensorType &a = ctx.operandType(0), &b = ctx.operandType(1);
  std::string what = inType == DType::I8 ? "INT8" : "FP8", t(dtypeName(inType));
  if (b.elem() != inType || !b.isRanked() || b.rank() != 2 || !a.isRanked() || a.rank() < 2)
    return ctx.error(what + " matmul needs an " + t + " input of rank 2 or more and " + t + " weights [N, K], got " + a.str() +
                     " and " + b.str());
  if (a.dim(a.rank() - 1) != b.dim(1))
    return ctx.error(what + " matmul: input " + a.str() + " and weights " + b.str() + " (one row of K per output column) disagree on K");
  std::vector<Dim> dims;
  for (int64_t i = 0; i + 1 < a.rank(); ++i)
    dims.push_back(a.dim(i));
  dims.push_back(b.dim(0));
  return TensorType(outType, dims);
}

Status inferShapesInfcMatmul(InferContext &ctx) {
  Operation &op = ctx.op();
  INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(op));
  TensorType y;
  if (a.quantized()) {
    INFC_ASSIGN_OR_RETURN(y, quantMatmulType(ctx, a.inType, a.outType));
  } else {
    ScratchOp mm(op, OpKind::OnnxMatMul, {ctx.operandType(0), ctx.operandType(1)}, {});
    INFC_ASSIGN_OR_RETURN(std::vector<TensorType> out, mm.infer());
    y = out[0];
  }
  // INT8: the bias is float32, in y's units (the epilogue adds it before rounding to int8).
  DType biasType = a.int8() ? DType::F32 : y.elem();
  if (ctx.hasOperand(2)) {
    const TensorType &b = ctx.operandType(2);
    if (!b.isRanked() || b.rank() != 1 || !y.isRanked() || y.rank() < 1 || b.dim(0) != y.dim(y.rank() - 1) ||
        b.elem() != biasType)
      return ctx.error("bias has type " + b.str() + ", expected one " + std::string(dtypeName(biasType)) +
                       " per output column");
  }
  if (ctx.hasOperand(3) && a.int8())
    return ctx.error("an INT8 matmul takes no residual (its result is int8; the residual is added after dequantization)");
  if (ctx.hasOperand(3) && ctx.operandType(3) != y)
    return ctx.error("residual has type " + ctx.operandType(3).str() + ", expected the result type " + y.str());
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
  TensorType y = permuteType(out[0], layoutPerm(a.layout, rank));
  if (a.qScale) {
    DType xt = ctx.operandType(0).elem();
    if (xt != DType::F32 && xt != DType::F16 && xt != DType::BF16)
      return ctx.error("a pool with q_scale reads a float tensor, not " + ctx.operandType(0).str());
    y.setElem(DType::I8);
  }
  ctx.setResultType(0, y);
  return Status::ok();
}

Status inferShapesInfcLayoutCast(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(ctx.op()));
  const TensorType &x = ctx.operandType(0);
  if (!x.isRanked() || x.rank() < 3)
    return ctx.error("layout_cast of " + x.str() + ": needs a ranked tensor of rank 3 or more");
  if (a.dtype != DType::Undefined && !isFloat(x.elem()))
    return ctx.error("layout_cast with dtype of " + x.str() + ": converts float tensors only");
  TensorType y = permuteType(x, a.perm(x.rank()));
  if (a.dtype != DType::Undefined)
    y.setElem(a.dtype);
  if (a.padChannels) {
    if (x.rank() != 4 || !x.dim(1).isStatic())
      return ctx.error("layout_cast with pad_channels of " + x.str() + ": needs a rank-4 tensor with static channels");
    std::vector<Dim> dims = y.shape();
    dims[3] = Dim(x.dim(1).value + a.padChannels);
    y = TensorType(y.elem(), dims);
  }
  ctx.setResultType(0, y);
  return Status::ok();
}

namespace {

/// Two dims that must agree: both static and different, or two different symbols, is an error.
bool dimsConflict(const Dim &a, const Dim &b) {
  if (a.isStatic() && b.isStatic())
    return a.value != b.value;
  return !a.isStatic() && !b.isStatic() && !a.symbol.empty() && !b.symbol.empty() && a.symbol != b.symbol;
}

/// The logical [B, H, S, D] dims of an attention operand in `layout` (BS3HD: the packed operand).
std::vector<Dim> bhsdDims(const TensorType &t, AttentionAttrs::QkvLayout layout) {
  const std::vector<Dim> &s = t.shape();
  if (layout == AttentionAttrs::QkvLayout::BHSD)
    return s;
  if (layout == AttentionAttrs::QkvLayout::BSHD)
    return {s[0], s[2], s[1], s[3]};
  return {s[0], s[3], s[1], s[4]};
}

} // namespace

Status inferShapesInfcAttention(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(AttentionAttrs a, AttentionAttrs::read(ctx.op()));
  using L = AttentionAttrs::QkvLayout;
  bool packed = a.layout == L::BS3HD;
  if (packed != (!ctx.hasOperand(1) && !ctx.hasOperand(2)) || (!packed && (!ctx.hasOperand(1) || !ctx.hasOperand(2))))
    return ctx.error(packed ? "a bs3hd attention takes one packed qkv operand (k and v absent)"
                            : "attention needs q, k and v");
  const TensorType &q = ctx.operandType(0);
  // Quantized (fuse-attention-quant): q, k, v int8 or e4m3 with x_scale, the float type named.
  bool quantized = a.xScale || a.qScale;
  DType dt = a.floatType;
  auto byteType = [](DType t) { return t == DType::I8 || t == DType::F8E4M3; };
  if (a.xScale ? !byteType(q.elem()) : (!isFloat(q.elem()) || q.elem() != dt))
    return ctx.error("attention on " + q.str() + ": needs " +
                     (a.xScale ? std::string("int8 or e4m3 (it has x_scale)")
                               : quantized ? "its dtype " + std::string(dtypeName(dt)) : std::string("a float type")));
  INFC_RETURN_IF_ERROR(requireRank(ctx, 0, packed ? 5 : 4, packed ? "qkv" : "q"));
  if (packed && q.dim(2).isStatic() && q.dim(2).value != 3)
    return ctx.error("packed qkv has type " + q.str() + ", expected [B, S, 3, H, D]");
  std::vector<Dim> qd = bhsdDims(q, a.layout), kd = qd, vd = qd;
  if (!packed) {
    INFC_RETURN_IF_ERROR(requireRank(ctx, 1, 4, "k"));
    INFC_RETURN_IF_ERROR(requireRank(ctx, 2, 4, "v"));
    kd = bhsdDims(ctx.operandType(1), a.layout);
    vd = bhsdDims(ctx.operandType(2), a.layout);
    for (size_t i : {1, 2})
      if (ctx.operandType(i).elem() != q.elem())
        return ctx.error("attention operand " + ctx.operandType(i).str() + " does not have q's type " +
                         std::string(dtypeName(q.elem())));
    if (dimsConflict(qd[0], kd[0]) || dimsConflict(qd[1], kd[1]) || dimsConflict(qd[3], kd[3]) ||
        dimsConflict(kd[0], vd[0]) || dimsConflict(kd[1], vd[1]) || dimsConflict(kd[2], vd[2]))
      return ctx.error("attention q " + q.str() + ", k " + ctx.operandType(1).str() + " and v " +
                       ctx.operandType(2).str() + " do not agree in batch, heads, key length or head size");
  }
  if (ctx.hasOperand(3)) {
    const TensorType &m = ctx.operandType(3);
    std::vector<Dim> scores = {qd[0], qd[1], qd[2], kd[2]};
    bool ok = m.isRanked() && m.rank() <= 4 && m.elem() == dt;
    for (int64_t i = 0; ok && i < m.rank(); ++i) {
      const Dim &md = m.dim(m.rank() - 1 - i), &sd = scores[static_cast<size_t>(3 - i)];
      ok = !(md.isStatic() && md.value != 1 && dimsConflict(md, sd));
    }
    if (!ok)
      return ctx.error("attention mask " + m.str() + " does not broadcast to the scores [B, H, Sq, Sk] of " +
                       std::string(dtypeName(dt)));
  }
  // y: [B, H, Sq, Dv] in bhsd, else [B, Sq, H, Dv].
  std::vector<Dim> y = a.layout == L::BHSD ? std::vector<Dim>{qd[0], qd[1], qd[2], vd[3]}
                                           : std::vector<Dim>{qd[0], qd[2], qd[1], vd[3]};
  DType yt = dt;
  if (a.qScale)
    yt = ctx.op().result()->type().elem() == DType::F8E4M3 ? DType::F8E4M3 : DType::I8;
  ctx.setResultType(0, TensorType(yt, y));
  return Status::ok();
}

Status inferShapesInfcFused(InferContext &ctx) {
  Operation &op = ctx.op();
  if (op.numRegions() != 1)
    return ctx.error("infc.fused needs one region (its body)");
  Block &body = op.region(0);
  if (body.numArguments() != op.numOperands())
    return ctx.error("infc.fused has " + std::to_string(op.numOperands()) + " operands but its body takes " +
                     std::to_string(body.numArguments()));
  for (size_t i = 0; i < op.numOperands(); ++i) {
    if (!ctx.hasOperand(i))
      return ctx.error("infc.fused operand " + std::to_string(i) + " is absent");
    body.argument(i)->setType(ctx.operandType(i));
  }
  for (auto &inner : body.ops()) {
    if (!(inner->info().traits & kElementwise))
      return ctx.error("infc.fused body holds " + std::string(inner->name()) + ", which is not elementwise");
    INFC_RETURN_IF_ERROR(inferShapes(*inner));
  }
  if (body.yields().size() != 1)
    return ctx.error("infc.fused body must yield one value");
  ctx.setResultType(0, body.yields()[0]->type());
  return Status::ok();
}

Status inferShapesInfcNorm(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::read(ctx.op()));
  const TensorType &x = ctx.operandType(0);
  // The float type of y: x's, or for an int8 x (x_scale) the scale's.
  DType ft = a.xScale ? ctx.operandType(1).elem() : x.elem();
  if (!x.isRanked() || (a.xScale ? x.elem() != DType::I8 : !isFloat(x.elem())))
    return ctx.error("norm of " + x.str() + ": needs a ranked " + (a.xScale ? "int8 tensor (it has x_scale)" : "float tensor"));
  if (!isFloat(ft))
    return ctx.error("norm scale has type " + ctx.operandType(1).str() + ", expected float elements");
  if (ctx.hasOperand(3)) {
    if (!ctx.hasOperand(2))
      return ctx.error("norm with a residual needs its bias operand");
    const TensorType &z = ctx.operandType(3);
    if (z.elem() != ft || !z.isRanked() || z.rank() != x.rank() || (x.isStatic() && z.isStatic() && z.staticShape() != x.staticShape()))
      return ctx.error("norm residual has type " + z.str() + ", expected the shape of x with " + std::string(dtypeName(ft)) +
                       " elements");
  }
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.hasOperand(i))
      continue;
    const TensorType &p = ctx.operandType(i);
    if (p.elem() != ft)
      return ctx.error(std::string(i == 1 ? "scale" : "bias") + " has type " + p.str() + ", expected " +
                       std::string(dtypeName(ft)) + " elements");
  }
  if (x.isStatic()) {
    Expected<NormGeometry> g = normGeometry(a, x.staticShape());
    if (!g.isOk())
      return ctx.error("norm of " + x.str() + ": " + g.status().message());
    for (size_t i = 1; i < 3; ++i) {
      if (!ctx.hasOperand(i) || !ctx.operandType(i).isStatic())
        continue;
      const TensorType &p = ctx.operandType(i);
      if (!g->fits(p))
        return ctx.error(std::string(i == 1 ? "scale" : "bias") + " has type " + p.str() + ", expected " +
                         std::to_string(g->params) + (g->perChannel ? " values, one per channel" : " values, one per element of a row"));
    }
  }
  if (ctx.numResults() != (a.qScale ? 2u : 1u))
    return ctx.error(std::string("norm ") + (a.qScale ? "with q_scale has two results" : "without q_scale has one result"));
  TensorType y = x;
  y.setElem(ft);
  ctx.setResultType(0, y);
  if (a.qScale) {
    TensorType q = x;
    DType qt = ctx.op().result(1)->type().elem();
    q.setElem(qt == DType::F8E4M3 ? DType::F8E4M3 : DType::I8);
    ctx.setResultType(1, q);
  }
  return Status::ok();
}

} // namespace infc::ops

