// shape-infer: recomputes every result type from operand types, op by op, in block order.
#include "ir/OpHooks.h"
#include "passes/Pass.h"

namespace infc {
namespace {

/// Combines a freshly inferred type with what the value had (e.g. declared value_info from the
/// model). Inference wins wherever it knows something; a `?` it could not resolve keeps the old
/// static or symbolic dim, so declared facts survive ops whose output shape is data dependent.
TensorType refine(const TensorType &old, const TensorType &inferred) {
  if (!inferred.isRanked()) {
    if (old.isRanked() && old.elem() == inferred.elem())
      return old;
    return inferred;
  }
  if (!old.isRanked() || old.rank() != inferred.rank() || old.elem() != inferred.elem())
    return inferred;
  std::vector<Dim> dims = inferred.shape();
  for (size_t i = 0; i < dims.size(); ++i)
    if (!dims[i].isStatic() && dims[i].symbol.empty())
      dims[i] = old.shape()[i];
  return TensorType(inferred.elem(), std::move(dims));
}

class ShapeInferPass final : public Pass {
public:
  std::string_view name() const override { return "shape-infer"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    for (auto &op : graph.body().ops()) {
      std::vector<TensorType> before;
      for (Value *r : op->results())
        before.push_back(r->type());
      INFC_RETURN_IF_ERROR(inferShapes(*op));
      for (size_t i = 0; i < op->numResults(); ++i) {
        Value *r = op->result(i);
        TensorType refined = refine(before[i], r->type());
        if (refined.elem() == DType::Undefined)
          return internalError(op->describe() + ": shape inference left result '" + r->name() + "' untyped");
        r->setType(refined);
        if (refined != before[i]) {
          changed = true;
          ++ctx.stat(name(), "types-refined");
        }
      }
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createShapeInferPass() { return std::make_unique<ShapeInferPass>(); }

} // namespace infc
