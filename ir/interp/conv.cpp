// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalConv(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Conv not implemented yet"); }
Status evalConvTranspose(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ConvTranspose not implemented yet"); }
Status evalAveragePool(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": AveragePool not implemented yet"); }
Status evalMaxPool(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": MaxPool not implemented yet"); }
Status evalGlobalAveragePool(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GlobalAveragePool not implemented yet"); }
Status evalGlobalMaxPool(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GlobalMaxPool not implemented yet"); }
Status evalLRN(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": LRN not implemented yet"); }

} // namespace infc::interp
