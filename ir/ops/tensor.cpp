// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::ops {

Status inferShapesConcat(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Concat not implemented yet"); }
Status inferShapesConstant(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Constant not implemented yet"); }
Status inferShapesConstantOfShape(InferContext &ctx) { return unsupported(ctx.op().describe() + ": ConstantOfShape not implemented yet"); }
Status inferShapesExpand(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Expand not implemented yet"); }
Status inferShapesEyeLike(InferContext &ctx) { return unsupported(ctx.op().describe() + ": EyeLike not implemented yet"); }
Status inferShapesFlatten(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Flatten not implemented yet"); }
Status inferShapesIdentity(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Identity not implemented yet"); }
Status inferShapesRange(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Range not implemented yet"); }
Status inferShapesReshape(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Reshape not implemented yet"); }
Status inferShapesShape(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Shape not implemented yet"); }
Status inferShapesSize(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Size not implemented yet"); }
Status inferShapesSqueeze(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Squeeze not implemented yet"); }
Status inferShapesUnsqueeze(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Unsqueeze not implemented yet"); }
Status inferShapesTranspose(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Transpose not implemented yet"); }
Status inferShapesTile(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Tile not implemented yet"); }
Status inferShapesSplit(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Split not implemented yet"); }
Status inferShapesSlice(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Slice not implemented yet"); }
Status inferShapesTrilu(InferContext &ctx) { return unsupported(ctx.op().describe() + ": Trilu not implemented yet"); }
Status inferShapesOneHot(InferContext &ctx) { return unsupported(ctx.op().describe() + ": OneHot not implemented yet"); }

} // namespace infc::ops
