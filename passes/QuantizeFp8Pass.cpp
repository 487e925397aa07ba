// quantize-fp8: FP8 (E4M3) matmuls from calibrated ranges (`infc build --fp8`). Every f16 or
// bf16 infc.matmul (and onnx.MatMul, one without a bias to fuse, and onnx.Gemm, as exporters write
// a linear layer on 2-D inputs) with constant 2-D weights whose input has a range becomes the FP8
// form of infc.matmul (ir/InfcAttrs.h), which code generation runs as cuBLASLt's E4M3 GEMM:
//  - activation: symmetric per-tensor scale amax / 448 (E4M3's largest finite value); a float
//    input is quantized by one onnx.QuantizeLinear to f8e4m3 per value, shared by its readers;
//  - weights: symmetric per-tensor scale max |w| / 448, stored transposed ([N, K], one row per
//    output column: cuBLASLt's FP8 GEMMs take "TN" operands only);
//  - alpha = input scale * weight scale; the bias, residual and activation stay as they were, in
//    the matmul's 16-bit type, and the result keeps that type.
// What stays in f16 says why in `precision`: non-constant or batched weights, K or N not a
// multiple of 16 (cuBLASLt's FP8 GEMMs need 16-element leading dimensions), no calibrated range,
// `--layer-precision NAME:fp16|fp32`. `--layer-precision NAME:fp8` on an op that cannot be an FP8
// matmul is an error naming why, and `--strict-precision` makes any matmul left in f16 one.
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"
#include "passes/QuantUtil.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <unordered_map>

namespace infc {
namespace {

constexpr double kE4m3Max = 448.0;

/// The scale of a tensor of range `amax` as float32 (what the kernels multiply by).
float fp8Scale(double amax) { return amax > 0 ? static_cast<float>(amax / kE4m3Max) : static_cast<float>(1.0 / kE4m3Max); }

class QuantizeFp8Pass final : public Pass {
public:
  std::string_view name() const override { return "quantize-fp8"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    INFC_RETURN_IF_ERROR(requireCalibratedRanges(ctx, "quantize-fp8", "--fp8"));
    ranges_ = &ctx.int8Ranges;
    Block &body = graph.body();
    QuantMatmulPolicy policy{std::string(name()), "fp8", "FP8", DType::F8E4M3, "FP8 applies to matmuls with constant weights",
                             "", [&](const Operation &op) { return ineligible(op); }, nullptr,
                             [&](const Operation &op, const std::vector<Operation *> &) { return quantizeBytes(op); }};
    INFC_ASSIGN_OR_RETURN(std::vector<Operation *> quant, chooseQuantMatmuls(body, ctx, policy));
    for (Operation *op : quant) {
      INFC_RETURN_IF_ERROR(rewrite(body, op));
      ++ctx.stat(name(), "matmuls-fp8");
    }
    for (Value *x : quantizedInOrder_)
      if (splitActivation(x))
        ++ctx.stat(name(), "activations-split");
    return !quant.empty();
  }

private:
  const std::map<std::string, double> *ranges_ = nullptr;
  std::unordered_map<const Value *, Value *> quantized_; ///< float value -> its f8e4m3 QuantizeLinear
  std::vector<Value *> quantizedInOrder_;                ///< the keys of quantized_, as created
  std::unordered_map<const Value *, float> scaleOf_;     ///< f8e4m3 value -> its scale
  /// Weights -> their e4m3 [N, K] constant and scale (matmuls sharing weights share these).
  std::unordered_map<const Value *, std::pair<Value *, float>> weights_;

  /// The memory traffic of quantizing `op`'s input, its share of it: f16 read and e4m3 written,
  /// split between the matmuls that would read the e4m3 copy; nothing when the quantization
  /// fuses with the activation kernel that writes the input anyway (splitActivation) or with the
  /// attention that writes it (which then writes e4m3 instead of f16, fuse-attention-quant); e4m3
  /// written only when a LayerNorm writes the input (fuse-norm-quant).
  double quantizeBytes(const Operation &op) const {
    const Value *x = op.operand(0);
    if (splittableActivation(x) || (attentionWriting(x) && x->users().size() == 1))
      return 0.0;
    size_t readers = 0;
    for (const Operation *u : x->users())
      readers += (u->is(OpKind::InfcMatmul) || u->is(OpKind::OnnxMatMul) || u->is(OpKind::OnnxGemm)) && u->operand(0) == x;
    return (normWritesQuantized(x) ? 1.0 : 3.0) * static_cast<double>(*x->type().numElements()) /
           static_cast<double>(std::max<size_t>(readers, 1));
  }

  /// Why `op` stays in 16-bit, or "" when it can be an FP8 matmul.
  std::string ineligible(const Operation &op) const {
    if (std::string why = quantMatmulIneligible(op, "FP8"); !why.empty())
      return why;
    if (!calibratedRange(*ranges_, op.operand(0)))
      return "no calibrated range for its input %" + op.operand(0)->name();
    return "";
  }

  /// The onnx op (and its attributes) that the activation producing `x` becomes when
  /// splitActivation takes it off its matmul: `x` is an infc.matmul's result read by one op (its
  /// quantization, or the matmul that will read it in e4m3) and no graph output, and the
  /// activation is one cuBLASLt's epilogue does not run (GELU, sigmoid, tanh); nullopt otherwise.
  static std::optional<std::pair<OpKind, AttrMap>> splittableActivation(const Value *x) {
    const Operation *mm = x->definingOp();
    if (!mm || !mm->is(OpKind::InfcMatmul) || x->users().size() != 1 || x->isGraphOutput())
      return std::nullopt;
    Expected<MatmulAttrs> a = MatmulAttrs::read(*mm);
    if (!a.isOk())
      return std::nullopt;
    // Only those cuBLASLt's epilogue does not run (a ReLU stays in it).
    Act k = a->act.kind;
    if (k != Act::Gelu && k != Act::GeluTanh && k != Act::Sigmoid && k != Act::Tanh)
      return std::nullopt;
    return onnxActivation(a->act);
  }

  /// When `x` (quantized for an FP8 matmul) has a splittableActivation, the activation becomes an
  /// onnx op between the matmul and the QuantizeLinear, so that fuse-elementwise makes activation
  /// and quantization one kernel (f16 read once, e4m3 written) instead of two passes over the f16
  /// tensor.
  bool splitActivation(Value *x) {
    std::optional<std::pair<OpKind, AttrMap>> split = splittableActivation(x);
    if (!split)
      return false;
    Operation *mm = x->definingOp();
    MatmulAttrs plain = *MatmulAttrs::read(*mm); // read by splittableActivation
    plain.act = Activation{};
    AttrMap attrs = mm->attrs();
    plain.write(attrs);
    Block &body = *mm->parentBlock();
    Operation *pre = body.create(OpKind::InfcMatmul, std::vector<Value *>(mm->operands().begin(), mm->operands().end()),
                                 {x->type()}, attrs, mm->loc(), mm, {x->name() + ".preact"});
    replaceWithOp(mm, split->first, {pre->result()}, std::move(split->second), x->type(), mm->loc());
    return true;
  }

  /// `x` in f8e4m3 with `scale`: one QuantizeLinear per value, placed before its first FP8 reader.
  Value *quantize(Block &body, Value *x, float scale, Operation *before) {
    Value *&q = quantized_[x];
    if (q)
      return q;
    q = createQuantize(body, x, scale, DType::F8E4M3, "fp8scale", "f8", before);
    scaleOf_[q] = scale;
    quantizedInOrder_.push_back(x);
    return q;
  }

  Status rewrite(Block &body, Operation *op) {
    MatmulAttrs a; // onnx.Gemm's attributes are read by quantGemmForm
    if (!op->is(OpKind::OnnxGemm)) {
      INFC_ASSIGN_OR_RETURN(a, MatmulAttrs::read(*op));
    }
    Value *x = op->operand(0), *y = op->result();
    float xs = fp8Scale(*calibratedRange(*ranges_, x));
    Value *xq = quantize(body, x, xs, op);
    xs = scaleOf_.at(xq);
    INFC_ASSIGN_OR_RETURN(QuantGemmForm g, quantGemmForm(*op, "FP8"));
    auto &[wq, ws] = weights_[op->operand(1)];
    if (!wq) {
      auto [t, scale] = quantizedWeightsNK(*op, g.transB, DType::F8E4M3, kE4m3Max, [](double v) { return v; });
      ws = scale;
      wq = createConstant(body, t, op->operand(1)->name() + ".f8", op);
    }
    bool fused = op->is(OpKind::InfcMatmul);
    Value *bias = fused && op->hasOperand(2) ? op->operand(2) : nullptr;
    if (g.bias) { // Gemm's C as the bias, in y's type, one value per column
      Tensor b = g.bias->castTo(y->type().elem());
      bias = createConstant(body, b.reshaped({b.numElements()}), op->operand(2)->name() + ".bias", op);
    }
    std::vector<Value *> operands = {xq, wq, bias, fused && op->hasOperand(3) ? op->operand(3) : nullptr};
    while (!operands.empty() && !operands.back())
      operands.pop_back();
    a.alpha = static_cast<float>(static_cast<double>(g.alpha) * static_cast<double>(xs) * static_cast<double>(ws));
    a.inType = DType::F8E4M3;
    a.outType = y->type().elem();
    AttrMap attrs = op->attrs();
    for (const char *gemmOnly : {"transA", "transB", "beta"})
      attrs.erase(gemmOnly);
    a.write(attrs);
    attrs.set("precision", "fp8: input scale " + formatScale(xs) + ", weight scale " + formatScale(ws) + " per tensor, output " +
                               std::string(dtypeName(a.outType)));
    replaceWithOp(op, OpKind::InfcMatmul, operands, std::move(attrs), y->type(), op->loc());
    return Status::ok();
  }
};

} // namespace

std::unique_ptr<Pass> createQuantizeFp8Pass() { return std::make_unique<QuantizeFp8Pass>(); }

} // namespace infc
