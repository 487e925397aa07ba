#include "ir/Interpreter.h"

#include "ir/OpHooks.h"

#include <unordered_map>

namespace infc {

static std::string shapeStr(const std::vector<int64_t> &s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "x" : "") + std::to_string(s[i]);
  return r.empty() ? "scalar" : r;
}

bool tensorMatchesType(const Tensor &t, const TensorType &type) {
  if (t.dtype() != type.elem())
    return false;
  if (!type.isRanked())
    return true;
  if (t.rank() != type.rank())
    return false;
  for (int64_t i = 0; i < t.rank(); ++i)
    if (type.dim(i).isStatic() && type.dim(i).value != t.dim(i))
      return false;
  return true;
}

Expected<std::vector<Tensor>> evaluateOp(const Operation &op, const std::vector<const Tensor *> &operands) {
  EvalContext ctx(op, operands);
  INFC_RETURN_IF_ERROR(evaluate(ctx));
  return std::move(ctx.outputs());
}

static Status evalBlock(const Block &block, std::unordered_map<const Value *, Tensor> &env,
                        const InterpreterOptions &options) {
  // Remaining use counts let us free intermediates early (large models on the CPU).
  std::unordered_map<const Value *, size_t> remaining;
  for (const auto &op : block.ops())
    for (Value *v : op->operands())
      if (v)
        ++remaining[v];

  for (const auto &opPtr : block.ops()) {
    const Operation &op = *opPtr;
    std::vector<const Tensor *> inputs;
    inputs.reserve(op.numOperands());
    for (Value *v : op.operands()) {
      if (!v) {
        inputs.push_back(nullptr);
        continue;
      }
      auto it = env.find(v);
      if (it == env.end())
        return internalError(op.describe() + ": operand '" + v->name() + "' has no value");
      inputs.push_back(&it->second);
    }
    EvalContext ctx(op, std::move(inputs));
    INFC_RETURN_IF_ERROR(evaluate(ctx));
    if (options.observer)
      options.observer(op, ctx.outputs());
    for (size_t i = 0; i < op.numResults(); ++i) {
      Value *r = op.result(i);
      Tensor &t = ctx.outputs()[i];
      if (options.checkResultTypes && !tensorMatchesType(t, r->type()))
        return internalError(op.describe() + ": reference result '" + r->name() + "' is " +
                             std::string(dtypeName(t.dtype())) + " " + shapeStr(t.shape()) +
                             " but its type is " + r->type().str());
      env[r] = std::move(t);
    }
    for (Value *v : op.operands()) {
      if (!v)
        continue;
      if (--remaining[v] == 0 && !v->isGraphOutput() && v->definingOp())
        env.erase(v);
    }
  }
  return Status::ok();
}

Expected<std::vector<Tensor>> interpretRegion(const Block &block, const std::vector<const Tensor *> &args) {
  if (args.size() != block.numArguments())
    return internalError("region with " + std::to_string(block.numArguments()) + " arguments given " +
                         std::to_string(args.size()) + " values");
  std::unordered_map<const Value *, Tensor> env;
  for (size_t i = 0; i < args.size(); ++i)
    env[block.argument(i)] = *args[i];
  INFC_RETURN_IF_ERROR(evalBlock(block, env, InterpreterOptions{}));
  std::vector<Tensor> out;
  for (const Value *y : block.yields()) {
    auto it = env.find(y);
    if (it == env.end())
      return internalError("region yields '" + y->name() + "', which has no value");
    out.push_back(it->second);
  }
  return out;
}

Expected<std::vector<Tensor>> interpret(const Graph &graph, const std::vector<Tensor> &inputs,
                                        const InterpreterOptions &options) {
  const Block &body = graph.body();
  if (inputs.size() != body.numArguments())
    return invalidArgument("graph @" + graph.name() + " takes " + std::to_string(body.numArguments()) +
                           " inputs, got " + std::to_string(inputs.size()));
  std::unordered_map<const Value *, Tensor> env;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value *arg = body.argument(i);
    if (!tensorMatchesType(inputs[i], arg->type()))
      return invalidArgument("input '" + arg->name() + "' is " + std::string(dtypeName(inputs[i].dtype())) +
                             " " + shapeStr(inputs[i].shape()) + ", expected " + arg->type().str());
    env[arg] = inputs[i];
  }
  INFC_RETURN_IF_ERROR(evalBlock(body, env, options));
  std::vector<Tensor> outs;
  for (const GraphOutput &o : graph.outputs()) {
    auto it = env.find(o.value);
    if (it == env.end())
      return internalError("graph output '" + o.name + "' has no value");
    outs.push_back(it->second);
  }
  return outs;
}

} // namespace infc
