// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesConv(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Conv not implemented yet"); }
Status inferShapesConvTranspose(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ConvTranspose not implemented yet"); }
Status inferShapesAveragePool(InferContext &ctx) { return unsupported(ctx.op().describe() + ": AveragePool not implemented yet"); }
Status inferShapesMaxPool(InferContext &ctx) { return unsupported(ctx.op().describe() + ": MaxPool not implemented yet"); }
Status inferShapesGlobalAveragePool(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GlobalAveragePool not implemented yet"); }
Status inferShapesGlobalMaxPool(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GlobalMaxPool not implemented yet"); }
Status inferShapesLRN(InferContext &ctx) { return unsupported(ctx.op().describe() + ": LRN not implemented yet"); }

} // namespace infc::ops
