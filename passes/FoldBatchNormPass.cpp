// fold-batchnorm: an inference BatchNormalization whose input is a Conv with constant weights
// (and bias), and whose scale, bias, mean and variance are constants, folds into that Conv:
//   s = scale / sqrt(var + eps);  W'[k] = W[k] * s[k];  b'[k] = (b[k] - mean[k]) * s[k] + B[k]
// One layer instead of two, and the conv's epilogue can then absorb what follows the BN.
#include "passes/Pass.h"

#include <cmath>

namespace infc {
namespace {

bool isFloat(const Tensor *t) {
  return t && (t->dtype() == DType::F32 || t->dtype() == DType::F64 || t->dtype() == DType::F16 ||
               t->dtype() == DType::BF16);
}

class FoldBatchNormPass final : public Pass {
public:
  std::string_view name() const override { return "fold-batchnorm"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    bool changed = false;
    for (Operation *bn : graph.body().opPointers()) {
      if (!bn->is(OpKind::OnnxBatchNormalization) || bn->numResults() != 1 || bn->numOperands() != 5)
        continue;
      INFC_ASSIGN_OR_RETURN(int64_t training, bn->attrs().getInt("training_mode", 0));
      if (training != 0)
        continue;
      Value *x = bn->operand(0);
      Operation *conv = x->definingOp();
      if (!conv || !conv->is(OpKind::OnnxConv) || x->users().size() != 1 || x->isGraphOutput())
        continue;
      const Tensor *w = getConstantValue(conv->operand(1));
      const Tensor *b = conv->hasOperand(2) ? getConstantValue(conv->operand(2)) : nullptr;
      if (!isFloat(w) || (conv->hasOperand(2) && !b) || w->shape().empty())
        continue;
      const Tensor *p[4];
      bool ok = true;
      int64_t k = w->shape()[0];
      for (int i = 0; i < 4; ++i) {
        p[i] = getConstantValue(bn->operand(static_cast<size_t>(i) + 1));
        ok = ok && isFloat(p[i]) && p[i]->numElements() == k;
      }
      if (!ok || (b && b->numElements() != k))
        continue;
      INFC_ASSIGN_OR_RETURN(float eps, bn->attrs().getFloat("epsilon", 1e-5f));
      Tensor nw(w->dtype(), w->shape()), nb(w->dtype(), {k});
      int64_t per = w->numElements() / k;
      for (int64_t c = 0; c < k; ++c) {
        double s = p[0]->getDouble(c) / std::sqrt(p[3]->getDouble(c) + static_cast<double>(eps));
        for (int64_t i = 0; i < per; ++i)
          nw.setDouble(c * per + i, w->getDouble(c * per + i) * s);
        nb.setDouble(c, ((b ? b->getDouble(c) : 0.0) - p[2]->getDouble(c)) * s + p[1]->getDouble(c));
      }
      auto constant = [&](Tensor t, const std::string &suffix) {
        AttrMap a;
        TensorType type = TensorType::fromStatic(t.dtype(), t.shape());
        a.set("value", std::move(t));
        return conv->parentBlock()->create(OpKind::OnnxConstant, {}, {type}, std::move(a), conv->loc(), conv,
                                           {x->name() + suffix})->result();
      };
      Value *wv = constant(std::move(nw), ".bn_weight"), *bv = constant(std::move(nb), ".bn_bias");
      conv->setOperands({conv->operand(0), wv, bv});
      Location loc = Location::fused({&conv->loc(), &bn->loc()});
      conv->setLoc(loc);
      std::string outName = bn->result()->name();
      bn->result()->replaceAllUsesWith(x);
      bn->erase();
      graph.renameValue(x, outName);
      ++ctx.stat(name(), "batchnorms-folded");
      changed = true;
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }

} // namespace infc
