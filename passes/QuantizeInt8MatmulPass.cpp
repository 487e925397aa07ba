// quantize-int8-matmul: INT8 matmuls from calibrated ranges (`infc build --int8`, after
// quantize-int8 has taken the convolutions). Every f16 or bf16 infc.matmul (and onnx.MatMul and
// onnx.Gemm with constant 2-D weights, as quantize-fp8 takes them) whose input and accumulator
// have ranges becomes the INT8 form of infc.matmul (ir/InfcAttrs.h), which code generation runs as
// cuBLASLt's IMMA GEMM (int8 A and B, int32 accumulation, int8 D through a float32 alpha and bias):
//  - input: symmetric per-tensor scale amax / 127, with amax the largest |x| calibration saw
//    unless `--calib-method` was given (PassContext::int8MatmulInputsAtMax: the entropy method
//    clips the outlier channels of transformer activations, all-MiniLM-L6-v2 0.954 against 0.995
//    mean cosine); a float input is quantized by one onnx.QuantizeLinear per value, shared by its
//    readers (and with quantize-int8's where the scale agrees);
//  - weights: symmetric per-tensor scale max |w| / 127, stored [N, K]. Per tensor, not per
//    channel as convolutions have them: the H200's IMMA GEMMs take a scalar alpha only (a vector
//    of alphas has no algorithm without a C, docs/benchmarks.md, the INT8 probe);
//  - result: int8 with the scale of the matmul-plus-bias's calibrated range (`acc_amax` where a
//    fusion took that value away; passes/QuantUtil.h, accCalibration), rounded to the result's float
//    type so that an onnx.DequantizeLinear in that type multiplies by exactly it. alpha =
//    input scale * weight scale / result scale, the bias over the result scale in float32, a ReLU
//    (without residual) in the epilogue;
//  - after it: DequantizeLinear to the float type, then the residual add and the activation as
//    onnx ops, which fuse-elementwise makes one kernel with the dequantization (and with the next
//    INT8 matmul's QuantizeLinear when that is the only reader: BERT's FFN GELU reads int8 and
//    writes int8).
// Accuracy rule: a matmul stays 16-bit where its input or its int8 result is heavy-tailed, its
// largest |x| more than kMaxSpread times its root mean square over the calibration data (one
// scale per tensor then leaves a typical value fewer than 127 / 32, about 4, levels: BERT's FFN
// output projections, whose inputs and results carry a few huge channels; a numpy simulation of
// all-MiniLM-L6-v2 drops from 0.99 to 0.87 mean cosine with them in INT8, docs/int8.md), and,
// with `--calib-method`, where the method's threshold cuts off more of its input than rounding
// at that threshold loses (the cache's clip_rms against step / sqrt(12)).
// What stays in f16 says why in `precision`; `--layer-precision NAME:fp16|fp32` keeps a matmul
// out of INT8, NAME:int8 keeps it in INT8 whatever the accuracy rule and the timing say (on an op
// that cannot be an INT8 matmul or convolution it is an error naming why), and
// `--strict-precision` makes any matmul left in 16-bit one. With the target GPU (or its
// timing cache) a matmul stays 16-bit where its INT8 form, quantize and dequantize traffic
// included, is not faster.
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

/// The accuracy rule's bound on max |x| / rms (see the file comment).
constexpr double kMaxSpread = 32.0;

/// Why `s` is too heavy-tailed for one int8 scale ("" when it is not, or unknown).
std::string heavyTailed(const TensorSpread &s, const std::string &what) {
  if (!s.known() || s.max <= kMaxSpread * s.rms)
    return "";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s is heavy-tailed for INT8 (largest |x| %.4g is %.0f times its rms %.4g; the bound is %.0f)",
                what.c_str(), s.max, s.max / s.rms, s.rms, kMaxSpread);
  return buf;
}

class QuantizeInt8MatmulPass final : public Pass {
public:
  std::string_view name() const override { return "quantize-int8-matmul"; }

  Expected<bool> run(Graph &graph, PassContext &ctx) override {
    INFC_RETURN_IF_ERROR(requireCalibratedRanges(ctx, "quantize-int8-matmul"));
    ctx_ = &ctx;
    Block &body = graph.body();
    QuantMatmulPolicy policy{std::string(name()), "int8", "INT8", DType::I8,
                             "INT8 applies to convolutions and to matmuls with constant weights",
                             "Conv", // quantize-int8's (the QuantizeLinear ops it made carry their node too)
                             [&](const Operation &op) { return ineligible(op); }, [&](const Operation &op) { return heavyTails(op); },
                             [&](const Operation &op, const std::vector<Operation *> &chosen) { return extraBytes(op, chosen); }};
    INFC_ASSIGN_OR_RETURN(std::vector<Operation *> quant, chooseQuantMatmuls(body, ctx, policy));
    for (Operation *op : quant) {
      INFC_RETURN_IF_ERROR(rewrite(body, op));
      ++ctx.stat(name(), "matmuls-int8");
    }
    return !quant.empty();
  }

private:
  const PassContext *ctx_ = nullptr;
  std::unordered_map<const Value *, Value *> quantized_; ///< float value -> its int8 QuantizeLinear
  /// Weights -> their int8 [N, K] constant and scale (matmuls sharing weights share these).
  std::unordered_map<const Value *, std::pair<Value *, float>> weights_;

  /// The activation of `op` (none for onnx.MatMul and onnx.Gemm).
  static Activation activationOf(const Operation &op) {
    if (!op.is(OpKind::InfcMatmul))
      return {};
    Expected<MatmulAttrs> a = MatmulAttrs::read(op);
    return a.isOk() ? a->act : Activation{};
  }

  /// Whether the ReLU runs in the GEMM's epilogue (no residual after it).
  static bool reluInEpilogue(const Operation &op) {
    return activationOf(op).kind == Act::Relu && !(op.is(OpKind::InfcMatmul) && op.hasOperand(3));
  }

  /// Why `op` stays in 16-bit, or "" when it can be an INT8 matmul.
  std::string ineligible(const Operation &op) const {
    if (std::string why = quantMatmulIneligible(op, "INT8"); !why.empty())
      return why;
    const Value *x = op.operand(0);
    Activation act = activationOf(op);
    if (!act.none() && !reluInEpilogue(op) && !onnxActivation(act))
      return "activation " + std::string(act.name()) + " after an INT8 matmul has no kernel yet";
    if (!calibratedRange(ctx_->int8Ranges, x))
      return "no calibrated range for its input %" + x->name();
    if (!accCalibration(*ctx_, op))
      return "no calibrated range for its result before the residual and activation";
    return "";
  }

  /// The accuracy rule's objection to `op` in INT8 (see the file comment), or "".
  std::string heavyTails(const Operation &op) const {
    const Value *x = op.operand(0);
    TensorSpread xs = calibratedSpread(ctx_->int8Ranges, ctx_->int8Spread, x);
    if (std::string why = heavyTailed(xs, "its input %" + x->name()); !why.empty())
      return why;
    // With --calib-method the input is quantized over the method's threshold: not where what it
    // cuts off outweighs the rounding it saves (clipped rms above the rounding error's rms,
    // step / sqrt(12)). The entropy method's KL divergence counts clipped values by how often
    // they occur, not by how far they are cut: all-MiniLM-L6-v2's QKV inputs lose their outlier
    // channels (0.954 mean cosine, 0.998 with those six matmuls in FP16; docs/accuracy.md).
    const double *amax = calibratedRange(ctx_->int8Ranges, x);
    if (!(ctx_->int8MatmulInputsAtMax && xs.known()) && amax && *amax > 0 && xs.clipRms >= 0) {
      double roundRms = *amax / 127.0 / std::sqrt(12.0);
      if (xs.clipRms > roundRms) {
        char buf[240];
        std::snprintf(buf, sizeof buf,
                      "its calibrated range cuts off more of its input %%%s than rounding loses (clipped rms %.3g against "
                      "rounding rms %.3g at amax %.4g of its largest |x| %.4g)",
                      x->name().c_str(), xs.clipRms, roundRms, *amax, xs.max);
        return buf;
      }
    }
    return heavyTailed(accCalibration(*ctx_, op)->spread, "its result");
  }

  /// The memory traffic the INT8 form adds: its input's quantization (f16 read, int8 written;
  /// int8 written only when a LayerNorm writes the input, fuse-norm-quant; nothing when the input
  /// is the activation of an INT8 matmul chosen before, whose activation kernel then writes int8
  /// instead of f16: BERT's FFN output projection after the GELU; nothing when an attention
  /// writes the input, fuse-attention-quant: it then writes int8 instead of f16), shared by the
  /// matmuls reading that copy, and the dequantization of its result (int8 read, f16 written,
  /// plus the residual read when one is added there), unless an activation kernel reads the
  /// result anyway (it then reads int8 instead of f16), a LayerNorm is its only reader (which
  /// then reads the int8 result, and the residual the FP16 GEMM read as its C: 1 byte more) or
  /// an attention reads it as its packed q, k, v (which then reads int8 instead of f16).
  double extraBytes(const Operation &op, const std::vector<Operation *> &chosen) const {
    const Value *x = op.operand(0), *y = op.result();
    const Operation *p = x->definingOp();
    bool activationWritesInt8 = p && x->users().size() == 1 && !x->isGraphOutput() &&
                                std::find(chosen.begin(), chosen.end(), p) != chosen.end() && !activationOf(*p).none() &&
                                !reluInEpilogue(*p);
    bool attentionWritesInt8 = attentionWriting(x) && x->users().size() == 1;
    size_t readers = 0;
    for (const Operation *u : x->users())
      readers += quantMatmulCandidate(*u) && u->operand(0) == x;
    double in = activationWritesInt8 || attentionWritesInt8 ? 0.0
                                     : (normWritesQuantized(x) ? 1.0 : 3.0) * static_cast<double>(*x->type().numElements()) /
                                           static_cast<double>(std::max<size_t>(readers, 1));
    Activation act = activationOf(op);
    bool kernelAnyway = !act.none() && !reluInEpilogue(op);
    bool residual = op.is(OpKind::InfcMatmul) && op.hasOperand(3);
    double n = static_cast<double>(*y->type().numElements());
    if (kernelAnyway)
      return in;
    if (act.none() && normReadsDequantized(y))
      return in + (residual ? 1.0 : 0.0) * n;
    if (act.none() && !residual && attentionReading(y))
      return in;
    return in + (residual ? 5.0 : 3.0) * n;
  }

  /// `x` in int8 with `scale`: one QuantizeLinear per value (quantize-int8's where it made one
  /// with the same scale), placed before its first INT8 reader.
  Value *quantize(Block &body, Value *x, float scale, Operation *before) {
    Value *&q = quantized_[x];
    if (q)
      return q;
    auto comesFirst = [&](const Operation *a) { // a before `before` in program order
      for (const auto &o : body.ops())
        if (o.get() == a || o.get() == before)
          return o.get() == a;
      return false;
    };
    for (Operation *u : x->users())
      if (u->is(OpKind::OnnxQuantizeLinear) && u->result()->type().elem() == DType::I8 && !u->hasOperand(2) &&
          u->operand(0) == x && scalarValue(u->operand(1)) == std::optional<double>(static_cast<double>(scale)) &&
          comesFirst(u))
        return q = u->result();
    return q = createQuantize(body, x, scale, DType::I8, "scale", "i8", before);
  }

  /// `v` rounded to the float type `t` (the scale a DequantizeLinear in `t` multiplies by), at
  /// least t's smallest normal value.
  static double representable(double v, DType t) {
    double tiny = t == DType::BF16 ? std::ldexp(1.0, -126) : std::ldexp(1.0, -14);
    Tensor s(t, {});
    s.setDouble(0, std::max(v, tiny));
    return s.getDouble(0);
  }

  Status rewrite(Block &body, Operation *op) {
    Value *x = op->operand(0), *y = op->result();
    DType ft = y->type().elem();
    INFC_ASSIGN_OR_RETURN(QuantGemmForm g, quantGemmForm(*op, "INT8"));
    Activation act = activationOf(*op);
    bool relu = reluInEpilogue(*op);
    Value *z = op->is(OpKind::InfcMatmul) && op->hasOperand(3) ? op->operand(3) : nullptr;

    TensorSpread xSpread = calibratedSpread(ctx_->int8Ranges, ctx_->int8Spread, x);
    bool atMax = ctx_->int8MatmulInputsAtMax && xSpread.known();
    float xs = int8ScaleOf(atMax ? xSpread.max : *calibratedRange(ctx_->int8Ranges, x));
    Value *xq = quantize(body, x, xs, op);
    auto &[wq, ws] = weights_[op->operand(1)];
    if (!wq) {
      auto [t, scale] = quantizedWeightsNK(*op, g.transB, DType::I8, 127.0,
                                           [](double v) { return std::clamp(std::nearbyint(v), -127.0, 127.0); });
      ws = scale;
      wq = createConstant(body, t, op->operand(1)->name() + ".i8", op);
    }
    double ys = representable(accCalibration(*ctx_, *op)->amax / 127.0, ft);

    // The bias in the result's units, float32.
    const Tensor *b = g.bias ? g.bias : (op->is(OpKind::InfcMatmul) && op->hasOperand(2) ? getConstantValue(op->operand(2)) : nullptr);
    Value *bias = nullptr;
    if (op->is(OpKind::InfcMatmul) && op->hasOperand(2) && !b)
      return internalError(op->describe() + ": quantize-int8-matmul needs a constant bias");
    if (b) {
      Tensor bd = b->castTo(DType::F64);
      std::vector<float> bf(static_cast<size_t>(bd.numElements()));
      for (size_t i = 0; i < bf.size(); ++i)
        bf[i] = static_cast<float>(bd.getDouble(static_cast<int64_t>(i)) / ys);
      bias = createConstant(body, Tensor::fromF32(bf, {bd.numElements()}), op->operand(2)->name() + ".f32", op);
    }
    MatmulAttrs a;
    a.inType = DType::I8;
    a.outType = DType::I8;
    a.alpha = static_cast<float>(static_cast<double>(g.alpha) * static_cast<double>(xs) * static_cast<double>(ws) / ys);
    if (relu)
      a.act.kind = Act::Relu;
    AttrMap attrs = op->attrs();
    for (const char *dropped : {"transA", "transB", "beta", "act_params", "acc_amax"})
      attrs.erase(dropped);
    a.write(attrs);
    attrs.set("precision", "int8: input scale " + formatScale(xs) + (atMax ? " (max |x|)" : "") + ", weight scale " + formatScale(ws) +
                               " per tensor, output int8 scale " + formatScale(ys));
    std::vector<Value *> operands = {xq, wq};
    if (bias)
      operands.push_back(bias);
    TensorType it = y->type();
    it.setElem(DType::I8);
    Operation *mm = body.create(OpKind::InfcMatmul, operands, {it}, attrs, op->loc(), op, {y->name() + ".i8"});

    // Dequantize, then the residual and the activation the epilogue did not take.
    Tensor st(ft, {});
    st.setDouble(0, ys);
    Value *scale = createConstant(body, st, y->name() + ".scale", op);
    Value *cur = body.create(OpKind::OnnxDequantizeLinear, {mm->result(), scale}, {y->type()}, {}, op->loc(), op,
                             {y->name() + ".dq"})
                     ->result();
    if (z)
      cur = body.create(OpKind::OnnxAdd, {cur, z}, {y->type()}, {}, op->loc(), op, {y->name() + ".res"})->result();
    if (!act.none() && !relu) {
      std::optional<std::pair<OpKind, AttrMap>> onnxAct = onnxActivation(act); // checked by ineligible
      cur = body.create(onnxAct->first, {cur}, {y->type()}, std::move(onnxAct->second), op->loc(), op, {y->name() + ".act"})
                ->result();
    }
    std::string yName = y->name();
    y->replaceAllUsesWith(cur);
    op->erase();
    body.graph()->renameValue(cur, yName);
    return Status::ok();
  }
};

} // namespace

std::unique_ptr<Pass> createQuantizeInt8MatmulPass() { return std::make_unique<QuantizeInt8MatmulPass>(); }

} // namespace infc
