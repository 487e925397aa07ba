// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesAbs(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Abs not implemented yet"); }
Status inferShapesAcos(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Acos not implemented yet"); }
Status inferShapesAcosh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Acosh not implemented yet"); }
Status inferShapesAsin(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Asin not implemented yet"); }
Status inferShapesAsinh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Asinh not implemented yet"); }
Status inferShapesAtan(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Atan not implemented yet"); }
Status inferShapesAtanh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Atanh not implemented yet"); }
Status inferShapesCeil(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Ceil not implemented yet"); }
Status inferShapesCelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Celu not implemented yet"); }
Status inferShapesCos(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Cos not implemented yet"); }
Status inferShapesCosh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Cosh not implemented yet"); }
Status inferShapesElu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Elu not implemented yet"); }
Status inferShapesErf(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Erf not implemented yet"); }
Status inferShapesExp(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Exp not implemented yet"); }
Status inferShapesFloor(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Floor not implemented yet"); }
Status inferShapesGelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Gelu not implemented yet"); }
Status inferShapesHardSigmoid(InferContext &ctx) { return unsupported(ctx.op().describe() + ": HardSigmoid not implemented yet"); }
Status inferShapesHardSwish(InferContext &ctx) { return unsupported(ctx.op().describe() + ": HardSwish not implemented yet"); }
Status inferShapesIsInf(InferContext &ctx) { return unsupported(ctx.op().describe() + ": IsInf not implemented yet"); }
Status inferShapesIsNaN(InferContext &ctx) { return unsupported(ctx.op().describe() + ": IsNaN not implemented yet"); }
Status inferShapesLeakyRelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": LeakyRelu not implemented yet"); }
Status inferShapesLog(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Log not implemented yet"); }
Status inferShapesMish(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Mish not implemented yet"); }
Status inferShapesNeg(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Neg not implemented yet"); }
Status inferShapesNot(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Not not implemented yet"); }
Status inferShapesReciprocal(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Reciprocal not implemented yet"); }
Status inferShapesRelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Relu not implemented yet"); }
Status inferShapesRound(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Round not implemented yet"); }
Status inferShapesSelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Selu not implemented yet"); }
Status inferShapesShrink(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Shrink not implemented yet"); }
Status inferShapesSigmoid(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sigmoid not implemented yet"); }
Status inferShapesSign(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sign not implemented yet"); }
Status inferShapesSin(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sin not implemented yet"); }
Status inferShapesSinh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sinh not implemented yet"); }
Status inferShapesSoftplus(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Softplus not implemented yet"); }
Status inferShapesSoftsign(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Softsign not implemented yet"); }
Status inferShapesSqrt(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sqrt not implemented yet"); }
Status inferShapesTan(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Tan not implemented yet"); }
Status inferShapesTanh(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Tanh not implemented yet"); }
Status inferShapesThresholdedRelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ThresholdedRelu not implemented yet"); }
Status inferShapesAdd(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Add not implemented yet"); }
Status inferShapesAnd(InferContext &ctx) { return unsupported(ctx.op().describe() + ": And not implemented yet"); }
Status inferShapesBitShift(InferContext &ctx) { return unsupported(ctx.op().describe() + ": BitShift not implemented yet"); }
Status inferShapesDiv(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Div not implemented yet"); }
Status inferShapesEqual(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Equal not implemented yet"); }
Status inferShapesGreater(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Greater not implemented yet"); }
Status inferShapesGreaterOrEqual(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GreaterOrEqual not implemented yet"); }
Status inferShapesLess(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Less not implemented yet"); }
Status inferShapesLessOrEqual(InferContext &ctx) { return unsupported(ctx.op().describe() + ": LessOrEqual not implemented yet"); }
Status inferShapesMod(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Mod not implemented yet"); }
Status inferShapesMul(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Mul not implemented yet"); }
Status inferShapesOr(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Or not implemented yet"); }
Status inferShapesPow(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Pow not implemented yet"); }
Status inferShapesPRelu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": PRelu not implemented yet"); }
Status inferShapesSub(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sub not implemented yet"); }
Status inferShapesXor(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Xor not implemented yet"); }
Status inferShapesMax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Max not implemented yet"); }
Status inferShapesMean(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Mean not implemented yet"); }
Status inferShapesMin(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Min not implemented yet"); }
Status inferShapesSum(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Sum not implemented yet"); }
Status inferShapesClip(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Clip not implemented yet"); }
Status inferShapesWhere(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Where not implemented yet"); }
Status inferShapesCast(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Cast not implemented yet"); }
Status inferShapesCastLike(InferContext &ctx) { return unsupported(ctx.op().describe() + ": CastLike not implemented yet"); }
Status inferShapesQuantizeLinear(InferContext &ctx) { return unsupported(ctx.op().describe() + ": QuantizeLinear not implemented yet"); }
Status inferShapesDequantizeLinear(InferContext &ctx) { return unsupported(ctx.op().describe() + ": DequantizeLinear not implemented yet"); }

} // namespace infc::ops
