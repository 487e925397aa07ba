// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalBatchNormalization(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": BatchNormalization not implemented yet"); }
Status evalInstanceNormalization(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": InstanceNormalization not implemented yet"); }
Status evalLayerNormalization(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": LayerNormalization not implemented yet"); }
Status evalGroupNormalization(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GroupNormalization not implemented yet"); }
Status evalDropout(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Dropout not implemented yet"); }
Status evalGemm(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Gemm not implemented yet"); }
Status evalMatMul(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": MatMul not implemented yet"); }
Status evalEinsum(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Einsum not implemented yet"); }

} // namespace infc::interp
