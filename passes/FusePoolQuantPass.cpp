// fuse-pool-quant: the int8 quantization of a max pool's result into the pool's kernel, after
// quantize-int8 (ResNet's stem: the max pool writes the first block's int8 input itself):
//   quantize(pool_max(x), s)  ->  pool_max(x) {q_scale = s}  (int8 result)
// quantize is onnx.QuantizeLinear to int8 by a scalar float32 constant without a zero point (the
// quantization passes' own), the pool's only reader. Max commutes with the quantization (division
// by a positive scale, rounding half to even and saturation never reorder two values), so the
// pool's kernel quantizes its maxima. Only where that kernel runs: 2-D NHWC pools of f16 or bf16
// with channels in multiples of 8 (codegen/kernels/Pool.cpp). Semantics: ir/InfcAttrs.h, PoolAttrs.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

namespace infc {
namespace {

class FusePoolQuantPass final : public Pass {
public:
  std::string_view name() const override { return "fuse-pool-quant"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      if (!op->is(OpKind::InfcPool) || !op->result()->type().isStatic())
        return false;
      INFC_ASSIGN_OR_RETURN(PoolAttrs a, PoolAttrs::read(*op));
      const TensorType &xt = op->operand(0)->type();
      if (!a.isMax || a.qScale || a.layout != Layout::NHWC || a.kernel.size() != 2 || !xt.isStatic() ||
          (xt.elem() != DType::F16 && xt.elem() != DType::BF16) || xt.staticShape().back() % 8 != 0)
        return false;
      Value *y = op->result();
      Operation *quant = soleUser(y);
      if (!quant || !scalarQuantization(*quant) || quant->operand(0) != y || quant->result()->type().elem() != DType::I8)
        return false;
      a.qScale = static_cast<float>(*scalarValue(quant->operand(1)));
      AttrMap m = op->attrs();
      a.write(m);
      std::string what = op->describe();
      replacePattern({op, quant}, OpKind::InfcPool, {op->operand(0)}, std::move(m));
      ctx.remark(name(), [&] { return "wrote the int8 quantization of " + what + "'s result in its kernel"; });
      ++ctx.stat(name(), "pools-fused");
      return true;
    });
  }
};

} // namespace

std::unique_ptr<Pass> createFusePoolQuantPass() { return std::make_unique<FusePoolQuantPass>(); }

} // namespace infc
