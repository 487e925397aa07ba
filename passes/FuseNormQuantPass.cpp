// fuse-norm-quant: the quantized neighbours of a layer (or RMS) norm into the norm's kernel, after
// the quantization passes (INT8 and FP8 transformer layers):
//   norm(dq(q, s) + z)    -> norm(q, scale, bias, z) {x_scale = s}    an INT8 matmul's int8 result
//                                                                     and the residual, read as they are
//   norm(dq(q, s))        -> norm(q, scale, bias) {x_scale = s}
//   quantize(norm(x), s)  -> the norm's second result {q_scale = s}  the next matmul's int8 or
//                                                                     e4m3 input, written with y
// dq is onnx.DequantizeLinear of int8 by a scalar constant of the norm's float type, quantize
// onnx.QuantizeLinear to int8 or e4m3 by a scalar float32 constant (no zero points: the
// quantization passes' own ops); the dequantized value and the sum must have no other reader, the
// residual must have x's shape and type (no broadcast). Semantics: ir/InfcAttrs.h, NormAttrs.
// Where a norm has no bias and takes a residual, a zero bias is added (the residual is operand 3).
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

namespace infc {
namespace {

bool floatType(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

class FuseNormQuantPass final : public Pass {
public:
  std::string_view name() const override { return "fuse-norm-quant"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      if (!op->is(OpKind::InfcNorm) || !op->result(0)->type().isStatic())
        return false;
      INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::read(*op));
      if (a.kind != NormAttrs::Kind::Layer && a.kind != NormAttrs::Kind::Rms)
        return false;
      if (!a.xScale && !a.qScale && !op->hasOperand(3) && fuseInput(op, a, ctx))
        return true;
      return !a.qScale && fuseOutput(op, a, ctx);
    });
  }

private:
  /// norm(dq(q) [+ z]) -> norm(q, ..., z) {x_scale}.
  bool fuseInput(Operation *op, NormAttrs a, PassContext &ctx) {
    Value *x = op->operand(0);
    DType ft = x->type().elem();
    if (!floatType(ft) || !soleUser(x))
      return false;
    Operation *dq = soleDequantize(x, ft, false), *add = nullptr;
    Value *z = nullptr;
    if (!dq) {
      add = x->definingOp();
      if (!add || !add->is(OpKind::OnnxAdd))
        return false;
      for (int side : {0, 1}) {
        Value *other = add->operand(1 - side);
        if ((dq = soleDequantize(add->operand(side), ft, false)) && other->type() == x->type() && other != add->operand(side)) {
          z = other;
          break;
        }
        dq = nullptr;
      }
      if (!dq)
        return false;
    }
    Block &block = *op->parentBlock();
    a.xScale = static_cast<float>(*scalarValue(dq->operand(1)));
    std::vector<Value *> operands = {dq->operand(0), op->operand(1)};
    if (op->hasOperand(2))
      operands.push_back(op->operand(2));
    else if (z) {
      Tensor zero(ft, op->operand(1)->type().staticShape());
      operands.push_back(createConstant(block, std::move(zero), op->operand(1)->name() + ".zero_bias", op));
    }
    if (z)
      operands.push_back(z);
    std::string what = op->describe();
    AttrMap m = op->attrs();
    a.write(m);
    std::vector<Operation *> pattern = {dq};
    if (add)
      pattern.push_back(add);
    pattern.push_back(op);
    replacePattern(pattern, OpKind::InfcNorm, operands, std::move(m));
    ctx.remark(name(), [&] { return "read the int8 input" + std::string(z ? " and the residual" : "") + " of " + what + " as they are"; });
    ++ctx.stat(name(), z ? "residual-inputs-fused" : "inputs-fused");
    return true;
  }

  /// quantize(norm(x)) -> the norm's second result {q_scale}.
  bool fuseOutput(Operation *op, NormAttrs a, PassContext &ctx) {
    Value *y = op->result(0);
    if (!floatType(y->type().elem()))
      return false;
    Operation *quant = nullptr;
    for (Operation *u : y->users())
      if (scalarQuantization(*u) && u->operand(0) == y) {
        quant = u;
        break;
      }
    if (!quant)
      return false;
    a.qScale = static_cast<float>(*scalarValue(quant->operand(1)));
    AttrMap m = op->attrs();
    a.write(m);
    Block &block = *op->parentBlock();
    std::string yName = y->name(), qName = quant->result()->name();
    Operation *norm = block.create(OpKind::InfcNorm, op->operands(), {y->type(), quant->result()->type()}, std::move(m),
                                   Location::fused({&op->loc(), &quant->loc()}), op, {yName + ".tmp", qName + ".tmp"});
    std::string what = op->describe();
    y->replaceAllUsesWith(norm->result(0));
    quant->result()->replaceAllUsesWith(norm->result(1));
    quant->erase();
    op->erase();
    block.graph()->renameValue(norm->result(0), yName);
    block.graph()->renameValue(norm->result(1), qName);
    ctx.remark(name(), [&] { return "wrote the quantized output of " + what + " in its kernel"; });
    ++ctx.stat(name(), "outputs-fused");
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseNormQuantPass() { return std::make_unique<FuseNormQuantPass>(); }

} // namespace infc
