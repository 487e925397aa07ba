// fuse-elementwise: a chain of elementwise ops, each the only reader of the previous one's result,
// becomes one infc.fused op whose region holds the chain (one generated kernel; the intermediate
// tensors never reach memory):
//   z = sigmoid(x * 0.5 + 1) - w        -> z = infc.fused(x, 0.5, 1, w) ({ ^(...): mul, add, sigmoid, sub; yield })
// Members compute in their float result type (f32, f16, bf16) from operands of that type, keep the
// chain's shape (operands may broadcast into it), and float-to-float Casts join (they round as the
// unfused Cast stores). Comparisons, logic, Where and bit shifts do not. A chain may start with
// the dequantization of int8 and end with a quantization to e4m3 or int8 (the quantization
// passes'). Runs last in the infc.* pipeline (--opt-level 3), after the epilogue, attention and
// layout passes have taken their ops, and again after the quantization passes.
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <unordered_map>

namespace infc {
namespace {

bool gpuFloat(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

/// An op the fused kernel can compute in its result type.
bool chainable(const Operation &op) {
  if (op.numResults() != 1 || !op.result()->type().isStatic())
    return false;
  // Quantization to e4m3 or int8 by a scalar scale (quantize-fp8's, quantize-int8's), the last
  // member of a chain: its operand is of the chain's type, its result is stored in e4m3 or int8.
  if (op.is(OpKind::OnnxQuantizeLinear))
    return scalarQuantization(op) && gpuFloat(op.operand(0)->type().elem());
  // Dequantization of int8 (quantize-int8-matmul's) or e4m3 (explicit Q/DQ models) by a scalar
  // scale of the chain's type, the first member (its operand is read from memory as it is).
  if (op.is(OpKind::OnnxDequantizeLinear))
    return scalarDequantization(op, true) && gpuFloat(op.result()->type().elem());
  if (op.is(OpKind::OnnxCast))
    return gpuFloat(op.operand(0)->type().elem()) && gpuFloat(op.result()->type().elem());
  switch (op.kind()) {
  case OpKind::OnnxEqual: case OpKind::OnnxGreater: case OpKind::OnnxGreaterOrEqual: case OpKind::OnnxLess:
  case OpKind::OnnxLessOrEqual: case OpKind::OnnxAnd: case OpKind::OnnxOr: case OpKind::OnnxXor: case OpKind::OnnxNot:
  case OpKind::OnnxWhere: case OpKind::OnnxBitShift: case OpKind::OnnxCastLike: case OpKind::OnnxIsNaN: case OpKind::OnnxIsInf:
    return false;
  default: break;
  }
  if (!hasTrait(op.kind(), kElementwise) || op.info().dialect != "onnx")
    return false;
  DType t = op.result()->type().elem();
  if (!gpuFloat(t))
    return false;
  for (const Value *v : op.operands())
    if (!v || v->type().elem() != t)
      return false;
  return true;
}

class FuseElementwisePass final : public Pass {
public:
  std::string_view name() const override { return "fuse-elementwise"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      if (!chainable(*op))
        return false;
      std::vector<Operation *> chain = {op};
      Value *cur = op->result();
      while (Operation *u = soleUser(cur)) {
        if (!chainable(*u) || u->result()->type().staticShape() != cur->type().staticShape() ||
            chain.back()->is(OpKind::OnnxQuantizeLinear))
          break;
        chain.push_back(u);
        cur = u->result();
      }
      if (chain.size() < 2)
        return false;
      ctx.remark(name(), [&] {
        std::string ops;
        for (const Operation *c : chain)
          ops += (ops.empty() ? "" : ", ") + std::string(c->name());
        return "fused " + std::to_string(chain.size()) + " elementwise ops into one kernel: " + ops;
      });
      fuse(chain);
      ctx.stat(name(), "ops-fused") += static_cast<int64_t>(chain.size());
      ++ctx.stat(name(), "kernels");
      return true;
    });
  }

private:
  static void fuse(const std::vector<Operation *> &chain) {
    Operation *last = chain.back();
    Block &block = *last->parentBlock();
    Graph &graph = *block.graph();
    // External inputs, in order of first use (the fused kernel's argument order).
    std::vector<Value *> ins;
    for (Operation *c : chain)
      for (Value *v : c->operands()) {
        bool inner = std::any_of(chain.begin(), chain.end(), [&](Operation *o) { return o->result() == v; });
        if (!inner && std::find(ins.begin(), ins.end(), v) == ins.end())
          ins.push_back(v);
      }
    std::vector<const Location *> parts;
    for (Operation *c : chain)
      parts.push_back(&c->loc());
    Operation *fused = block.create(OpKind::InfcFused, ins, {last->result()->type()}, {}, Location::fused(parts), last);
    Block &body = fused->addRegion();
    std::unordered_map<const Value *, Value *> map;
    for (Value *v : ins)
      map[v] = body.addArgument(v->name() + ".in", v->type());
    std::vector<std::string> names;
    for (Operation *c : chain) {
      std::vector<Value *> operands;
      for (Value *v : c->operands())
        operands.push_back(map.at(v));
      names.push_back(c->result()->name());
      Operation *copy = body.create(c->kind(), operands, {c->result()->type()}, c->attrs(), c->loc(), nullptr,
                                    {c->result()->name() + ".tmp"});
      map[c->result()] = copy->result();
    }
    Value *yielded = map.at(last->result());
    body.setYields({yielded});
    last->result()->replaceAllUsesWith(fused->result());
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
      (*it)->erase();
    // The names the user knows: the fused result is the chain's last value; inside, each
    // intermediate keeps its own name (the last one, taken by the result, gets ".body").
    graph.renameValue(fused->result(), names.back());
    auto bodyOps = body.opPointers();
    for (size_t i = 0; i < bodyOps.size(); ++i) {
      std::string n = i + 1 < bodyOps.size() ? names[i] : names[i] + ".body";
      while (graph.nameInUse(n))
        n += "_";
      graph.renameValue(bodyOps[i]->result(), n);
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() { return std::make_unique<FuseElementwisePass>(); }

} // namespace infc
