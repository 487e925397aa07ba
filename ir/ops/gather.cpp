// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesGather(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Gather not implemented yet"); }
Status inferShapesGatherElements(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GatherElements not implemented yet"); }
Status inferShapesGatherND(InferContext &ctx) { return unsupported(ctx.op().describe() + ": GatherND not implemented yet"); }
Status inferShapesScatterElements(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ScatterElements not implemented yet"); }
Status inferShapesScatterND(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ScatterND not implemented yet"); }
Status inferShapesPad(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Pad not implemented yet"); }
Status inferShapesResize(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Resize not implemented yet"); }
Status inferShapesDepthToSpace(InferContext &ctx) { return unsupported(ctx.op().describe() + ": DepthToSpace not implemented yet"); }
Status inferShapesSpaceToDepth(InferContext &ctx) { return unsupported(ctx.op().describe() + ": SpaceToDepth not implemented yet"); }

} // namespace infc::ops
