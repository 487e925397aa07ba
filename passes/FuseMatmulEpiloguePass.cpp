// fuse-matmul-epilogue: torch.nn.Linear as exported, and what follows it, into one infc.matmul:
//   add(matmul(a, b), bias)       -> infc.matmul(a, b, bias)     bias: a constant of N values over
//                                                                the last dim, b a matrix (no batch)
//   add(infc.matmul(a, b, bias), z) -> infc.matmul(a, b, bias, z) z: a residual of the result's type
//   act(infc.matmul(...))         -> infc.matmul(...) {act}      the activations of conv epilogues
// when the intermediate result has no other reader and is not a graph output. With calibrated
// ranges (INT8 builds), the range of the value a residual or activation fusion takes away (the
// matmul plus bias, what an INT8 matmul's int8 result holds) is kept as `acc_amax`.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

namespace infc {
namespace {

class FuseMatmulEpiloguePass final : public Pass {
public:
  std::string_view name() const override { return "fuse-matmul-epilogue"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) { return fuseOne(op, ctx); });
  }

private:
  Expected<bool> fuseOne(Operation *op, PassContext &ctx) {
    if (op->is(OpKind::OnnxMatMul)) {
      std::string what = op->describe();
      Operation *add = soleUser(op->result());
      if (!fuseBias(op)) {
        if (add && add->is(OpKind::OnnxAdd))
          ctx.remark(name(), [&] {
            return "did not fuse " + add->describe() + " into " + what +
                   ": not a constant bias of one value per output column on a matrix weight";
          });
        return false;
      }
      ctx.remark(name(), [&] { return "fused the bias add into " + what; });
      ++ctx.stat(name(), "biases-fused");
      return true;
    }
    if (!op->is(OpKind::InfcMatmul))
      return false;
    INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(*op));
    Operation *user = soleUser(op->result());
    if (a.act.none() && !op->hasOperand(3) && user && user->is(OpKind::OnnxAdd)) {
      Value *z = user->operand(0) == op->result() ? user->operand(1) : user->operand(0);
      if (z != op->result() && z->type() == op->result()->type() && user->result()->type() == z->type()) {
        ctx.remark(name(), [&] { return "fused the residual add " + user->describe() + " into " + op->describe(); });
        std::vector<Value *> operands = {op->operand(0), op->operand(1), op->hasOperand(2) ? op->operand(2) : nullptr, z};
        recordAccCalibration(ctx, *op); // INT8 builds: the range of what the residual is added to
        replacePattern({op, user}, OpKind::InfcMatmul, operands, op->attrs());
        ++ctx.stat(name(), "residuals-fused");
        return true;
      }
      ctx.remark(name(), [&] {
        return "did not fuse " + user->describe() + " into " + op->describe() + ": it broadcasts or changes the type";
      });
    }
    if (!a.act.none() || !user || user->operand(0) != op->result() || user->result()->type() != op->result()->type())
      return false;
    INFC_ASSIGN_OR_RETURN(std::optional<Activation> act, epilogueActivation(*user));
    if (!act) {
      if (!user->is(OpKind::OnnxAdd))
        ctx.remark(name(), [&] { return "did not fuse " + user->describe() + " into " + op->describe() + ": not an epilogue activation"; });
      return false;
    }
    ctx.remark(name(), [&] { return "fused " + user->describe() + " into " + op->describe(); });
    a.act = *act;
    recordAccCalibration(ctx, *op);
    AttrMap m = op->attrs();
    a.write(m);
    replacePattern({op, user}, OpKind::InfcMatmul, op->operands(), std::move(m));
    ++ctx.stat(name(), "activations-fused");
    return true;
  }

  /// matmul(a, b) + bias -> infc.matmul(a, b, bias), or nullptr.
  static Operation *fuseBias(Operation *mm) {
    Value *d = mm->result();
    const TensorType &bt = mm->operand(1)->type();
    Operation *add = soleUser(d);
    if (!add || !add->is(OpKind::OnnxAdd) || add->result()->type() != d->type() || !d->type().isStatic() ||
        bt.rank() != 2 || d->type().rank() < 1)
      return nullptr;
    Value *bias = add->operand(0) == d ? add->operand(1) : add->operand(0);
    const Tensor *t = getConstantValue(bias);
    int64_t n = d->type().staticShape().back();
    if (bias == d || !t || t->dtype() != d->type().elem() || t->numElements() != n || t->shape().empty() ||
        t->shape().back() != n || n == 1)
      return nullptr;
    if (t->rank() != 1)
      bias = createConstant(*mm->parentBlock(), t->reshaped({n}), bias->name() + ".vec", mm);
    return replacePattern({mm, add}, OpKind::InfcMatmul, {mm->operand(0), mm->operand(1), bias}, {});
  }
};

} // namespace

std::unique_ptr<Pass> createFuseMatmulEpiloguePass() { return std::make_unique<FuseMatmulEpiloguePass>(); }

} // namespace infc
