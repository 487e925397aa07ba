// Shape inference for elementwise ops: unary (same type), broadcasting binary/variadic ops,
// comparisons (bool results), Clip, Where, Cast/CastLike, Quantize/DequantizeLinear.
#include "ir/ops/ShapeUtil.h"

namespace infc::ops {

namespace {

Status unary(InferContext &ctx, std::optional<DType> out = std::nullopt) {
  setSameAs(ctx, 0, 0, out);
  return Status::ok();
}

/// Broadcast of all present operands in [first, last); result dtype `dt`.
Status broadcastOperands(InferContext &ctx, size_t first, size_t last, DType dt) {
  std::vector<Dim> dims;
  bool ranked = true;
  bool any = false;
  for (size_t i = first; i < last && i < ctx.numOperands(); ++i) {
    if (!ctx.hasOperand(i))
      continue;
    const TensorType &t = ctx.operandType(i);
    if (!t.isRanked()) {
      ranked = false;
      continue;
    }
    if (!any) {
      dims = t.shape();
      any = true;
      continue;
    }
    Expected<std::vector<Dim>> b = broadcastDims(dims, t.shape());
    if (!b.isOk())
      return ctx.error(b.status().message());
    dims = *b;
  }
  ctx.setResultType(0, ranked ? TensorType(dt, dims) : TensorType::unranked(dt));
  return Status::ok();
}

Status sameElemTypes(InferContext &ctx, size_t first, size_t last) {
  DType dt = DType::Undefined;
  for (size_t i = first; i < last && i < ctx.numOperands(); ++i) {
    if (!ctx.hasOperand(i))
      continue;
    DType t = ctx.operandType(i).elem();
    if (dt == DType::Undefined)
      dt = t;
    else if (t != dt)
      return ctx.error("operands have different element types (" + std::string(dtypeName(dt)) + " and " +
                       std::string(dtypeName(t)) + ")");
  }
  return Status::ok();
}

Status binary(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(sameElemTypes(ctx, 0, 2));
  return broadcastOperands(ctx, 0, 2, ctx.operandType(0).elem());
}

Status compare(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(sameElemTypes(ctx, 0, 2));
  return broadcastOperands(ctx, 0, 2, DType::Bool);
}

Status variadic(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(sameElemTypes(ctx, 0, ctx.numOperands()));
  return broadcastOperands(ctx, 0, ctx.numOperands(), ctx.operandType(0).elem());
}

Status requireBool(InferContext &ctx) {
  for (size_t i = 0; i < ctx.numOperands(); ++i)
    if (ctx.hasOperand(i) && ctx.operandType(i).elem() != DType::Bool)
      return ctx.error("operand " + std::to_string(i) + " must be bool, got " +
                       std::string(dtypeName(ctx.operandType(i).elem())));
  return Status::ok();
}

Status requireFloat(InferContext &ctx) {
  DType t = ctx.operandType(0).elem();
  if (!isFloat(t))
    return ctx.error("input is " + std::string(dtypeName(t)) + "; this op takes a float type (f16, bf16, f32, f64)");
  return Status::ok();
}

Status requireNumeric(InferContext &ctx) {
  DType t = ctx.operandType(0).elem();
  if (t == DType::Bool || t == DType::Undefined)
    return ctx.error("input is " + std::string(dtypeName(t)) + "; this op takes a number");
  return Status::ok();
}

} // namespace

// ONNX's type constraints: these take floats only; Abs, Neg, Sign, Relu and Shrink take any number.
#define INFC_UNARY(Name)                                                                                               \
  Status inferShapes##Name(InferContext &ctx) {                                                                        \
    INFC_RETURN_IF_ERROR(requireFloat(ctx));                                                                           \
    return unary(ctx);                                                                                                 \
  }
#define INFC_UNARY_NUMERIC(Name)                                                                                       \
  Status inferShapes##Name(InferContext &ctx) {                                                                        \
    INFC_RETURN_IF_ERROR(requireNumeric(ctx));                                                                         \
    return unary(ctx);                                                                                                 \
  }
INFC_UNARY_NUMERIC(Abs) INFC_UNARY(Acos) INFC_UNARY(Acosh) INFC_UNARY(Asin) INFC_UNARY(Asinh) INFC_UNARY(Atan)
INFC_UNARY(Atanh) INFC_UNARY(Ceil) INFC_UNARY(Celu) INFC_UNARY(Cos) INFC_UNARY(Cosh) INFC_UNARY(Elu)
INFC_UNARY(Erf) INFC_UNARY(Exp) INFC_UNARY(Floor) INFC_UNARY(Gelu) INFC_UNARY(HardSigmoid) INFC_UNARY(HardSwish)
INFC_UNARY(LeakyRelu) INFC_UNARY(Log) INFC_UNARY(Mish) INFC_UNARY_NUMERIC(Neg) INFC_UNARY(Reciprocal) INFC_UNARY_NUMERIC(Relu)
INFC_UNARY(Round) INFC_UNARY(Selu) INFC_UNARY_NUMERIC(Shrink) INFC_UNARY(Sigmoid) INFC_UNARY_NUMERIC(Sign) INFC_UNARY(Sin)
INFC_UNARY(Sinh) INFC_UNARY(Softplus) INFC_UNARY(Softsign) INFC_UNARY(Sqrt) INFC_UNARY(Tan) INFC_UNARY(Tanh)
INFC_UNARY(ThresholdedRelu)
#undef INFC_UNARY_NUMERIC
#undef INFC_UNARY

Status inferShapesIsInf(InferContext &ctx) { return unary(ctx, DType::Bool); }
Status inferShapesIsNaN(InferContext &ctx) { return unary(ctx, DType::Bool); }
Status inferShapesNot(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireBool(ctx));
  return unary(ctx);
}

Status inferShapesAdd(InferContext &ctx) { return binary(ctx); }
Status inferShapesSub(InferContext &ctx) { return binary(ctx); }
Status inferShapesMul(InferContext &ctx) { return binary(ctx); }
Status inferShapesDiv(InferContext &ctx) { return binary(ctx); }
Status inferShapesMod(InferContext &ctx) { return binary(ctx); }
Status inferShapesBitShift(InferContext &ctx) { return binary(ctx); }
Status inferShapesPRelu(InferContext &ctx) { return binary(ctx); }
Status inferShapesPow(InferContext &ctx) { return broadcastOperands(ctx, 0, 2, ctx.operandType(0).elem()); }
Status inferShapesAnd(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireBool(ctx));
  return binary(ctx);
}
Status inferShapesOr(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireBool(ctx));
  return binary(ctx);
}
Status inferShapesXor(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireBool(ctx));
  return binary(ctx);
}
Status inferShapesEqual(InferContext &ctx) { return compare(ctx); }
Status inferShapesGreater(InferContext &ctx) { return compare(ctx); }
Status inferShapesGreaterOrEqual(InferContext &ctx) { return compare(ctx); }
Status inferShapesLess(InferContext &ctx) { return compare(ctx); }
Status inferShapesLessOrEqual(InferContext &ctx) { return compare(ctx); }
Status inferShapesMax(InferContext &ctx) { return variadic(ctx); }
Status inferShapesMin(InferContext &ctx) { return variadic(ctx); }
Status inferShapesMean(InferContext &ctx) { return variadic(ctx); }
Status inferShapesSum(InferContext &ctx) { return variadic(ctx); }

Status inferShapesClip(InferContext &ctx) {
  for (size_t i = 1; i < 3; ++i)
    if (ctx.hasOperand(i) && ctx.operandType(i).isRanked() && ctx.operandType(i).rank() != 0 &&
        ctx.operandType(i).numElements() != std::optional<int64_t>(1))
      return ctx.error(std::string(i == 1 ? "min" : "max") + " must be a scalar");
  return unary(ctx);
}

Status inferShapesWhere(InferContext &ctx) {
  if (ctx.operandType(0).elem() != DType::Bool)
    return ctx.error("condition must be bool, got " + std::string(dtypeName(ctx.operandType(0).elem())));
  if (ctx.operandType(1).elem() != ctx.operandType(2).elem())
    return ctx.error("X and Y have different element types");
  return broadcastOperands(ctx, 0, 3, ctx.operandType(1).elem());
}

Status inferShapesCast(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(int64_t to, ctx.attrs().getInt("to"));
  std::optional<DType> dt = dtypeFromOnnx(static_cast<int32_t>(to));
  if (!dt)
    return Status(StatusCode::Unsupported, ctx.op().describe() + ": Cast to element type " + std::to_string(to) +
                                               " is not supported");
  return unary(ctx, *dt);
}

Status inferShapesCastLike(InferContext &ctx) { return unary(ctx, ctx.operandType(1).elem()); }

Status inferShapesQuantizeLinear(InferContext &ctx) {
  DType out = DType::U8;
  if (ctx.hasOperand(2))
    out = ctx.operandType(2).elem();
  INFC_ASSIGN_OR_RETURN(int64_t outputDtype, ctx.attrs().getInt("output_dtype", 0));
  if (outputDtype) {
    std::optional<DType> d = dtypeFromOnnx(static_cast<int32_t>(outputDtype));
    if (!d)
      return ctx.error("unsupported output_dtype " + std::to_string(outputDtype));
    out = *d;
  }
  return unary(ctx, out);
}

Status inferShapesDequantizeLinear(InferContext &ctx) { return unary(ctx, ctx.operandType(1).elem()); }

} // namespace infc::ops
