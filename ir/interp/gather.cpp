// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalGather(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Gather not implemented yet"); }
Status evalGatherElements(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GatherElements not implemented yet"); }
Status evalGatherND(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": GatherND not implemented yet"); }
Status evalScatterElements(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ScatterElements not implemented yet"); }
Status evalScatterND(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ScatterND not implemented yet"); }
Status evalPad(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Pad not implemented yet"); }
Status evalResize(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Resize not implemented yet"); }
Status evalDepthToSpace(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": DepthToSpace not implemented yet"); }
Status evalSpaceToDepth(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": SpaceToDepth not implemented yet"); }

} // namespace infc::interp
