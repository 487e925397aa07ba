// What the quantization passes (quantize-int8, quantize-fp8) share: the calibrated range of a
// value, the precision the user asked for an op by ONNX node name, the QuantizeLinear they put
// before their readers, which matmuls FP8 considers, and how scales are printed.
#pragma once

#include "ir/IR.h"
#include "ir/InfcAttrs.h"
#include "passes/Pass.h"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace infc {

/// The symmetric int8 scale of a tensor of range `amax`, as float32 (what every kernel multiplies
/// by): amax / 127, 1/127 for an all-zero tensor so that quantizing never divides by 0.
inline float int8ScaleOf(double amax) { return amax > 0 ? static_cast<float>(amax / 127.0) : 1.0f / 127.0f; }

/// The calibrated range (amax) of `v`: its own ONNX name (less the suffixes passes add when they
/// re-create a value in another layout or precision: "x.nhwc", "x.f16"), else that of the value
/// it is a relayout, precision cast or reshape of; nullptr when none is known.
const double *calibratedRange(const std::map<std::string, double> &ranges, const Value *v);
/// What calibration saw of `v` (found as calibratedRange finds its range); unknown when nothing.
TensorSpread calibratedSpread(const std::map<std::string, double> &ranges, const std::map<std::string, TensorSpread> &spread,
                              const Value *v);

/// The error of quantization pass `pass` run without calibrated ranges (`flag`: "--int8" or
/// "--fp8", how infc build gets them), or OK.
Status requireCalibratedRanges(const PassContext &ctx, const std::string &pass, const std::string &flag = "--int8");

/// The precision `--layer-precision` asked for one of `op`'s ONNX nodes ("fp32", "fp16", "int8",
/// "fp8"; "" when none), and that node's name in `node`.
std::string askedPrecision(const Operation &op, const std::map<std::string, DType> &layerPrecision, std::string &node);

/// --strict-precision's error for the ops in `failures` ("op: why" each; the first five listed)
/// that would stay in `from` instead of `to` ("3 convolutions would stay in f16 instead of INT8").
Status strictPrecisionError(const std::vector<std::string> &failures, const std::string &noun, const std::string &from,
                            const std::string &to);

/// A new onnx.QuantizeLinear of `x` to `to` by the scalar `scale` (its constant named
/// `x.<scaleSuffix>`, its result `x.<resultSuffix>`), placed before `before`.
Value *createQuantize(Block &body, Value *x, float scale, DType to, const std::string &scaleSuffix,
                      const std::string &resultSuffix, Operation *before);

/// Whether fuse-norm-quant will make the quantization of `x` a second result of the layer or RMS
/// norm that writes `x` (1 byte more per element written there, no kernel of its own).
bool normWritesQuantized(const Value *x);
/// Whether fuse-norm-quant will make the layer or RMS norm that is the only reader of `v` read
/// `v`'s int8 form (the dequantization, and the residual add after it, inside the norm).
bool normReadsDequantized(const Value *v);

/// Whether `q` is onnx.QuantizeLinear to int8 or e4m3 by a scalar float32 constant with no zero
/// point (the quantization passes' own form), which fused kernels compute as they store.
bool scalarQuantization(const Operation &q);

/// Whether `d` is onnx.DequantizeLinear of int8 (or, with `e4m3`, of e4m3) by a scalar constant
/// of its result's type, no zero point (the quantization passes' own form, which fused kernels
/// compute as they load).
bool scalarDequantization(const Operation &d, bool e4m3);

/// `v` = a scalarDequantization to the float type `ft`, read by nothing else: its op, or nullptr.
Operation *soleDequantize(Value *v, DType ft, bool e4m3);

/// The infc.attention (not yet quantized, f16, bf16 or f32, static shapes) whose result is `x`,
/// directly or through one onnx.Reshape that is that result's only reader, or nullptr:
/// fuse-attention-quant makes such an attention write the quantization of `x` instead of `x`.
Operation *attentionWriting(const Value *x);
/// The infc.attention (as attentionWriting) that reads `v` as its packed q, k, v operand, directly
/// or through one onnx.Reshape, each the only reader of what it reads, or nullptr:
/// fuse-attention-quant makes it read the quantized form of `v`.
Operation *attentionReading(const Value *v);

/// Whether quantize-fp8 and quantize-int8-matmul consider `op`: an infc.matmul, or an onnx.MatMul
/// or onnx.Gemm with constant weights (a matmul of two activations, attention's, is none). What
/// the build's `fp8:` and `int8:` lines count as a matmul.
bool quantMatmulCandidate(const Operation &op);

/// The calibration of infc.matmul `mm`'s accumulator plus bias, before its residual and
/// activation (what an INT8 matmul's int8 result holds): its `acc_amax` (and `acc_max`,
/// `acc_rms`) attributes, which fuse-matmul-epilogue and fuse-sibling-matmuls record from the
/// calibration when they fuse that value away, else that of its result when nothing follows the
/// bias; nullopt when unknown.
struct AccCalibration {
  double amax = 0;
  TensorSpread spread;
};
std::optional<AccCalibration> accCalibration(const PassContext &ctx, const Operation &mm);

/// Records `acc_amax` (and `acc_max`, `acc_rms` when known) on infc.matmul `mm`, its
/// accCalibration before a fusion changes what its result holds, when calibrated ranges are
/// known and it has none yet.
void recordAccCalibration(const PassContext &ctx, Operation &mm);
/// The same attributes set to `c` (fuse-sibling-matmuls' combination of its members').
void setAccCalibration(AttrMap &attrs, const AccCalibration &c);

/// onnx.Gemm as a quantized matmul (FP8 or INT8, `what`) takes it: A untransposed, C (if any) a
/// constant bias of N values added once (beta 1), alpha positive. Other ops: the defaults.
struct QuantGemmForm {
  bool transB = false;
  float alpha = 1.0f;
  const Tensor *bias = nullptr;
};
Expected<QuantGemmForm> quantGemmForm(const Operation &op, const std::string &what);

/// Why candidate `op` cannot become a quantized (`what`: "FP8", "INT8") matmul for reasons both
/// forms share (already quantized, not a 16-bit float matmul, weights not constant 2-D, dynamic
/// shapes, Gemm's form, K or N not divisible by 16: 16-element leading dimensions), or "".
std::string quantMatmulIneligible(const Operation &op, const std::string &what);

/// The constant weights of candidate `op` ([K, N], or Gemm's [N, K] with transB) as a tensor of
/// `to` laid out [N, K] (one row per output column, what cuBLASLt's FP8 and IMMA GEMMs take) with
/// one symmetric scale, max |w| / `levels` (1 / levels for all-zero weights), returned with it.
/// `encode` maps w / scale to the stored value (rounding and clamping for int8; e4m3's own
/// conversion rounds).
std::pair<Tensor, float> quantizedWeightsNK(const Operation &op, bool transB, DType to, double levels,
                                            const std::function<double(double)> &encode);

/// How quantize-fp8 and quantize-int8-matmul choose their matmuls: one loop over the candidates,
/// with `--layer-precision`, the pass's own reasons, its accuracy rule, the timing and
/// `--strict-precision` in that order.
struct QuantMatmulPolicy {
  std::string pass;     ///< "quantize-fp8" (its statistics)
  std::string asked;    ///< the --layer-precision word: "fp8", "int8"
  std::string name;     ///< "FP8", "INT8"
  DType abType;         ///< what matmulTiming is asked about
  std::string applies;  ///< why a non-candidate cannot be asked for: "FP8 applies to matmuls with constant weights"
  std::string leaveTo;  ///< an ONNX op type another pass quantizes (asking for it here is no error): "Conv", or ""
  std::function<std::string(const Operation &)> ineligible; ///< why an op cannot be quantized ("" if it can)
  std::function<std::string(const Operation &)> accuracy;   ///< the accuracy rule's objection, or ""; null: none
  /// The quantized form's extra memory traffic, given the matmuls before it already chosen.
  std::function<double(const Operation &, const std::vector<Operation *> &chosen)> extraBytes;
};
/// The candidates (quantMatmulCandidate) to quantize, in program order. The others get their
/// reason in `precision`; errors for --layer-precision NAME:<asked> on what cannot be, and for
/// --strict-precision.
Expected<std::vector<Operation *>> chooseQuantMatmuls(Block &body, PassContext &ctx, const QuantMatmulPolicy &p);

/// The onnx op (and its attributes) computing activation `a` on its own, when a quantized matmul
/// leaves it to a kernel after the GEMM; nullopt for none, Clip (its bounds are operands) and
/// SiLU (two ops), which have no such op yet.
std::optional<std::pair<OpKind, AttrMap>> onnxActivation(const Activation &a);

/// The constant operands of the INT8 convolution made from float infc.conv `op` (created before
/// it): the weights quantized per output channel, symmetric (scale max |w_k| / 127, 1 for an
/// all-zero channel; values rounded half to even, clamped to [-127, 127]; operand 1), the bias divided by `unit` in
/// float32 (operand 2; nullptr without a bias) and the per-channel scale x_scale * w_scale / unit
/// (operand 4), `unit` being what the epilogue's units are (the residual's or the result's scale).
struct Int8ConvConstants {
  Value *w = nullptr, *bias = nullptr, *scale = nullptr;
  float wMin = 0, wMax = 0; ///< the smallest and largest weight scale
};
Int8ConvConstants int8ConvConstants(Block &body, Operation *op, float xScale, double unit);

/// Whether quantize-int8-stem can run infc.conv `op` and the max pool that reads it as one INT8
/// kernel (codegen/kernels/ConvInt8Stem.cpp; these conditions repeat the kernel's, since passes
/// cannot ask codegen): a float, not yet quantized, 2-D NHWC convolution, ungrouped and
/// undilated, with at most 4 input channels, kernels up to 8x8, 32, 64, 128 or 256 output channels,
/// constant weights and bias, no residual, no activation or relu, static shapes, whose
/// result is read only by an infc.pool: max, 2-D, NHWC, undilated, no ceil mode. quantize-int8
/// leaves these to it (cuDNN's INT8 kernels run 3-channel convolutions slowly: ResNet-50's stem
/// 11-15 ms against 0.41 ms in FP16 at batch 256 on the H200).
bool int8StemCandidate(const Operation &op);

/// A scale as `infc inspect` and the precision notes print it ("%.6g").
std::string formatScale(double v);

} // namespace infc
