// fuse-attention: scaled dot-product attention as exporters write it becomes one infc.attention:
//   matmul(where(isnan(p), 0, p)?, v) with p = softmax(scale * matmul(q, k^T) [+ mask], axis -1)
//                                          -> infc.attention(q, k, v, mask) {scale, nan_to_zero}
// Scalar Mul/Div on q, on k^T or on the scores fold into `scale` (torch's SDPA export scales q and
// k^T by sqrt(scale) each). Head transposes around it are absorbed: when q and v are
// transpose(x, [0, 2, 1, 3]) of [B, S, H, D] projections, k^T is transpose(y, [0, 2, 3, 1]), and
// the result is read only by transpose(., [0, 2, 1, 3]), the op reads and writes [B, S, H, D]
// directly (layout "bshd") and the four transposes disappear. An all-zero constant mask is dropped.
// Then, when q, k and v are reshapes of the three equal parts of one Split (the QKV projections
// after fuse-sibling-matmuls), the op reads the packed projection itself (layout "bs3hd"):
//   infc.attention(reshape(split#0), reshape(split#1), reshape(split#2)) {bshd}
//                                          -> infc.attention(reshape(x, [B, S, 3, H, D])) {bs3hd}
// Every intermediate value must be read by the pattern alone (and not be a graph output), and
// shapes must be static and the fusion pay off (see worthFusing).
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <cmath>

namespace infc {
namespace {

using QkvLayout = AttentionAttrs::QkvLayout;

bool isPerm(const Operation *op, const std::vector<int64_t> &perm) {
  if (!op || !op->is(OpKind::OnnxTranspose))
    return false;
  Expected<std::vector<int64_t>> p = op->attrs().getInts("perm");
  return p.isOk() && *p == perm;
}


bool allZero(const Tensor &t) {
  for (int64_t i = 0; i < t.numElements(); ++i)
    if (t.getDouble(i) != 0.0)
      return false;
  return true;
}

/// A constant causal mask, the same for every batch and head: 0 where key j <= query i, and
/// -inf (or a value no finite score survives: <= -65504, f16's lowest) where j > i.
bool isCausalMask(const Tensor &t) {
  if (t.rank() < 2)
    return false;
  int64_t sq = t.dim(t.rank() - 2), sk = t.dim(t.rank() - 1);
  if (sq != sk || sq < 2)
    return false;
  for (int64_t n = 0; n < t.numElements(); ++n) {
    int64_t j = n % sk, i = (n / sk) % sq;
    double v = t.getDouble(n);
    if (j <= i ? v != 0.0 : v > -65504.0)
      return false;
  }
  return true;
}

/// Ops whose results only the pattern reads, gathered while matching.
class Match {
public:
  /// Absorbs `op` when every reader of its result is `reader` (once) and it is no graph output.
  bool take(Operation *op, const Operation *reader) {
    if (!op || soleUser(op->result()) != reader)
      return false;
    ops_.push_back(op);
    return true;
  }
  void add(Operation *op) { ops_.push_back(op); }
  /// Walks scalar Mul/Div ops up from `v` (each read only by its successor), folding them into scale.
  Value *peelScale(Value *v, const Operation *reader, double &scale) {
    for (;;) {
      Operation *d = v->definingOp();
      if (!d || soleUser(v) != reader || !(d->is(OpKind::OnnxMul) || d->is(OpKind::OnnxDiv)))
        return v;
      std::optional<double> c;
      Value *next = nullptr;
      if (d->is(OpKind::OnnxDiv)) {
        c = scalarValue(d->operand(1));
        if (c && *c != 0.0)
          c = 1.0 / *c;
        next = d->operand(0);
      } else {
        for (size_t i = 0; i < 2 && !c; ++i)
          if ((c = scalarValue(d->operand(1 - i))))
            next = d->operand(i);
      }
      if (!c || !std::isfinite(*c) || next->type() != d->result()->type())
        return v;
      scale *= *c;
      ops_.push_back(d);
      reader = d;
      v = next;
    }
  }
  std::vector<Operation *> &ops() { return ops_; }

private:
  std::vector<Operation *> ops_;
};

/// One of q, k, v: the value in [B, H, S, D] (bhsd) and, when head transposes can be absorbed,
/// the [B, S, H, D] value they transpose and the transposes themselves.
struct Side {
  Value *bhsd = nullptr;
  Value *bshd = nullptr;
  std::vector<Operation *> transposes;
};

class FuseAttentionPass final : public Pass {
public:
  std::string_view name() const override { return "fuse-attention"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      if (op->is(OpKind::OnnxMatMul) && fuse(op)) {
        ++ctx.stat(name(), "attentions-fused");
        ctx.remark(name(), [] { return std::string("fused a scaled-dot-product attention into one infc.attention"); });
        return true;
      }
      if (op->is(OpKind::InfcAttention)) {
        INFC_ASSIGN_OR_RETURN(bool packed, pack(op));
        if (packed) {
          ++ctx.stat(name(), "qkv-packed");
          ctx.remark(name(), [] { return std::string("packed an attention's q, k and v projections into one matmul"); });
        }
        return packed;
      }
      return false;
    });
  }

private:
  /// q or v as read by a matmul: x (bhsd), or transpose(y, [0, 2, 1, 3]) read only there.
  static Side qOrV(Value *v, const Operation *reader) {
    Side s{v, nullptr, {}};
    Operation *t = v->definingOp();
    if (isPerm(t, {0, 2, 1, 3}) && soleUser(v) == reader) {
      s.bshd = t->operand(0);
      s.transposes = {t};
    }
    return s;
  }

  /// k from k^T as read by the scores matmul: transpose(k, [0, 1, 3, 2]) of a bhsd k (itself maybe
  /// a head transpose), or transpose(y, [0, 2, 3, 1]) of a [B, S, H, D] y.
  static std::optional<Side> kFromKt(Value *kt, const Operation *reader) {
    Operation *t = kt->definingOp();
    if (!t || soleUser(kt) != reader)
      return std::nullopt;
    if (isPerm(t, {0, 1, 3, 2})) {
      Side s = qOrV(t->operand(0), t);
      s.transposes.insert(s.transposes.begin(), t);
      return s;
    }
    if (isPerm(t, {0, 2, 3, 1}))
      return Side{nullptr, t->operand(0), {t}};
    return std::nullopt;
  }

  /// Where the fused kernel is the faster choice: 16-bit types with a head size the tensor-core
  /// kernel takes (a multiple of 16 up to 128, the same for q and v); otherwise (the f32 warp
  /// kernel) only small problems. Measured on the H200: BERT-base FP32 at batch 1 (196,608
  /// scores per layer) took 2.44 ms fused against 1.64 ms with cuBLASLt batched GEMMs and a
  /// softmax kernel.
  static bool worthFusing(const TensorType &scores, const TensorType &q, const TensorType &y) {
    if (!scores.isStatic() || !q.isStatic() || !y.isStatic())
      return false;
    int64_t d = q.staticShape().back(), dv = y.staticShape().back();
    DType t = y.elem();
    if ((t == DType::F16 || t == DType::BF16) && d == dv && d % 16 == 0 && d <= 128)
      return true;
    return *scores.numElements() <= (int64_t(1) << 16);
  }

  /// Anchored at the probabilities-times-v MatMul.
  static bool fuse(Operation *pv) {
    const TensorType &yt = pv->result()->type();
    if (!yt.isRanked() || yt.rank() != 4 || !isFloat(yt.elem()) || pv->operand(0)->type().rank() != 4 ||
        pv->operand(1)->type().rank() != 4)
      return false;
    Match m;
    AttentionAttrs a;
    double scale = 1.0;
    // where(isnan(p), 0, p)
    Value *p = pv->operand(0);
    Operation *sm = p->definingOp();
    if (sm && sm->is(OpKind::OnnxWhere) && soleUser(p) == pv) {
      Operation *isnan = sm->operand(0)->definingOp();
      Value *x = sm->operand(2);
      std::optional<double> zero = scalarValue(sm->operand(1));
      if (!isnan || !isnan->is(OpKind::OnnxIsNaN) || isnan->operand(0) != x || !zero || *zero != 0.0 ||
          soleUser(isnan->result()) != sm || x->users().size() != 2 || x->isGraphOutput() ||
          sm->result()->type() != x->type())
        return false;
      m.add(sm);
      m.add(isnan);
      a.nanToZero = true;
      sm = x->definingOp();
      if (!sm || !sm->is(OpKind::OnnxSoftmax))
        return false;
      m.add(sm);
    } else if (!m.take(sm, pv) || !sm->is(OpKind::OnnxSoftmax)) {
      return false;
    }
    Expected<int64_t> axis = sm->attrs().getInt("axis", -1);
    if (!axis.isOk() || (*axis != -1 && *axis != 3))
      return false;
    // [scale *] scores [+ mask]; m.ops().back() is always the reader of the value at hand.
    Value *s = m.peelScale(sm->operand(0), sm, scale);
    Value *mask = nullptr;
    Operation *add = s->definingOp();
    if (add && add->is(OpKind::OnnxAdd) && soleUser(s) == m.ops().back()) {
      for (size_t i = 0; i < 2 && !mask; ++i) {
        Match probe;
        double unused = 1.0;
        Operation *mm = probe.peelScale(add->operand(i), add, unused)->definingOp();
        if (mm && mm->is(OpKind::OnnxMatMul) && add->operand(i)->type() == add->result()->type()) {
          mask = add->operand(1 - i);
          s = add->operand(i);
        }
      }
      if (!mask || mask->type().elem() != yt.elem() || !mask->type().isRanked() || mask->type().rank() > 4)
        return false;
      m.add(add);
      if (const Tensor *t = getConstantValue(mask); t && (allZero(*t) || isCausalMask(*t))) {
        a.causal = !allZero(*t);
        mask = nullptr;
      }
    }
    s = m.peelScale(s, m.ops().back(), scale);
    Operation *qk = s->definingOp();
    if (!qk || !qk->is(OpKind::OnnxMatMul) || soleUser(s) != m.ops().back())
      return false;
    m.add(qk);
    if (!worthFusing(qk->result()->type(), qk->operand(0)->type(), yt))
      return false;
    Value *q = m.peelScale(qk->operand(0), qk, scale);
    Value *kt = m.peelScale(qk->operand(1), qk, scale);
    if (q->type().rank() != 4 || kt->type().rank() != 4 || q->type().elem() != yt.elem())
      return false;
    Side qs = qOrV(q, q == qk->operand(0) ? qk : q->users()[0]);
    std::optional<Side> ks = kFromKt(kt, kt == qk->operand(1) ? qk : kt->users()[0]);
    Side vs = qOrV(pv->operand(1), pv);
    if (!ks)
      return false;
    Operation *out = soleUser(pv->result());
    bool bshd = qs.bshd && ks->bshd && vs.bshd && isPerm(out, {0, 2, 1, 3});
    std::vector<Value *> operands;
    if (bshd) {
      a.layout = QkvLayout::BSHD;
      operands = {qs.bshd, ks->bshd, vs.bshd};
      for (Side *side : {&qs, &*ks, &vs})
        for (Operation *t : side->transposes)
          m.add(t);
    } else {
      // k may exist only as k^T of a [B, S, H, D] value: give it its bhsd transpose.
      if (!ks->bhsd) {
        Operation *t = ks->transposes.back();
        AttrMap perm;
        perm.set("perm", std::vector<int64_t>{0, 2, 1, 3});
        const std::vector<Dim> &d = ks->bshd->type().shape();
        ks->bhsd = t->parentBlock()
                       ->create(OpKind::OnnxTranspose, {ks->bshd}, {TensorType(ks->bshd->type().elem(), {d[0], d[2], d[1], d[3]})},
                                perm, t->loc(), t, {ks->bshd->name() + ".bhsd"})
                       ->result();
        m.add(t);
      } else {
        m.add(ks->transposes.front()); // the [0, 1, 3, 2] transpose; a head transpose below it stays
      }
      operands = {qs.bhsd, ks->bhsd, vs.bhsd};
      out = nullptr;
    }
    for (Value *v : operands)
      if (!v->type().isRanked() || v->type().rank() != 4 || v->type().elem() != yt.elem())
        return false;
    operands.push_back(mask);
    a.scale = static_cast<float>(scale);
    m.add(pv);
    if (out)
      m.add(out);
    AttrMap attrs;
    a.write(attrs);
    std::vector<Operation *> ops = m.ops();
    sortInProgramOrder(ops);
    replacePattern(ops, OpKind::InfcAttention, operands, std::move(attrs));
    return true;
  }

  /// bshd q, k, v that are reshapes of the three equal parts of one last-axis Split -> bs3hd.
  static Expected<bool> pack(Operation *att) {
    INFC_ASSIGN_OR_RETURN(AttentionAttrs a, AttentionAttrs::read(*att));
    if (a.layout != QkvLayout::BSHD)
      return false;
    Operation *split = nullptr;
    std::vector<Operation *> reshapes;
    for (size_t i = 0; i < 3; ++i) {
      Operation *r = att->operand(i)->definingOp();
      if (!r || !r->is(OpKind::OnnxReshape) || soleUser(r->result()) != att)
        return false;
      Value *part = r->operand(0);
      Operation *s = part->definingOp();
      if (!s || !s->is(OpKind::OnnxSplit) || s->numResults() != 3 || part->resultIndex() != i ||
          soleUser(part) != r || (split && s != split))
        return false;
      split = s;
      reshapes.push_back(r);
    }
    const TensorType &x = split->operand(0)->type(), &qt = att->operand(0)->type();
    if (!x.isStatic() || !qt.isStatic() || x.rank() != 3 || att->operand(1)->type() != qt || att->operand(2)->type() != qt)
      return false;
    INFC_ASSIGN_OR_RETURN(int64_t axis, split->attrs().getInt("axis", 0));
    if (axis != -1 && axis != 2)
      return false;
    std::vector<int64_t> xs = x.staticShape(), q = qt.staticShape(); // [B, S, 3HD], [B, S, H, D]
    if (xs[0] != q[0] || xs[1] != q[1] || xs[2] != 3 * q[2] * q[3])
      return false;
    for (size_t i = 0; i < 3; ++i)
      if (split->result(i)->type().staticShape() != std::vector<int64_t>{q[0], q[1], q[2] * q[3]})
        return false;
    Block &block = *att->parentBlock();
    std::vector<int64_t> packedShape = {q[0], q[1], 3, q[2], q[3]};
    Value *shape = createConstant(block, Tensor::fromI64(packedShape), split->operand(0)->name() + ".qkv_shape", att);
    Value *packed = block
                        .create(OpKind::OnnxReshape, {split->operand(0), shape},
                                {TensorType::fromStatic(x.elem(), packedShape)}, {}, split->loc(), att,
                                {split->operand(0)->name() + ".qkv"})
                        ->result();
    a.layout = QkvLayout::BS3HD;
    AttrMap attrs = att->attrs();
    a.write(attrs);
    Value *mask = att->hasOperand(3) ? att->operand(3) : nullptr;
    Location loc = att->loc();
    for (Operation *r : reshapes)
      loc.append(r->loc());
    loc.append(split->loc());
    replaceWithOp(att, OpKind::InfcAttention, {packed, nullptr, nullptr, mask}, std::move(attrs), att->result()->type(), loc);
    for (Operation *r : reshapes)
      r->erase();
    split->erase();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseAttentionPass() { return std::make_unique<FuseAttentionPass>(); }

} // namespace infc
