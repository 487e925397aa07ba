// fuse-conv-epilogue: what follows a convolution joins its epilogue, y = act(conv(x, w) + b + z),
// when the convolution's result has no other reader (it then never exists in memory):
//   add(conv(x, w, b), z) -> conv(x, w, b, z)            z: a same-typed computed tensor (residual)
//   act(conv(...))        -> conv(...) {act}             Relu, Sigmoid, Tanh, LeakyRelu, HardSwish,
//                                                        HardSigmoid, Gelu, Clip(constant bounds)
//   mul(y, sigmoid(y)), y = conv(...) -> conv(...) {act = "silu"}
// An activation ends the epilogue: nothing fuses after it.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/Rewrite.h"


namespace infc {
namespace {

class FuseConvEpiloguePass final : public Pass {
public:
  std::string_view name() const override { return "fuse-conv-epilogue"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    return rewriteUntilFixed(graph, [&](Operation *op) -> Expected<bool> {
      return op->is(OpKind::InfcConv) ? fuseOne(op, ctx) : Expected<bool>(false);
    });
  }

private:
  Expected<bool> fuseOne(Operation *conv, PassContext &ctx) {
    INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(*conv));
    if (!a.act.none())
      return false;
    Value *y = conv->result();
    std::vector<Value *> operands = conv->operands();
    operands.resize(4, nullptr);
    Operation *user = soleUser(y);
    if (user && user->is(OpKind::OnnxAdd) && !conv->hasOperand(3)) {
      Value *other = user->operand(0) == y ? user->operand(1) : user->operand(0);
      if (other != y && other->type() == y->type() && user->result()->type() == y->type() && !getConstantValue(other)) {
        ctx.remark(name(), [&] { return "fused the residual add " + user->describe() + " into " + conv->describe(); });
        operands[3] = other;
        // The fused conv takes the Add's place: the residual is computed before it.
        replacePattern({conv, user}, OpKind::InfcConv, trimmed(operands), conv->attrs());
        ++ctx.stat(name(), "residuals-fused");
        return true;
      }
      ctx.remark(name(), [&] {
        return "did not fuse " + user->describe() + " into " + conv->describe() + ": " +
               (other == y ? "it adds the result to itself"
                : getConstantValue(other) ? "the other operand is a constant"
                                          : "it broadcasts or changes the type");
      });
    } else if (user && user->is(OpKind::OnnxAdd)) {
      ctx.remark(name(), [&] {
        return "did not fuse " + user->describe() + " into " + conv->describe() + ": the convolution has a residual already";
      });
    }
    if (user && user->result()->type() == y->type() && user->operand(0) == y) {
      INFC_ASSIGN_OR_RETURN(std::optional<Activation> act, epilogueActivation(*user));
      if (act) {
        ctx.remark(name(), [&] { return "fused " + user->describe() + " into " + conv->describe(); });
        a.act = *act;
        AttrMap m = conv->attrs();
        a.write(m);
        replacePattern({conv, user}, OpKind::InfcConv, trimmed(operands), std::move(m));
        ++ctx.stat(name(), "activations-fused");
        return true;
      }
    }
    // SiLU as exporters write it: y * sigmoid(y), y read by exactly those two ops.
    if (y->users().size() == 2 && !y->isGraphOutput()) {
      Operation *sig = nullptr, *mul = nullptr;
      for (Operation *u : y->users()) {
        if (u->is(OpKind::OnnxSigmoid))
          sig = u;
        else if (u->is(OpKind::OnnxMul))
          mul = u;
      }
      if (sig && mul && soleUser(sig->result()) == mul && mul->result()->type() == y->type() &&
          ((mul->operand(0) == y && mul->operand(1) == sig->result()) ||
           (mul->operand(1) == y && mul->operand(0) == sig->result()))) {
        ctx.remark(name(), [&] { return "fused SiLU (" + sig->describe() + ", " + mul->describe() + ") into " + conv->describe(); });
        a.act = Activation{Act::Silu, {}};
        AttrMap m = conv->attrs();
        a.write(m);
        replacePattern({conv, sig, mul}, OpKind::InfcConv, trimmed(operands), std::move(m));
        ++ctx.stat(name(), "activations-fused");
        return true;
      }
    }
    if (!user && !y->users().empty())
      ctx.remark(name(), [&] {
        return "nothing fused into " + conv->describe() + ": its result " +
               (y->isGraphOutput() ? std::string("is a graph output") : "has " + std::to_string(y->users().size()) + " readers");
      });
    return false;
  }

  /// Drops trailing absent operands (bias and residual are optional).
  static std::vector<Value *> trimmed(std::vector<Value *> v) {
    while (!v.empty() && !v.back())
      v.pop_back();
    return v;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseConvEpiloguePass() { return std::make_unique<FuseConvEpiloguePass>(); }

} // namespace infc
