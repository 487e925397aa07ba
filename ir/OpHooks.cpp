#include "ir/OpHooks.h"

namespace infc {

using InferFn = Status (*)(InferContext &);
using EvalFn = Status (*)(EvalContext &);

static const InferFn kInferFns[] = {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits) &ops::inferShapes##Name,
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits) &ops::inferShapesInfc##Name,
#include "ir/ops.def"
};

static const EvalFn kEvalFns[] = {
#define ONNX_OP(Name, MinIn, MaxIn, MinOut, MaxOut, Traits) &interp::eval##Name,
#define INFC_OP(Name, Spelling, MinIn, MaxIn, MinOut, MaxOut, Traits) &interp::evalInfc##Name,
#include "ir/ops.def"
};

Status inferShapes(Operation &op) {
  InferContext ctx(op);
  return kInferFns[static_cast<size_t>(op.kind())](ctx);
}

Status evaluate(EvalContext &ctx) {
  INFC_RETURN_IF_ERROR(kEvalFns[static_cast<size_t>(ctx.op().kind())](ctx));
  for (size_t i = 0; i < ctx.numOutputs(); ++i)
    if (!ctx.outputs()[i].valid())
      return internalError(ctx.op().describe() + ": reference kernel left output " +
                           std::to_string(i) + " unset");
  return Status::ok();
}

} // namespace infc
