// to-fp16: FP16 storage for float32 tensors. Graph inputs and outputs keep their float32 types
// (Casts at the boundary); float32 constants become float16; Cast-to-float32 inside the graph
// casts to float16 instead; types are re-inferred so every op computes on float16 storage.
// Kernels still accumulate in float32 (reductions, softmax sums, normalization statistics,
// cuBLASLt/cuDNN compute types), which is where FP16 would otherwise overflow or lose accuracy.
#include "ir/OpHooks.h"
#include "passes/Pass.h"

namespace infc {
namespace {

/// Operands that must stay float32 whatever the graph computes in (they are parameters, not data).
bool keepsFloat32(const Operation &user, size_t operand) {
  return user.is(OpKind::OnnxResize) && (operand == 1 || operand == 2);
}

class Fp16Pass final : public Pass {
public:
  std::string_view name() const override { return "to-fp16"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    Block &body = graph.body();
    bool changed = false;
    Operation *first = body.ops().empty() ? nullptr : body.ops().front().get();
    // Inputs: cast to f16 right away.
    for (const auto &arg : body.arguments()) {
      if (arg->type().elem() != DType::F32 || !arg->hasUses())
        continue;
      AttrMap a;
      a.set("to", static_cast<int64_t>(DType::F16));
      TensorType t = arg->type();
      t.setElem(DType::F16);
      Operation *cast = body.create(OpKind::OnnxCast, {arg.get()}, {t}, a, {}, first, {arg->name() + ".f16"});
      std::vector<Operation *> users = arg->users();
      for (Operation *u : users)
        if (u != cast)
          for (size_t i = 0; i < u->numOperands(); ++i)
            if (u->operand(i) == arg.get())
              u->setOperand(i, cast->result());
      changed = true;
      ++ctx.stat(name(), "inputs-cast");
    }
    // Outputs keep float32: remember which were float32.
    std::vector<bool> wasF32;
    for (const GraphOutput &o : graph.outputs())
      wasF32.push_back(o.value->type().elem() == DType::F32);
    for (Operation *op : body.opPointers()) {
      if (op->is(OpKind::OnnxConstant)) {
        const Tensor *t = getConstantValue(op->result());
        bool param = false;
        for (Operation *u : op->result()->users())
          for (size_t i = 0; i < u->numOperands(); ++i)
            param = param || (u->operand(i) == op->result() && keepsFloat32(*u, i));
        if (t && t->dtype() == DType::F32 && !param) {
          op->attrs().set("value", t->castTo(DType::F16));
          ++ctx.stat(name(), "constants-converted");
          changed = true;
        }
      } else if (op->is(OpKind::OnnxCast) && *op->attrs().getInt("to", 0) == static_cast<int64_t>(DType::F32)) {
        op->attrs().set("to", static_cast<int64_t>(DType::F16));
        changed = true;
      } else if (op->is(OpKind::OnnxConstantOfShape) && op->attrs().has("value")) {
        Tensor v = *op->attrs().getTensor("value");
        if (v.dtype() == DType::F32) {
          op->attrs().set("value", v.castTo(DType::F16));
          changed = true;
        }
      }
      INFC_RETURN_IF_ERROR(inferShapes(*op));
    }
    // Outputs back to float32.
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      Value *v = graph.outputs()[i].value;
      if (!wasF32[i] || v->type().elem() != DType::F16)
        continue;
      AttrMap a;
      a.set("to", static_cast<int64_t>(DType::F32));
      TensorType t = v->type();
      t.setElem(DType::F32);
      Operation *cast = body.create(OpKind::OnnxCast, {v}, {t}, a, {}, nullptr, {graph.outputs()[i].name + ".f32"});
      graph.setOutputValue(i, cast->result());
      changed = true;
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createFp16Pass() { return std::make_unique<Fp16Pass>(); }

} // namespace infc
