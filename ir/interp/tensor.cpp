// TEMPORARY scaffold: replaced by the real implementation of this op family.
#include "ir/OpHooks.h"

namespace infc::interp {

Status evalConcat(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Concat not implemented yet"); }
Status evalConstant(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Constant not implemented yet"); }
Status evalConstantOfShape(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": ConstantOfShape not implemented yet"); }
Status evalExpand(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Expand not implemented yet"); }
Status evalEyeLike(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": EyeLike not implemented yet"); }
Status evalFlatten(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Flatten not implemented yet"); }
Status evalIdentity(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Identity not implemented yet"); }
Status evalRange(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Range not implemented yet"); }
Status evalReshape(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Reshape not implemented yet"); }
Status evalShape(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Shape not implemented yet"); }
Status evalSize(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Size not implemented yet"); }
Status evalSqueeze(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Squeeze not implemented yet"); }
Status evalUnsqueeze(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Unsqueeze not implemented yet"); }
Status evalTranspose(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Transpose not implemented yet"); }
Status evalTile(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Tile not implemented yet"); }
Status evalSplit(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Split not implemented yet"); }
Status evalSlice(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Slice not implemented yet"); }
Status evalTrilu(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": Trilu not implemented yet"); }
Status evalOneHot(EvalContext &ctx) { return unsupported(ctx.op().describe() + ": OneHot not implemented yet"); }

} // namespace infc::interp
