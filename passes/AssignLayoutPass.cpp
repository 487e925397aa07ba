// assign-layout: channels-last (NHWC) for the convolutions that run on tensor cores (f16/bf16,
// 2-D), with as few layout conversions as the graph allows. Every change is visible in the IR:
// an nhwc op holds physical shapes (N, H, W, C), weights are transposed constants (K, R, S, C/g),
// and infc.layout_cast marks each conversion that remains.
//   conv(x) -> cast_nchw(conv_nhwc(cast_nhwc(x)))        then, op by op in order, an op whose
//   computed operands all come from cast_nchw(...) moves into NHWC too:
//   elementwise ops (constant operands transposed), infc.pool, Global{Average,Max}Pool (a
//   ReduceMean/ReduceMax over H, W), Concat over channels, Flatten/Reshape of 1x1 spatial maps.
//   cast_nhwc(cast_nchw(v)) -> v; cast_nhwc(onnx.Cast(v)) -> one layout_cast converting dtype
//   too (f32 input -> f16 NHWC); dead casts are left to dce.
#include "ir/InfcAttrs.h"
#include "ir/OpHooks.h"
#include "ir/ScratchOp.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"

#include <unordered_map>

namespace infc {
namespace {

constexpr int64_t kRank = 4;

bool tensorCoreType(DType t) { return t == DType::F16 || t == DType::BF16; }

class AssignLayoutPass final : public Pass {
public:
  std::string_view name() const override { return "assign-layout"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    graph_ = &graph;
    ctx_ = &ctx;
    bool changed = false;
    for (Operation *op : graph.body().opPointers()) {
      INFC_ASSIGN_OR_RETURN(bool c, visit(op));
      changed = changed || c;
    }
    return changed;
  }

private:
  Block &body() { return graph_->body(); }

  /// The NHWC form of an NCHW value that a cast_nchw produced, or nullptr.
  static Value *nhwcSource(Value *v) {
    Operation *def = v->definingOp();
    if (!def || !def->is(OpKind::InfcLayoutCast))
      return nullptr;
    Expected<LayoutCastAttrs> a = LayoutCastAttrs::read(*def);
    return a.isOk() && a->from == Layout::NHWC && a->to == Layout::NCHW ? def->operand(0) : nullptr;
  }

  /// `v` (NCHW, rank 4) in NHWC: its source if it came from NHWC, else a new cast before `at`
  /// (with `padChannels` zero channels appended: then always a new cast).
  Expected<Value *> toNhwc(Value *v, Operation *at, int64_t padChannels = 0) {
    if (Value *s = nhwcSource(v); s && !padChannels)
      return s;
    auto &cache = padChannels ? paddedCasts_ : casts_;
    if (auto it = cache.find(v); it != cache.end())
      return it->second;
    LayoutCastAttrs a{Layout::NCHW, Layout::NHWC};
    a.padChannels = padChannels;
    // A float-to-float onnx.Cast (FP16 engines: the graph input's) folds into the layout cast:
    // one pass over the tensor instead of two.
    Value *source = v;
    if (Operation *def = v->definingOp(); def && def->is(OpKind::OnnxCast) && isFloat(v->type().elem()) &&
                                           isFloat(def->operand(0)->type().elem())) {
      source = def->operand(0);
      a.dtype = v->type().elem();
      ++ctx_->stat(name(), "dtype-casts-folded");
    }
    AttrMap m;
    a.write(m);
    Operation *cast = body().create(OpKind::InfcLayoutCast, {source}, {TensorType()}, std::move(m), at->loc(), at,
                                    {v->name() + (padChannels ? ".nhwc4" : ".nhwc")});
    INFC_RETURN_IF_ERROR(inferShapes(*cast)); // permuted, converted and padded as layout_cast's rule says
    ++ctx_->stat(name(), "casts-inserted");
    cache[v] = cast->result();
    return cast->result();
  }

  /// Creates `kind(operands)` in NHWC before `old` and replaces `old`'s result with a cast back
  /// to NCHW (which later ops look through).
  Status replaceInNhwc(Operation *old, OpKind kind, const std::vector<Value *> &operands, AttrMap attrs) {
    Operation *op = body().create(kind, operands, {TensorType()}, std::move(attrs), old->loc(), old,
                                  {old->result()->name() + ".nhwc"});
    INFC_RETURN_IF_ERROR(inferShapes(*op));
    LayoutCastAttrs a{Layout::NHWC, Layout::NCHW};
    AttrMap m;
    a.write(m);
    replaceWithOp(old, OpKind::InfcLayoutCast, {op->result()}, std::move(m), old->result()->type(), old->loc());
    return Status::ok();
  }

  static bool isRank4(const Value *v) { return v->type().isStatic() && v->type().rank() == kRank; }

  Expected<bool> visit(Operation *op) {
    if (op->is(OpKind::InfcConv))
      return visitConv(op);
    if (op->numResults() != 1 || !isRank4(op->result()))
      return visitFlatten(op);
    if (op->is(OpKind::InfcPool)) {
      Value *x = nhwcSource(op->operand(0));
      INFC_ASSIGN_OR_RETURN(PoolAttrs a, PoolAttrs::read(*op));
      if (!x || a.layout != Layout::NCHW)
        return false;
      a.layout = Layout::NHWC;
      AttrMap m;
      a.write(m);
      INFC_RETURN_IF_ERROR(replaceInNhwc(op, OpKind::InfcPool, {x}, std::move(m)));
      return true;
    }
    if (op->is(OpKind::OnnxGlobalAveragePool) || op->is(OpKind::OnnxGlobalMaxPool)) {
      Value *x = nhwcSource(op->operand(0));
      if (!x)
        return false;
      Value *axes = createConstant(body(), Tensor::fromI64({1, 2}), op->result()->name() + ".axes", op);
      AttrMap m;
      m.set("keepdims", int64_t(1));
      INFC_RETURN_IF_ERROR(replaceInNhwc(op, op->is(OpKind::OnnxGlobalAveragePool) ? OpKind::OnnxReduceMean : OpKind::OnnxReduceMax,
                                         {x, axes}, std::move(m)));
      return true;
    }
    if (op->is(OpKind::OnnxConcat)) {
      INFC_ASSIGN_OR_RETURN(int64_t axis, op->attrs().getInt("axis"));
      if (axis != 1 && axis != 1 - kRank)
        return false;
      std::vector<Value *> ins;
      for (Value *v : op->operands()) {
        Value *s = v ? nhwcSource(v) : nullptr;
        if (!s)
          return false;
        ins.push_back(s);
      }
      AttrMap m;
      m.set("axis", int64_t(3));
      INFC_RETURN_IF_ERROR(replaceInNhwc(op, OpKind::OnnxConcat, ins, std::move(m)));
      return true;
    }
    if (hasTrait(op->kind(), kElementwise))
      return visitElementwise(op);
    return false;
  }

  Expected<bool> visitConv(Operation *op) {
    INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(*op));
    const Tensor *w = getConstantValue(op->operand(1));
    if (a.layout != Layout::NCHW || !w || w->rank() != kRank || !isRank4(op->operand(0)) ||
        !tensorCoreType(op->result()->type().elem()))
      return false;
    std::vector<int64_t> perm = layoutPerm(Layout::NHWC, kRank);
    // An image with fewer than 4 channels (RGB) that comes straight from NCHW is padded to 4
    // with zero channels, its filter likewise: cuDNN's NHWC FP16 kernels for C = 4 beat C = 3
    // (ResNet-50's 7x7 stem at batch 256 on the H200: 0.40 against 0.56 ms; C = 8: 1.22 ms).
    int64_t cin = w->dim(1), pad = a.group == 1 && cin < 4 && !nhwcSource(op->operand(0)) ? 4 - cin : 0;
    Tensor wt = w->transposed(perm);
    if (pad) {
      wt = wt.paddedLastAxis(4);
      ++ctx_->stat(name(), "channels-padded");
    }
    INFC_ASSIGN_OR_RETURN(Value * x, toNhwc(op->operand(0), op, pad));
    std::vector<Value *> ops = {x, createConstant(body(), wt, op->operand(1)->name() + ".nhwc", op)};
    if (op->numOperands() > 2)
      ops.push_back(op->operand(2));
    if (op->hasOperand(3)) {
      INFC_ASSIGN_OR_RETURN(Value * z, toNhwc(op->operand(3), op));
      ops.push_back(z);
    }
    a.layout = Layout::NHWC;
    AttrMap m = op->attrs();
    a.write(m);
    INFC_RETURN_IF_ERROR(replaceInNhwc(op, OpKind::InfcConv, ops, std::move(m)));
    ++ctx_->stat(name(), "convs-nhwc");
    return true;
  }

  /// Elementwise ops move when every computed operand is available in NHWC; constants are
  /// transposed (scalars stay), anything else keeps the op in NCHW.
  Expected<bool> visitElementwise(Operation *op) {
    std::vector<Value *> ins;
    bool any = false;
    std::vector<int64_t> perm = layoutPerm(Layout::NHWC, kRank);
    for (Value *v : op->operands()) {
      if (!v) {
        ins.push_back(nullptr);
        continue;
      }
      if (Value *s = nhwcSource(v)) {
        ins.push_back(s);
        any = true;
        continue;
      }
      const Tensor *c = getConstantValue(v);
      if (!c)
        return false;
      if (c->numElements() == 1 && c->rank() <= 1) {
        ins.push_back(v);
        continue;
      }
      if (c->rank() > kRank)
        return false;
      std::vector<int64_t> shape(static_cast<size_t>(kRank - c->rank()), 1);
      shape.insert(shape.end(), c->shape().begin(), c->shape().end());
      ins.push_back(createConstant(body(), c->reshaped(shape).transposed(perm), v->name() + ".nhwc", op));
    }
    if (!any)
      return false;
    INFC_RETURN_IF_ERROR(replaceInNhwc(op, op->kind(), ins, op->attrs()));
    ++ctx_->stat(name(), "ops-nhwc");
    return true;
  }

  /// Flatten(axis 1) or a rank-2 Reshape of an N x C x 1 x 1 map reads the same bytes in NHWC.
  Expected<bool> visitFlatten(Operation *op) {
    if (!op->is(OpKind::OnnxFlatten) && !op->is(OpKind::OnnxReshape))
      return false;
    Value *x = nhwcSource(op->operand(0));
    if (!x || op->result()->type().rank() != 2 || !op->result()->type().isStatic())
      return false;
    std::vector<int64_t> xs = x->type().staticShape();
    if (xs[1] != 1 || xs[2] != 1)
      return false;
    if (op->is(OpKind::OnnxFlatten)) {
      INFC_ASSIGN_OR_RETURN(int64_t axis, op->attrs().getInt("axis", 1));
      if (axis != 1)
        return false;
    } else if (op->result()->type().dim(0) != x->type().dim(0)) {
      return false;
    }
    op->setOperand(0, x);
    ++ctx_->stat(name(), "ops-nhwc");
    return true;
  }

  Graph *graph_ = nullptr;
  PassContext *ctx_ = nullptr;
  std::unordered_map<Value *, Value *> casts_, paddedCasts_;
};

} // namespace

std::unique_ptr<Pass> createAssignLayoutPass() { return std::make_unique<AssignLayoutPass>(); }

} // namespace infc
