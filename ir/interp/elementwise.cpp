// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalAbs(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Abs not implemented yet"); }
Status evalAcos(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Acos not implemented yet"); }
Status evalAcosh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Acosh not implemented yet"); }
Status evalAsin(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Asin not implemented yet"); }
Status evalAsinh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Asinh not implemented yet"); }
Status evalAtan(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Atan not implemented yet"); }
Status evalAtanh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Atanh not implemented yet"); }
Status evalCeil(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Ceil not implemented yet"); }
Status evalCelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Celu not implemented yet"); }
Status evalCos(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Cos not implemented yet"); }
Status evalCosh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Cosh not implemented yet"); }
Status evalElu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Elu not implemented yet"); }
Status evalErf(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Erf not implemented yet"); }
Status evalExp(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Exp not implemented yet"); }
Status evalFloor(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Floor not implemented yet"); }
Status evalGelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Gelu not implemented yet"); }
Status evalHardSigmoid(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": HardSigmoid not implemented yet"); }
Status evalHardSwish(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": HardSwish not implemented yet"); }
Status evalIsInf(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": IsInf not implemented yet"); }
Status evalIsNaN(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": IsNaN not implemented yet"); }
Status evalLeakyRelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": LeakyRelu not implemented yet"); }
Status evalLog(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Log not implemented yet"); }
Status evalMish(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Mish not implemented yet"); }
Status evalNeg(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Neg not implemented yet"); }
Status evalNot(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Not not implemented yet"); }
Status evalReciprocal(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Reciprocal not implemented yet"); }
Status evalRelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Relu not implemented yet"); }
Status evalRound(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Round not implemented yet"); }
Status evalSelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Selu not implemented yet"); }
Status evalShrink(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Shrink not implemented yet"); }
Status evalSigmoid(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sigmoid not implemented yet"); }
Status evalSign(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sign not implemented yet"); }
Status evalSin(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sin not implemented yet"); }
Status evalSinh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sinh not implemented yet"); }
Status evalSoftplus(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Softplus not implemented yet"); }
Status evalSoftsign(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Softsign not implemented yet"); }
Status evalSqrt(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sqrt not implemented yet"); }
Status evalTan(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Tan not implemented yet"); }
Status evalTanh(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Tanh not implemented yet"); }
Status evalThresholdedRelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ThresholdedRelu not implemented yet"); }
Status evalAdd(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Add not implemented yet"); }
Status evalAnd(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": And not implemented yet"); }
Status evalBitShift(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": BitShift not implemented yet"); }
Status evalDiv(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Div not implemented yet"); }
Status evalEqual(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Equal not implemented yet"); }
Status evalGreater(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Greater not implemented yet"); }
Status evalGreaterOrEqual(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GreaterOrEqual not implemented yet"); }
Status evalLess(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Less not implemented yet"); }
Status evalLessOrEqual(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": LessOrEqual not implemented yet"); }
Status evalMod(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Mod not implemented yet"); }
Status evalMul(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Mul not implemented yet"); }
Status evalOr(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Or not implemented yet"); }
Status evalPow(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Pow not implemented yet"); }
Status evalPRelu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": PRelu not implemented yet"); }
Status evalSub(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sub not implemented yet"); }
Status evalXor(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Xor not implemented yet"); }
Status evalMax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Max not implemented yet"); }
Status evalMean(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Mean not implemented yet"); }
Status evalMin(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Min not implemented yet"); }
Status evalSum(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Sum not implemented yet"); }
Status evalClip(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Clip not implemented yet"); }
Status evalWhere(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Where not implemented yet"); }
Status evalCast(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Cast not implemented yet"); }
Status evalCastLike(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": CastLike not implemented yet"); }
Status evalQuantizeLinear(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": QuantizeLinear not implemented yet"); }
Status evalDequantizeLinear(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": DequantizeLinear not implemented yet"); }

} // namespace infc::interp
