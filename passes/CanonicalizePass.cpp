// canonicalize: local simplifications, applied op by op until none matches.
#include "ir/OpHooks.h"
#include "ir/ops/ConvGeometry.h"
#include "passes/Pass.h"

#include <numeric>

namespace infc {
namespace {

/// Replaces `op`'s single result by `v` and erases `op`. `v` must have the same type, or the op's
/// result type is at least as precise and we keep the more precise one on `v`'s side only if
/// they are compatible; callers check types first.
void replaceOpWith(Operation &op, Value *v) {
  op.result()->replaceAllUsesWith(v);
  op.erase();
}

/// Two types that describe the same tensors (dtype and dims equal; symbolic dims by name).
bool sameType(const TensorType &a, const TensorType &b) { return a == b; }

std::optional<std::vector<int64_t>> constInts(const Value *v) {
  const Tensor *t = getConstantValue(v);
  if (!t || !isInteger(t->dtype()))
    return std::nullopt;
  std::vector<int64_t> r;
  for (int64_t i = 0; i < t->numElements(); ++i)
    r.push_back(t->getInt(i));
  return r;
}

/// The Transpose permutation (default: reversed dims), or nullopt when the rank is unknown.
std::optional<std::vector<int64_t>> transposePerm(const Operation &op) {
  Expected<std::vector<int64_t>> perm = op.attrs().getInts("perm", std::vector<int64_t>{});
  if (!perm.isOk())
    return std::nullopt;
  if (!perm->empty())
    return *perm;
  const TensorType &t = op.operand(0)->type();
  if (!t.isRanked())
    return std::nullopt;
  std::vector<int64_t> p(static_cast<size_t>(t.rank()));
  std::iota(p.rbegin(), p.rend(), 0);
  return p;
}

// identity(x) -> x
struct RemoveIdentity : RewritePattern {
  std::string_view description() const override { return "identity(x) -> x"; }
  bool match(const Operation &op) const override { return op.is(OpKind::OnnxIdentity) && op.hasOperand(0); }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    replaceOpWith(op, op.operand(0));
    return true;
  }
};

// dropout(x) -> x in inference (training_mode absent or constant false; mask unused)
struct RemoveInferenceDropout : RewritePattern {
  std::string_view description() const override { return "dropout(x) -> x (inference)"; }
  bool match(const Operation &op) const override {
    if (!op.is(OpKind::OnnxDropout) || !op.hasOperand(0))
      return false;
    if (op.numResults() > 1 && op.result(1)->hasUses())
      return false;
    if (op.hasOperand(2)) {
      const Tensor *training = getConstantValue(op.operand(2));
      if (!training || training->numElements() != 1 || training->getInt(0) != 0)
        return false;
    }
    return true;
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    op.result(0)->replaceAllUsesWith(op.operand(0));
    op.erase();
    return true;
  }
};

// cast(x : T) -> T  =>  x
struct RemoveNoopCast : RewritePattern {
  std::string_view description() const override { return "cast(x) to x's own dtype -> x"; }
  bool match(const Operation &op) const override {
    if (!(op.is(OpKind::OnnxCast) || op.is(OpKind::OnnxCastLike)) || !op.hasOperand(0))
      return false;
    return op.operand(0)->type().elem() == op.result()->type().elem() &&
           sameType(op.operand(0)->type(), op.result()->type());
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    replaceOpWith(op, op.operand(0));
    return true;
  }
};

// reshape/expand/squeeze/unsqueeze/flatten(x) with result type == x's static type -> x
struct RemoveNoopShapeOp : RewritePattern {
  std::string_view description() const override { return "reshape-like(x) with an unchanged static shape -> x"; }
  bool match(const Operation &op) const override {
    bool shapeOp = op.is(OpKind::OnnxReshape) || op.is(OpKind::OnnxExpand) || op.is(OpKind::OnnxSqueeze) ||
                   op.is(OpKind::OnnxUnsqueeze) || op.is(OpKind::OnnxFlatten);
    if (!shapeOp || !op.hasOperand(0))
      return false;
    const TensorType &in = op.operand(0)->type();
    return in.isStatic() && sameType(in, op.result()->type());
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    replaceOpWith(op, op.operand(0));
    return true;
  }
};

// transpose(x, identity perm) -> x
struct RemoveIdentityTranspose : RewritePattern {
  std::string_view description() const override { return "transpose(x, [0, 1, ...]) -> x"; }
  bool match(const Operation &op) const override {
    if (!op.is(OpKind::OnnxTranspose) || !op.hasOperand(0))
      return false;
    auto perm = transposePerm(op);
    if (!perm)
      return false;
    for (size_t i = 0; i < perm->size(); ++i)
      if ((*perm)[i] != static_cast<int64_t>(i))
        return false;
    return sameType(op.operand(0)->type(), op.result()->type());
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    replaceOpWith(op, op.operand(0));
    return true;
  }
};

// transpose(transpose(x, p1), p2) -> transpose(x, p1[p2])
struct MergeTransposes : RewritePattern {
  std::string_view description() const override { return "transpose(transpose(x, p1), p2) -> transpose(x, p1[p2])"; }
  bool match(const Operation &op) const override {
    if (!op.is(OpKind::OnnxTranspose) || !op.hasOperand(0))
      return false;
    const Operation *inner = op.operand(0)->definingOp();
    return inner && inner->is(OpKind::OnnxTranspose) && inner->hasOperand(0) && transposePerm(op) &&
           transposePerm(*inner);
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    Operation *inner = op.operand(0)->definingOp();
    std::vector<int64_t> p1 = *transposePerm(*inner), p2 = *transposePerm(op);
    if (p1.size() != p2.size())
      return false;
    std::vector<int64_t> composed(p2.size());
    for (size_t i = 0; i < p2.size(); ++i) {
      if (p2[i] < 0 || p2[i] >= static_cast<int64_t>(p1.size()))
        return false;
      composed[i] = p1[static_cast<size_t>(p2[i])];
    }
    op.attrs().set("perm", composed);
    op.setOperand(0, inner->operand(0));
    return true;
  }
};

// reshape(reshape(x, s1), s2) -> reshape(x, s2) when s2 is constant without 0 (copy) entries
struct MergeReshapes : RewritePattern {
  std::string_view description() const override { return "reshape(reshape(x, s1), s2) -> reshape(x, s2)"; }
  bool match(const Operation &op) const override {
    if (!op.is(OpKind::OnnxReshape) || !op.hasOperand(0) || !op.hasOperand(1))
      return false;
    const Operation *inner = op.operand(0)->definingOp();
    if (!inner || !inner->is(OpKind::OnnxReshape) || !inner->hasOperand(0))
      return false;
    auto shape = constInts(op.operand(1));
    if (!shape)
      return false;
    for (int64_t d : *shape)
      if (d == 0)
        return false;
    return true;
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    op.setOperand(0, op.operand(0)->definingOp()->operand(0));
    return true;
  }
};

// concat(x) with a single input -> x
struct RemoveSingleConcat : RewritePattern {
  std::string_view description() const override { return "concat(x) -> x"; }
  bool match(const Operation &op) const override {
    return op.is(OpKind::OnnxConcat) && op.numOperands() == 1 && op.hasOperand(0) &&
           sameType(op.operand(0)->type(), op.result()->type());
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    replaceOpWith(op, op.operand(0));
    return true;
  }
};

// conv/pool {auto_pad = SAME_*|VALID} -> {pads = explicit} once the spatial sizes are static, so
// nothing downstream resolves auto_pad again (ConvTranspose keeps it: output_shape interplays)
struct ResolveAutoPad : RewritePattern {
  std::string_view description() const override { return "auto_pad -> explicit pads (static spatial dims)"; }
  bool match(const Operation &op) const override {
    if (!op.is(OpKind::OnnxConv) && !op.is(OpKind::OnnxMaxPool) && !op.is(OpKind::OnnxAveragePool))
      return false;
    Expected<std::string> ap = op.attrs().getString("auto_pad", "NOTSET");
    if (!ap.isOk() || *ap == "NOTSET" || !op.attrs().has("auto_pad"))
      return false;
    const TensorType &x = op.operand(0)->type();
    if (!x.isRanked() || x.rank() < 3)
      return false;
    for (int64_t d = 2; d < x.rank(); ++d)
      if (!x.dim(d).isStatic())
        return false;
    return !op.is(OpKind::OnnxConv) || op.operand(1)->type().isStatic();
  }
  Expected<bool> rewrite(Operation &op, PassContext &) const override {
    const TensorType &x = op.operand(0)->type();
    std::vector<int64_t> in, kernel;
    for (int64_t d = 2; d < x.rank(); ++d)
      in.push_back(x.dim(d).value);
    if (op.is(OpKind::OnnxConv)) {
      std::vector<int64_t> ws = op.operand(1)->type().staticShape();
      kernel.assign(ws.begin() + 2, ws.end());
    } else {
      INFC_ASSIGN_OR_RETURN(kernel, op.attrs().getInts("kernel_shape"));
    }
    if (kernel.size() != in.size())
      return false; // shape inference reports the mismatch
    Expected<ops::WindowGeometry> g = ops::windowGeometry(op.attrs(), kernel, in, false);
    if (!g.isOk())
      return op.error(g.status().message());
    std::vector<int64_t> pads = g->padsBegin;
    pads.insert(pads.end(), g->padsEnd.begin(), g->padsEnd.end());
    op.attrs().erase("auto_pad");
    op.attrs().set("pads", pads);
    return true;
  }
};

class CanonicalizePass final : public Pass {
public:
  CanonicalizePass() {
    patterns_.push_back(std::make_unique<ResolveAutoPad>());
    patterns_.push_back(std::make_unique<RemoveIdentity>());
    patterns_.push_back(std::make_unique<RemoveInferenceDropout>());
    patterns_.push_back(std::make_unique<RemoveNoopCast>());
    patterns_.push_back(std::make_unique<RemoveNoopShapeOp>());
    patterns_.push_back(std::make_unique<RemoveIdentityTranspose>());
    patterns_.push_back(std::make_unique<MergeTransposes>());
    patterns_.push_back(std::make_unique<MergeReshapes>());
    patterns_.push_back(std::make_unique<RemoveSingleConcat>());
  }
  std::string_view name() const override { return "canonicalize"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    for (bool again = true; again;) {
      again = false;
      for (Operation *op : graph.body().opPointers()) {
        for (const auto &p : patterns_) {
          if (!p->match(*op))
            continue;
          INFC_ASSIGN_OR_RETURN(bool did, p->rewrite(*op, ctx));
          if (did) {
            ++ctx.stat(name(), std::string(p->description()));
            again = changed = true;
            break; // op may be gone
          }
        }
      }
    }
    return changed;
  }

private:
  std::vector<std::unique_ptr<RewritePattern>> patterns_;
};

} // namespace

std::unique_ptr<Pass> createCanonicalizePass() { return std::make_unique<CanonicalizePass>(); }

} // namespace infc
