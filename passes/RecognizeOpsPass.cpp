// recognize-ops: decomposed ops as exporters write them become the op they compute, so that
// later passes and kernels see one op (and precision assignment sees no spurious Pow or Exp):
//   0.5 * (x * (1 + erf(x / sqrt(2))))              -> Gelu(x)
//   0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))) -> Gelu(x) {approximate = "tanh"}
//   x * HardSigmoid(x) {1/6, 0.5}, x * clip(x + 3, 0, 6) / 6 -> HardSwish(x)
//   clip(x + 3, 0, 6) / 6                           -> HardSigmoid(x) {alpha = 1/6, beta = 0.5}
//   (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* g + b], over the last axis
//                                                   -> LayerNormalization(x, g, b) {axis = -1}
//   x * reciprocal(sqrt(mean(x^2) + eps)) [* g], or x / sqrt(...) [* g], over the last axis
//                                                   -> infc.norm(x, g) {kind = "rms", axis = -1}
//   exp(x [- max(x)]) / sum(exp(x [- max(x)])) over one axis -> Softmax(x) {axis}
// Every intermediate value must be read by the pattern alone (and not be a graph output).
#include "ir/InfcAttrs.h"
#include "ir/OpHooks.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <cmath>

namespace infc {
namespace {

bool isScalar(const Value *v, double want, double tol = 1e-6) {
  std::optional<double> c = scalarValue(v);
  return c && std::fabs(*c - want) <= tol * std::max(1.0, std::fabs(want));
}

/// The operand of binary `op` that is not `v` (nullptr unless `v` is exactly one of them).
Value *otherOperand(const Operation *op, const Value *v) {
  if (!op || op->numOperands() != 2)
    return nullptr;
  if (op->operand(0) == v && op->operand(1) != v)
    return op->operand(1);
  if (op->operand(1) == v && op->operand(0) != v)
    return op->operand(0);
  return nullptr;
}

/// The only reader of `v` if it is of `kind`.
Operation *only(Value *v, OpKind kind) {
  Operation *u = soleUser(v);
  return u && u->is(kind) ? u : nullptr;
}

/// The single reduced axis of a keepdims reduction, normalized, or -1.
int64_t singleAxis(const Operation *r) {
  if (!r || !r->hasOperand(1) || !r->operand(0)->type().isRanked())
    return -1;
  const Tensor *axes = getConstantValue(r->operand(1));
  Expected<int64_t> keep = r->attrs().getInt("keepdims", 1);
  if (!axes || axes->numElements() != 1 || !keep.isOk() || *keep != 1)
    return -1;
  int64_t a = axes->getInt(0), rank = r->operand(0)->type().rank();
  return a < 0 ? a + rank : a;
}

/// Anchored at Erf: 0.5 * (x * (1 + erf(x / sqrt(2)))) in the order torch exports it.
bool gelu(Operation *erf) {
  Operation *scale = erf->operand(0)->definingOp();
  if (!scale || soleUser(scale->result()) != erf)
    return false;
  Value *x = nullptr;
  if (scale->is(OpKind::OnnxDiv) && isScalar(scale->operand(1), std::sqrt(2.0), 1e-5))
    x = scale->operand(0);
  else if (scale->is(OpKind::OnnxMul))
    for (size_t i = 0; i < 2 && !x; ++i)
      if (isScalar(scale->operand(1 - i), std::sqrt(0.5), 1e-5))
        x = scale->operand(i);
  if (!x)
    return false;
  Operation *add = only(erf->result(), OpKind::OnnxAdd);
  if (!add || !isScalar(otherOperand(add, erf->result()), 1.0))
    return false;
  Operation *m1 = only(add->result(), OpKind::OnnxMul);
  if (!m1 || otherOperand(m1, add->result()) != x)
    return false;
  Operation *m2 = only(m1->result(), OpKind::OnnxMul);
  if (!m2 || !isScalar(otherOperand(m2, m1->result()), 0.5) || m2->result()->type() != x->type())
    return false;
  replacePattern({scale, erf, add, m1, m2}, OpKind::OnnxGelu, {x}, {});
  return true;
}

/// x^3 written as Pow(x, 3) or x * x * x (either nesting), read only by `reader`: x, else nullptr.
Value *cubeOf(Value *v, const Operation *reader, std::vector<Operation *> &ops) {
  Operation *d = v->definingOp();
  if (!d || soleUser(v) != reader)
    return nullptr;
  if (d->is(OpKind::OnnxPow) && isScalar(d->operand(1), 3.0)) {
    ops.push_back(d);
    return d->operand(0);
  }
  if (!d->is(OpKind::OnnxMul))
    return nullptr;
  for (size_t i = 0; i < 2; ++i) {
    Operation *sq = d->operand(i)->definingOp();
    Value *x = d->operand(1 - i);
    if (sq && sq->is(OpKind::OnnxMul) && sq->operand(0) == x && sq->operand(1) == x && soleUser(sq->result()) == d) {
      ops.push_back(d);
      ops.push_back(sq);
      return x;
    }
  }
  return nullptr;
}

/// Anchored at Tanh: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), as torch exports
/// GELU(approximate='tanh') and GPT-2's gelu_new, the 0.5 applied to x or to the product
///                                                 -> Gelu(x) {approximate = "tanh"}
bool geluTanh(Operation *tanh) {
  std::vector<Operation *> ops = {tanh};
  Operation *scale = tanh->operand(0)->definingOp();
  if (!scale || !scale->is(OpKind::OnnxMul) || soleUser(scale->result()) != tanh)
    return false;
  Value *inner = nullptr;
  for (size_t i = 0; i < 2 && !inner; ++i)
    if (isScalar(scale->operand(1 - i), std::sqrt(2.0 / M_PI), 1e-5))
      inner = scale->operand(i);
  Operation *add = inner ? inner->definingOp() : nullptr;
  if (!add || !add->is(OpKind::OnnxAdd) || soleUser(inner) != scale)
    return false;
  ops.insert(ops.end(), {scale, add});
  Value *x = nullptr;
  for (size_t i = 0; i < 2 && !x; ++i) {
    Operation *mc = add->operand(1 - i)->definingOp();
    if (!mc || !mc->is(OpKind::OnnxMul) || soleUser(mc->result()) != add)
      continue;
    for (size_t j = 0; j < 2 && !x; ++j) {
      std::vector<Operation *> cube;
      if (isScalar(mc->operand(1 - j), 0.044715, 1e-5) && cubeOf(mc->operand(j), mc, cube) == add->operand(i)) {
        x = add->operand(i);
        ops.push_back(mc);
        ops.insert(ops.end(), cube.begin(), cube.end());
      }
    }
  }
  Operation *onePlus = x ? only(tanh->result(), OpKind::OnnxAdd) : nullptr;
  if (!onePlus || !isScalar(otherOperand(onePlus, tanh->result()), 1.0))
    return false;
  ops.push_back(onePlus);
  Operation *prod = only(onePlus->result(), OpKind::OnnxMul);
  if (!prod)
    return false;
  ops.push_back(prod);
  Value *other = otherOperand(prod, onePlus->result());
  Operation *half = other ? other->definingOp() : nullptr;
  if (other == x) {
    // x * (1 + tanh(...)) * 0.5
    Operation *last = only(prod->result(), OpKind::OnnxMul);
    if (!last || !isScalar(otherOperand(last, prod->result()), 0.5))
      return false;
    ops.push_back(last);
  } else if (half && half->is(OpKind::OnnxMul) && soleUser(other) == prod && otherOperand(half, x) &&
             isScalar(otherOperand(half, x), 0.5)) {
    ops.push_back(half); // (x * 0.5) * (1 + tanh(...))
  } else {
    return false;
  }
  if (ops.back()->result()->type() != x->type() && prod->result()->type() != x->type())
    return false;
  sortInProgramOrder(ops);
  AttrMap a;
  a.set("approximate", std::string("tanh"));
  replacePattern(ops, OpKind::OnnxGelu, {x}, a);
  return true;
}

/// Anchored at Add(x, 3): clip(x + 3, 0, 6) / 6 [times x] -> HardSigmoid / HardSwish.
bool hardActivation(Operation *add) {
  Value *x = nullptr;
  for (size_t i = 0; i < 2 && !x; ++i)
    if (isScalar(add->operand(1 - i), 3.0))
      x = add->operand(i);
  Operation *clip = x ? only(add->result(), OpKind::OnnxClip) : nullptr;
  if (!clip || !clip->hasOperand(1) || !clip->hasOperand(2) || !isScalar(clip->operand(1), 0.0) ||
      !isScalar(clip->operand(2), 6.0))
    return false;
  Operation *next = soleUser(clip->result());
  if (next && next->is(OpKind::OnnxDiv) && next->operand(0) == clip->result() && isScalar(next->operand(1), 6.0)) {
    // clip(x + 3, 0, 6) / 6, and x * that: HardSwish.
    Operation *times = only(next->result(), OpKind::OnnxMul);
    if (times && otherOperand(times, next->result()) == x) {
      replacePattern({add, clip, next, times}, OpKind::OnnxHardSwish, {x}, {});
      return true;
    }
    AttrMap a;
    a.set("alpha", 1.0f / 6.0f);
    a.set("beta", 0.5f);
    replacePattern({add, clip, next}, OpKind::OnnxHardSigmoid, {x}, a);
    return true;
  }
  if (next && next->is(OpKind::OnnxMul) && otherOperand(next, clip->result()) == x) {
    // x * clip(x + 3, 0, 6) / 6
    Operation *div = only(next->result(), OpKind::OnnxDiv);
    if (div && div->operand(0) == next->result() && isScalar(div->operand(1), 6.0)) {
      replacePattern({add, clip, next, div}, OpKind::OnnxHardSwish, {x}, {});
      return true;
    }
  }
  return false;
}

/// Anchored at HardSigmoid {1/6, 0.5}: x * HardSigmoid(x) -> HardSwish(x).
bool hardSwishFromSigmoid(Operation *hs) {
  Expected<float> alpha = hs->attrs().getFloat("alpha", 0.2f), beta = hs->attrs().getFloat("beta", 0.5f);
  if (!alpha.isOk() || !beta.isOk() || std::fabs(*alpha - 1.0f / 6.0f) > 1e-6f || *beta != 0.5f)
    return false;
  Value *x = hs->operand(0);
  Operation *mul = only(hs->result(), OpKind::OnnxMul);
  if (!mul || otherOperand(mul, hs->result()) != x)
    return false;
  replacePattern({hs, mul}, OpKind::OnnxHardSwish, {x}, {});
  return true;
}

/// Whether `v` is a constant of D values of `x`'s dtype (a per-channel scale or shift).
bool channelConst(const Value *v, const Value *x, int64_t D) {
  const Tensor *t = v ? getConstantValue(v) : nullptr;
  return t && t->rank() == 1 && t->numElements() == D && t->dtype() == x->type().elem();
}

/// A constant of D ones (the scale of a normalization written without one), before `at`.
Value *onesScale(Operation *at, const Value *x, int64_t D, const std::string &suffix) {
  Tensor ones(x->type().elem(), {D});
  for (int64_t i = 0; i < D; ++i)
    ones.setDouble(i, 1.0);
  return createConstant(*at->parentBlock(), ones, x->name() + suffix, at);
}

/// Anchored at the first ReduceMean: the LayerNorm decomposition over the last axis.
bool layerNorm(Operation *mean) {
  Value *x = mean->operand(0);
  if (!x->type().isRanked() || singleAxis(mean) != x->type().rank() - 1)
    return false;
  Operation *sub = only(mean->result(), OpKind::OnnxSub);
  if (!sub || sub->operand(0) != x || sub->operand(1) != mean->result())
    return false;
  Value *d = sub->result();
  if (d->users().size() != 2 || d->isGraphOutput())
    return false;
  Operation *pow = nullptr, *div = nullptr;
  for (Operation *u : d->users()) {
    if (u->is(OpKind::OnnxPow) && u->operand(0) == d && isScalar(u->operand(1), 2.0))
      pow = u;
    else if (u->is(OpKind::OnnxDiv) && u->operand(0) == d)
      div = u;
  }
  if (!pow || !div)
    return false;
  Operation *var = only(pow->result(), OpKind::OnnxReduceMean);
  if (!var || singleAxis(var) != x->type().rank() - 1)
    return false;
  Operation *addEps = only(var->result(), OpKind::OnnxAdd);
  Value *epsV = addEps ? otherOperand(addEps, var->result()) : nullptr;
  const Tensor *epsT = epsV ? getConstantValue(epsV) : nullptr;
  if (!epsT || epsT->numElements() != 1)
    return false;
  Operation *sqrt = only(addEps->result(), OpKind::OnnxSqrt);
  if (!sqrt || div->operand(1) != sqrt->result() || soleUser(sqrt->result()) != div)
    return false;
  std::vector<Operation *> ops = {mean, sub, pow, var, addEps, sqrt, div};
  int64_t D = x->type().dim(x->type().rank() - 1).value;
  Value *gamma = nullptr, *beta = nullptr;
  Operation *mulG = only(div->result(), OpKind::OnnxMul);
  if (mulG && channelConst(otherOperand(mulG, div->result()), x, D)) {
    gamma = otherOperand(mulG, div->result());
    ops.push_back(mulG);
    Operation *addB = only(mulG->result(), OpKind::OnnxAdd);
    if (addB && channelConst(otherOperand(addB, mulG->result()), x, D)) {
      beta = otherOperand(addB, mulG->result());
      ops.push_back(addB);
    }
  }
  if (D <= 0 || ops.back()->result()->type() != x->type())
    return false;
  if (!gamma)
    gamma = onesScale(mean, x, D, ".ln_scale");
  AttrMap a;
  a.set("axis", int64_t(-1));
  a.set("epsilon", static_cast<float>(epsT->getDouble(0)));
  std::vector<Value *> operands = {x, gamma};
  if (beta)
    operands.push_back(beta);
  replacePattern(ops, OpKind::OnnxLayerNormalization, operands, a);
  return true;
}

/// Anchored at ReduceMean: RMSNorm as exporters write it (Llama's `x * rsqrt(mean(x^2) + eps) * g`):
/// mean(x^2 or x*x) over the last axis + eps -> Sqrt -> Reciprocal -> Mul with x (or x / Sqrt),
/// then an optional Mul by a [D] constant -> infc.norm {kind = "rms"}.
bool rmsNorm(Operation *mean) {
  Operation *sq = mean->operand(0)->definingOp();
  if (!sq || soleUser(sq->result()) != mean)
    return false;
  Value *x = nullptr;
  if (sq->is(OpKind::OnnxPow) && isScalar(sq->operand(1), 2.0))
    x = sq->operand(0);
  else if (sq->is(OpKind::OnnxMul) && sq->operand(0) == sq->operand(1))
    x = sq->operand(0);
  if (!x || !x->type().isStatic() || singleAxis(mean) != x->type().rank() - 1)
    return false;
  Expected<int64_t> keep = mean->attrs().getInt("keepdims", 1);
  if (!keep.isOk() || *keep != 1)
    return false;
  Operation *addEps = only(mean->result(), OpKind::OnnxAdd);
  Value *epsV = addEps ? otherOperand(addEps, mean->result()) : nullptr;
  const Tensor *epsT = epsV ? getConstantValue(epsV) : nullptr;
  if (!epsT || epsT->numElements() != 1 || !(epsT->getDouble(0) >= 0))
    return false;
  Operation *sqrt = only(addEps->result(), OpKind::OnnxSqrt);
  if (!sqrt)
    return false;
  std::vector<Operation *> ops = {sq, mean, addEps, sqrt};
  Operation *norm = nullptr;
  if (Operation *rec = only(sqrt->result(), OpKind::OnnxReciprocal)) {
    Operation *mul = only(rec->result(), OpKind::OnnxMul);
    if (!mul || otherOperand(mul, rec->result()) != x)
      return false;
    ops.push_back(rec);
    norm = mul;
  } else {
    Operation *div = only(sqrt->result(), OpKind::OnnxDiv);
    if (!div || div->operand(0) != x || div->operand(1) != sqrt->result())
      return false;
    norm = div;
  }
  ops.push_back(norm);
  int64_t D = x->type().dim(x->type().rank() - 1).value;
  Value *gamma = nullptr;
  if (Operation *mulG = only(norm->result(), OpKind::OnnxMul)) {
    if (Value *g = otherOperand(mulG, norm->result()); channelConst(g, x, D)) {
      gamma = g;
      ops.push_back(mulG);
    }
  }
  if (D <= 0 || ops.back()->result()->type() != x->type())
    return false;
  if (!gamma)
    gamma = onesScale(mean, x, D, ".rms_scale");
  NormAttrs a;
  a.kind = NormAttrs::Kind::Rms;
  a.axis = -1;
  a.epsilon = static_cast<float>(epsT->getDouble(0));
  AttrMap m;
  a.write(m);
  replacePattern(ops, OpKind::InfcNorm, {x, gamma}, m);
  return true;
}

/// Anchored at Exp: exp(x [- max(x)]) / sum(exp(...)) over one axis -> Softmax.
bool softmax(Operation *exp) {
  Value *e = exp->result();
  Operation *shift = exp->operand(0)->definingOp();
  Value *x = exp->operand(0);
  Operation *max = nullptr;
  if (shift && shift->is(OpKind::OnnxSub) && soleUser(shift->result()) == exp) {
    max = shift->operand(1)->definingOp();
    if (max && max->is(OpKind::OnnxReduceMax) && max->operand(0) == shift->operand(0) && soleUser(max->result()) == shift)
      x = shift->operand(0);
    else
      max = nullptr;
  }
  if (e->users().size() != 2 || e->isGraphOutput() || !x->type().isRanked())
    return false;
  Operation *sum = nullptr, *div = nullptr;
  for (Operation *u : e->users()) {
    if (u->is(OpKind::OnnxReduceSum))
      sum = u;
    else if (u->is(OpKind::OnnxDiv) && u->operand(0) == e)
      div = u;
  }
  int64_t axis = singleAxis(sum);
  if (!sum || !div || axis < 0 || div->operand(1) != sum->result() || soleUser(sum->result()) != div ||
      (max && singleAxis(max) != axis) || div->result()->type() != x->type())
    return false;
  std::vector<Operation *> ops;
  if (max) {
    ops.push_back(max);
    ops.push_back(shift);
  }
  ops.insert(ops.end(), {exp, sum, div});
  AttrMap a;
  a.set("axis", axis);
  replacePattern(ops, OpKind::OnnxSoftmax, {x}, a);
  return true;
}

class RecognizeOpsPass final : public Pass {
public:
  std::string_view name() const override { return "recognize-ops"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      const char *what = nullptr;
      if (op->is(OpKind::OnnxErf) && gelu(op))
        what = "gelu";
      else if (op->is(OpKind::OnnxTanh) && geluTanh(op))
        what = "gelu-tanh";
      else if ((op->is(OpKind::OnnxAdd) && hardActivation(op)) || (op->is(OpKind::OnnxHardSigmoid) && hardSwishFromSigmoid(op)))
        what = "hard-activations";
      else if (op->is(OpKind::OnnxReduceMean) && layerNorm(op))
        what = "layernorms";
      else if (op->is(OpKind::OnnxReduceMean) && rmsNorm(op))
        what = "rmsnorms";
      else if (op->is(OpKind::OnnxExp) && softmax(op))
        what = "softmaxes";
      if (what)
        ++ctx.stat(name(), what);
      return what != nullptr;
    });
  }
};

} // namespace

std::unique_ptr<Pass> createRecognizeOpsPass() { return std::make_unique<RecognizeOpsPass>(); }

} // namespace infc
