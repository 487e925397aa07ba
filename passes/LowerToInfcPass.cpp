// lower-to-infc: onnx.* ops that have an optimized form become infc.* ops, with every implicit
// choice made explicit once: auto_pad resolved into pads, defaults written out.
//   onnx.Conv(x, w, b)            -> infc.conv(x, w, b) {strides, dilations, pads, group}
//   onnx.MaxPool / AveragePool(x) -> infc.pool(x) {kind, kernel_shape, strides, dilations, pads}
//   onnx.LayerNormalization / InstanceNormalization / GroupNormalization -> infc.norm {kind}
// Ops whose spatial sizes are unknown (auto_pad needs them) stay in the onnx dialect.
#include "ir/InfcAttrs.h"
#include "ir/OpHooks.h"
#include "ir/ops/ConvGeometry.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

namespace infc {
namespace {

std::optional<std::vector<int64_t>> knownSpatial(const Value *x) {
  const TensorType &t = x->type();
  if (!t.isRanked() || t.rank() < 3)
    return std::nullopt;
  std::vector<int64_t> in;
  for (int64_t d = 2; d < t.rank(); ++d) {
    if (!t.dim(d).isStatic())
      return std::nullopt;
    in.push_back(t.dim(d).value);
  }
  return in;
}

std::vector<int64_t> explicitPads(const ops::WindowGeometry &g) {
  std::vector<int64_t> pads = g.padsBegin;
  pads.insert(pads.end(), g.padsEnd.begin(), g.padsEnd.end());
  return pads;
}

/// onnx.Conv(x, w, b) -> infc.conv(x, w, b): same math, explicit pads.
Expected<bool> lowerConv(Operation *op) {
  const TensorType &wt = op->operand(1)->type();
  std::optional<std::vector<int64_t>> in = knownSpatial(op->operand(0));
  if (!in || !wt.isStatic() || op->result()->type().rank() != wt.rank())
    return false;
  std::vector<int64_t> ws = wt.staticShape();
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  INFC_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::windowGeometry(op->attrs(), kernel, *in, false));
  ConvAttrs a;
  a.strides = g.strides;
  a.dilations = g.dilations;
  a.pads = explicitPads(g);
  INFC_ASSIGN_OR_RETURN(a.group, op->attrs().getInt("group", 1));
  AttrMap m;
  a.write(m);
  std::vector<Value *> operands = {op->operand(0), op->operand(1)};
  if (op->hasOperand(2))
    operands.push_back(op->operand(2));
  replaceWithOp(op, OpKind::InfcConv, operands, std::move(m), op->result()->type(), op->loc());
  return true;
}

/// onnx.MaxPool / AveragePool(x) -> infc.pool(x) {kind}: only without a used Indices output.
Expected<bool> lowerPool(Operation *op) {
  if (op->numResults() > 1 && op->result(1)->hasUses())
    return false;
  std::optional<std::vector<int64_t>> in = knownSpatial(op->operand(0));
  if (!in)
    return false;
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, op->attrs().getInts("kernel_shape"));
  INFC_ASSIGN_OR_RETURN(ops::WindowGeometry g, ops::windowGeometry(op->attrs(), kernel, *in, false));
  PoolAttrs a;
  a.isMax = op->is(OpKind::OnnxMaxPool);
  a.kernel = kernel;
  a.strides = g.strides;
  a.dilations = g.dilations;
  a.pads = explicitPads(g);
  a.ceilMode = g.ceilMode;
  INFC_ASSIGN_OR_RETURN(int64_t cip, op->attrs().getInt("count_include_pad", 0));
  a.countIncludePad = !a.isMax && cip != 0;
  AttrMap m;
  a.write(m);
  // MaxPool's optional Indices result goes away with the op (it has no uses).
  replaceWithOp(op, OpKind::InfcPool, {op->operand(0)}, std::move(m), op->result(0)->type(), op->loc());
  return true;
}

/// onnx.LayerNormalization / InstanceNormalization / GroupNormalization(x, scale, bias) ->
/// infc.norm {kind}: for static x, with one scale and bias value per element of a row (layer) or
/// per channel (instance; group in its opset-21 form), and LayerNormalization's Mean and
/// InvStdDev results unused.
Expected<bool> lowerNorm(Operation *op) {
  for (size_t r = 1; r < op->numResults(); ++r)
    if (op->result(r)->hasUses())
      return false;
  const TensorType &x = op->operand(0)->type();
  if (!x.isStatic())
    return false;
  INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::fromOnnx(*op));
  Expected<NormGeometry> g = normGeometry(a, x.staticShape());
  if (!g.isOk())
    return false;
  std::vector<Value *> operands = {op->operand(0)};
  for (size_t i = 1; i < 3; ++i) {
    if (!op->hasOperand(i))
      continue;
    if (!g->fits(op->operand(i)->type()))
      return false; // broadcast parameters, or opset 18's one scale per group
    operands.push_back(op->operand(i));
  }
  AttrMap m;
  a.write(m);
  replaceWithOp(op, OpKind::InfcNorm, operands, std::move(m), op->result(0)->type(), op->loc());
  return true;
}

class LowerToInfcPass final : public Pass {
public:
  std::string_view name() const override { return "lower-to-infc"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    for (Operation *op : graph.body().opPointers()) {
      Expected<bool> done = false;
      if (op->is(OpKind::OnnxConv))
        done = lowerConv(op);
      else if (op->is(OpKind::OnnxMaxPool) || op->is(OpKind::OnnxAveragePool))
        done = lowerPool(op);
      else if (op->is(OpKind::OnnxLayerNormalization) || op->is(OpKind::OnnxInstanceNormalization) ||
               op->is(OpKind::OnnxGroupNormalization))
        done = lowerNorm(op);
      if (!done.isOk())
        return op->error(done.status().message());
      if (*done) {
        ++ctx.stat(name(), "ops-lowered");
        changed = true;
      }
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createLowerToInfcPass() { return std::make_unique<LowerToInfcPass>(); }

} // namespace infc
