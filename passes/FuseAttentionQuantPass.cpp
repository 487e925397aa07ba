// fuse-attention-quant: the quantized neighbours of an attention into its kernel, after the
// quantization passes (INT8 and FP8 transformer layers), so that the QKV projection and the
// attention output projection run quantized without a dequantize or quantize pass:
//   attention(reshape(dq(q, s)))          -> attention(reshape(q)) {x_scale = s}   q, k, v read as
//                                                                                  they are stored
//   quantize(reshape(attention(...)), s)  -> reshape(attention(...) {q_scale = s})  y written in
//                                                                                  int8 or e4m3
// dq is onnx.DequantizeLinear of int8 or e4m3 by a scalar constant of the attention's float
// type, quantize onnx.QuantizeLinear to int8 or e4m3 by a scalar float32 constant (no zero
// points: the quantization passes' own ops); the reshape (a view) is optional, and each value on
// the way has no other reader. Unpacked q, k and v must all be such dequantizations, of one type by
// one scale. The fused attention rounds x * x_scale to its float type as the DequantizeLinear
// stores it and quantizes its result as stored, so the fusion changes no bit (ir/InfcAttrs.h,
// AttentionAttrs). The timing rules of quantize-int8-matmul count it (QuantUtil.h,
// attentionWriting and attentionReading).
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

namespace infc {
namespace {

/// One of q, k, v: `operand` = [reshape](dq(x)), with what the rewrite needs.
struct QuantizedOperand {
  Operation *dq = nullptr, *reshape = nullptr;
  double scale = 0;
};

class FuseAttentionQuantPass final : public Pass {
public:
  std::string_view name() const override { return "fuse-attention-quant"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      if (!op->is(OpKind::InfcAttention) || !op->result()->type().isStatic())
        return false;
      INFC_ASSIGN_OR_RETURN(AttentionAttrs a, AttentionAttrs::read(*op));
      DType ft = a.floatType;
      if (ft != DType::F16 && ft != DType::BF16 && ft != DType::F32)
        return false;
      if (!a.xScale && fuseInputs(op, a, ft, ctx))
        return true;
      return !a.qScale && fuseOutput(op, a, ft, ctx);
    });
  }

private:
  /// `v` = [reshape](dq(x)) with each value read only by the next op: the pieces, or nullopt.
  static std::optional<QuantizedOperand> quantizedOperand(Value *v, DType ft) {
    QuantizedOperand q;
    Operation *d = v->definingOp();
    if (d && d->is(OpKind::OnnxReshape) && soleUser(v)) {
      q.reshape = d;
      v = d->operand(0);
    }
    q.dq = soleDequantize(v, ft, true);
    if (!q.dq)
      return std::nullopt;
    q.scale = *scalarValue(q.dq->operand(1));
    return q;
  }

  /// attention(reshape(dq(x))) -> attention(reshape(x)) {x_scale}.
  bool fuseInputs(Operation *op, AttentionAttrs a, DType ft, PassContext &ctx) {
    std::vector<QuantizedOperand> qs;
    for (size_t i = 0; i < 3; ++i) {
      if (!op->hasOperand(i))
        continue;
      std::optional<QuantizedOperand> q = quantizedOperand(op->operand(i), ft);
      if (!q || (!qs.empty() && (q->scale != qs[0].scale || q->dq->operand(0)->type().elem() !=
                                                                qs[0].dq->operand(0)->type().elem())))
        return false;
      qs.push_back(*q);
    }
    Block &block = *op->parentBlock();
    std::vector<Value *> operands(op->operands().begin(), op->operands().end());
    size_t next = 0;
    for (size_t i = 0; i < 3; ++i) {
      if (!op->hasOperand(i))
        continue;
      const QuantizedOperand &q = qs[next++];
      Value *x = q.dq->operand(0);
      if (q.reshape) {
        TensorType t = q.reshape->result()->type();
        t.setElem(x->type().elem());
        x = block.create(OpKind::OnnxReshape, {x, q.reshape->operand(1)}, {t}, q.reshape->attrs(), q.reshape->loc(), op,
                         {q.reshape->result()->name() + ".q"})
                ->result();
      }
      operands[i] = x;
    }
    a.xScale = static_cast<float>(qs[0].scale);
    AttrMap m = op->attrs();
    a.write(m);
    std::string what = op->describe();
    std::vector<Operation *> pattern;
    for (const QuantizedOperand &q : qs) {
      pattern.push_back(q.dq);
      if (q.reshape)
        pattern.push_back(q.reshape);
    }
    pattern.push_back(op);
    sortInProgramOrder(pattern);
    replacePattern(pattern, OpKind::InfcAttention, operands, std::move(m));
    ctx.remark(name(), [&] { return "read the quantized q, k and v of " + what + " as they are"; });
    ++ctx.stat(name(), "inputs-fused");
    return true;
  }

  /// quantize(reshape(attention)) -> reshape(attention {q_scale}).
  bool fuseOutput(Operation *op, AttentionAttrs a, DType ft, PassContext &ctx) {
    Value *y = op->result();
    Operation *reshape = soleUser(y), *quant = reshape;
    if (reshape && reshape->is(OpKind::OnnxReshape) && reshape->operand(0) == y)
      quant = soleUser(reshape->result());
    else
      reshape = nullptr;
    if (!quant || !scalarQuantization(*quant))
      return false;
    DType qt = quant->result()->type().elem();
    a.qScale = static_cast<float>(*scalarValue(quant->operand(1)));
    AttrMap m = op->attrs();
    a.write(m);
    Block &block = *op->parentBlock();
    TensorType yt = y->type();
    yt.setElem(qt);
    std::string what = op->describe(), qName = quant->result()->name();
    Operation *att = block.create(OpKind::InfcAttention, op->operands(), {yt}, std::move(m),
                                  Location::fused({&op->loc(), &quant->loc()}), quant, {y->name() + ".q"});
    Value *out = att->result();
    if (reshape)
      out = block.create(OpKind::OnnxReshape, {out, reshape->operand(1)}, {quant->result()->type()}, reshape->attrs(),
                         reshape->loc(), quant, {reshape->result()->name() + ".q"})
                ->result();
    quant->result()->replaceAllUsesWith(out);
    quant->erase();
    if (reshape)
      reshape->erase();
    op->erase();
    block.graph()->renameValue(out, qName);
    ctx.remark(name(), [&] { return "wrote the quantized output of " + what + " in its kernel"; });
    ++ctx.stat(name(), "outputs-fused");
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseAttentionQuantPass() { return std::make_unique<FuseAttentionQuantPass>(); }

} // namespace infc
