// const-fold: replaces ops whose value is known at compile time by onnx.Constant.
//   op(const, const, ...)            -> Constant(evaluate(op))      (reference interpreter)
//   Shape(x), x with static dims     -> Constant(dims of x)
//   Size(x), x with static dims      -> Constant(numel(x))
//   Gather(Shape(x), const idx)      -> Constant(selected dims), when those dims are static
// This is what turns exporter shape subgraphs (Shape -> Gather -> Concat -> Reshape) into
// static shapes once the inputs are static.
#include "ir/Interpreter.h"
#include "ir/OpHooks.h"
#include "passes/Pass.h"

#include <optional>

namespace infc {
namespace {

/// Dims of `t` between ONNX Shape's start/end attributes (clamped as the spec says).
std::pair<int64_t, int64_t> shapeRange(const Operation &shapeOp, int64_t rank) {
  int64_t start = shapeOp.attrs().getInt("start", 0).isOk() ? *shapeOp.attrs().getInt("start", 0) : 0;
  int64_t end = shapeOp.attrs().getInt("end", rank).isOk() ? *shapeOp.attrs().getInt("end", rank) : rank;
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::max<int64_t>(0, std::min(v, rank));
  };
  return {clamp(start), clamp(end)};
}

/// Known value of a Shape op result, element by element (nullopt where the dim is dynamic).
std::optional<std::vector<std::optional<int64_t>>> partialShapeValue(const Value *v) {
  const Operation *def = v->definingOp();
  if (!def || !def->is(OpKind::OnnxShape) || !def->hasOperand(0))
    return std::nullopt;
  const TensorType &t = def->operand(0)->type();
  if (!t.isRanked())
    return std::nullopt;
  auto [start, end] = shapeRange(*def, t.rank());
  std::vector<std::optional<int64_t>> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(t.dim(i).isStatic() ? std::optional<int64_t>(t.dim(i).value) : std::nullopt);
  return dims;
}

class ConstFoldPass final : public Pass {
public:
  std::string_view name() const override { return "const-fold"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    for (Operation *op : graph.body().opPointers()) {
      if (op->is(OpKind::OnnxConstant) || !hasTrait(op->kind(), kPure) || op->numRegions() != 0)
        continue;
      INFC_ASSIGN_OR_RETURN(std::optional<std::vector<Tensor>> folded, tryFold(*op, ctx));
      if (!folded)
        continue;
      replaceWithConstants(graph, op, *folded);
      ++ctx.stat(name(), "ops-folded");
      changed = true;
    }
    return changed;
  }

private:
  Expected<std::optional<std::vector<Tensor>>> tryFold(Operation &op, PassContext &ctx) {
    if (op.is(OpKind::OnnxShape) || op.is(OpKind::OnnxSize))
      return foldShapeOf(op);
    if (op.is(OpKind::OnnxGather))
      if (auto r = foldGatherOfShape(op))
        return r;

    std::vector<const Tensor *> operands;
    for (Value *v : op.operands()) {
      if (!v) {
        operands.push_back(nullptr);
        continue;
      }
      const Tensor *c = getConstantValue(v);
      if (!c)
        return std::optional<std::vector<Tensor>>();
      operands.push_back(c);
    }
    // Don't materialize huge constants (e.g. Expand of a scalar to an activation-sized
    // tensor): they would bloat the engine; computing them at run time is cheap.
    for (Value *r : op.results()) {
      std::optional<int64_t> n = r->type().numElements();
      if (!n || *n * static_cast<int64_t>(dtypeSize(r->type().elem())) > ctx.maxFoldBytes)
        return std::optional<std::vector<Tensor>>();
    }
    Expected<std::vector<Tensor>> results = evaluateOp(op, operands);
    if (!results.isOk()) {
      // An op that fails on constant inputs fails the same way at run time: report it now.
      return results.status();
    }
    for (size_t i = 0; i < op.numResults(); ++i)
      if (!tensorMatchesType((*results)[i], op.result(i)->type()))
        return internalError(op.describe() + ": folded value does not match the inferred type " +
                             op.result(i)->type().str());
    return std::optional<std::vector<Tensor>>(std::move(*results));
  }

  std::optional<std::vector<Tensor>> foldShapeOf(const Operation &op) {
    const TensorType &t = op.operand(0)->type();
    if (!t.isStatic())
      return std::nullopt;
    if (op.is(OpKind::OnnxSize))
      return std::vector<Tensor>{Tensor::scalarI64(*t.numElements())};
    auto [start, end] = shapeRange(op, t.rank());
    std::vector<int64_t> dims;
    for (int64_t i = start; i < end; ++i)
      dims.push_back(t.dim(i).value);
    return std::vector<Tensor>{Tensor::fromI64(dims)};
  }

  std::optional<std::vector<Tensor>> foldGatherOfShape(const Operation &op) {
    if (!op.hasOperand(0) || !op.hasOperand(1))
      return std::nullopt;
    auto dims = partialShapeValue(op.operand(0));
    const Tensor *idx = getConstantValue(op.operand(1));
    if (!dims || !idx || idx->rank() > 1)
      return std::nullopt;
    int64_t n = static_cast<int64_t>(dims->size());
    Tensor out(DType::I64, idx->shape());
    for (int64_t i = 0; i < idx->numElements(); ++i) {
      int64_t k = idx->getInt(i);
      if (k < 0)
        k += n;
      if (k < 0 || k >= n || !(*dims)[static_cast<size_t>(k)])
        return std::nullopt;
      out.setInt(i, *(*dims)[static_cast<size_t>(k)]);
    }
    return std::vector<Tensor>{out};
  }

  void replaceWithConstants(Graph &graph, Operation *op, std::vector<Tensor> &values) {
    Block *block = op->parentBlock();
    std::vector<std::pair<Value *, std::string>> renames;
    for (size_t i = 0; i < op->numResults(); ++i) {
      Value *old = op->result(i);
      AttrMap attrs;
      attrs.set("value", values[i]);
      Operation *c = block->create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(values[i].dtype(), values[i].shape())},
                                   std::move(attrs), op->loc(), op, {old->name() + ".folded"});
      old->replaceAllUsesWith(c->result());
      renames.push_back({c->result(), old->name()});
    }
    op->erase();
    // The constants take over the folded values' names so the IR stays readable.
    for (auto &[v, n] : renames)
      graph.renameValue(v, n);
  }
};

} // namespace

std::unique_ptr<Pass> createConstFoldPass() { return std::make_unique<ConstFoldPass>(); }

} // namespace infc
