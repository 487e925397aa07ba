// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesArgMax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ArgMax not implemented yet"); }
Status inferShapesArgMin(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ArgMin not implemented yet"); }
Status inferShapesReduceL1(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceL1 not implemented yet"); }
Status inferShapesReduceL2(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceL2 not implemented yet"); }
Status inferShapesReduceLogSum(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceLogSum not implemented yet"); }
Status inferShapesReduceLogSumExp(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceLogSumExp not implemented yet"); }
Status inferShapesReduceMax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMax not implemented yet"); }
Status inferShapesReduceMean(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMean not implemented yet"); }
Status inferShapesReduceMin(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceMin not implemented yet"); }
Status inferShapesReduceProd(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceProd not implemented yet"); }
Status inferShapesReduceSum(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceSum not implemented yet"); }
Status inferShapesReduceSumSquare(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ReduceSumSquare not implemented yet"); }
Status inferShapesSoftmax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Softmax not implemented yet"); }
Status inferShapesLogSoftmax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": LogSoftmax not implemented yet"); }
Status inferShapesHardmax(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Hardmax not implemented yet"); }
Status inferShapesTopK(InferContext &ctx) { return unsupported(ctx.op().describe() + ": TopK not implemented yet"); }
Status inferShapesCumSum(InferContext &ctx) { return unsupported(ctx.op().describe() + ": CumSum not implemented yet"); }

} // namespace infc::ops
