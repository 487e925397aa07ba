#include "ir/ScratchOp.h"

namespace infc {

ScratchOp::ScratchOp(const Operation &of, OpKind kind, const std::vector<TensorType> &operandTypes, AttrMap attrs,
                     size_t numResults)
{
  // The scratch op carries `of`'s location, so its errors name the user's node.
  std::vector<Value *> operands;
  for (size_t i = 0; i < operandTypes.size(); ++i)
    operands.push_back(graph_.body().addArgument("a" + std::to_string(i), operandTypes[i]));
  op_ = graph_.body().create(kind, operands, std::vector<TensorType>(numResults, TensorType::unranked(DType::F32)),
                             std::move(attrs), of.loc());
}

Expected<std::vector<TensorType>> ScratchOp::infer() {
  INFC_RETURN_IF_ERROR(inferShapes(*op_));
  std::vector<TensorType> out;
  for (Value *r : op_->results())
    out.push_back(r->type());
  return out;
}

Expected<std::vector<Tensor>> ScratchOp::eval(std::vector<const Tensor *> inputs) {
  EvalContext ctx(*op_, std::move(inputs));
  INFC_RETURN_IF_ERROR(evaluate(ctx));
  return std::move(ctx.outputs());
}

TensorType permuteType(const TensorType &t, const std::vector<int64_t> &perm) {
  if (!t.isRanked())
    return t;
  std::vector<Dim> dims;
  for (int64_t p : perm)
    dims.push_back(t.dim(p));
  return TensorType(t.elem(), dims);
}

} // namespace infc
