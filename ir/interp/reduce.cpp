// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalArgMax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ArgMax not implemented yet"); }
Status evalArgMin(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ArgMin not implemented yet"); }
Status evalReduceL1(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceL1 not implemented yet"); }
Status evalReduceL2(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceL2 not implemented yet"); }
Status evalReduceLogSum(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceLogSum not implemented yet"); }
Status evalReduceLogSumExp(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceLogSumExp not implemented yet"); }
Status evalReduceMax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMax not implemented yet"); }
Status evalReduceMean(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMean not implemented yet"); }
Status evalReduceMin(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMin not implemented yet"); }
Status evalReduceProd(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceProd not implemented yet"); }
Status evalReduceSum(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceSum not implemented yet"); }
Status evalReduceSumSquare(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceSumSquare not implemented yet"); }
Status evalSoftmax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Softmax not implemented yet"); }
Status evalLogSoftmax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": LogSoftmax not implemented yet"); }
Status evalHardmax(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Hardmax not implemented yet"); }
Status evalTopK(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": TopK not implemented yet"); }
Status evalCumSum(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": CumSum not implemented yet"); }

} // namespace infc::interp
