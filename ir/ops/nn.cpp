// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesBatchNormalization(InferContext &ctx) { return unsupported(ctx.op().describe() + ": BatchNormalization not implemented yet"); }
Status inferShapesInstanceNormalization(InferContext &ctx) { return unsupported(ctx.op().describe() + ": InstanceNormalization not implemented yet"); }
Status inferShapesLayerNormalization(InferContext &ctx) { return unsupported(ctx.op().describe() + ": LayerNormalization not implemented yet"); }
Status inferShapesGroupNormalization(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GroupNormalization not implemented yet"); }
Status inferShapesDropout(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Dropout not implemented yet"); }
Status inferShapesGemm(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Gemm not implemented yet"); }
Status inferShapesMatMul(InferContext &ctx) { return unsupported(ctx.op().describe() + ": MatMul not implemented yet"); }
Status inferShapesEinsum(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Einsum not implemented yet"); }

} // namespace infc::ops
