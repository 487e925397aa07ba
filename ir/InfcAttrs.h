// Typed attributes of the infc.* ops, read and written in one place: passes, shape inference,
// the reference interpreter and code generation use these structs instead of string look-ups.
#pragma once

#include "ir/IR.h"

#include <optional>
#include <string>
#include <vector>

namespace infc {

/// Tensor memory layout of a 4-D (or 3-D/5-D) activation: channels second or last.
enum class Layout { NCHW, NHWC };
std::string_view layoutName(Layout l);
Expected<Layout> parseLayout(const std::string &s);
/// Permutation taking a logical (N, C, spatial...) tensor of `rank` to `to` (identity for NCHW).
std::vector<int64_t> layoutPerm(Layout to, int64_t rank);
/// Inverse of layoutPerm: physical `from` back to logical NCHW.
std::vector<int64_t> layoutInversePerm(Layout from, int64_t rank);
/// Applies perm to dims (out[i] = in[perm[i]]).
std::vector<int64_t> permuted(const std::vector<int64_t> &in, const std::vector<int64_t> &perm);

/// Fused activation of a conv/matmul epilogue, applied last: y = act(acc + bias + residual).
enum class Act { None, Relu, Sigmoid, Tanh, Clip, LeakyRelu, Silu, HardSwish, HardSigmoid, Gelu, GeluTanh };
struct Activation {
  Act kind = Act::None;
  std::vector<float> params; ///< Clip: lo, hi; LeakyRelu: alpha; HardSigmoid: alpha, beta
  bool none() const { return kind == Act::None; }
  /// "relu", "clip", ... ("" for None); the `act` attribute's spelling.
  std::string_view name() const;
  /// Reference semantics, in double.
  double apply(double x) const;
  /// Reads `act` / `act_params` ("" = none); an unknown name or wrong parameter count is an error.
  static Expected<Activation> read(const AttrMap &attrs);
  void write(AttrMap &attrs) const;
};

/// infc.conv: y = act(conv(x, w) + b + z).
/// INT8 form (x and w int8; operand 4, s, float32 with one scale per output channel; bias
/// float32): y = out(postMult * act(acc * s + z + b)) with acc the exact int32 sum of x * w and z
/// (int8 or float) added as it is; out rounds half to even and saturates to [-128, 127] when y is
/// int8, else converts to y's float type (`dtype`). The scales of x, w, z and y fold into s, b,
/// the activation's bounds and postMult (passes/QuantizeInt8Pass.cpp), which is positive, and
/// not 1 only for an activation that commutes with positive factors.
/// The stem form (quantize-int8-stem: an image network's first convolution and its max pool as
/// one kernel) is an INT8 form with two more attributes:
///  - `x_scale`: x is a float tensor, quantized as it is read: q = saturate(round half to even(
///    x * r)) with r = 1 / x_scale rounded to float32 once, x and the product in float32 (a
///    multiplication, not QuantizeLinear's division: the quantization is the INT8 pass's own
///    choice, and the kernel then spends a fifth of its time less on it);
///  - `x_layout = "nchw"` (with x_scale, an NHWC convolution): x is read in NCHW, as the
///    infc.layout_cast it replaces would have read it; x may have fewer channels than w (the
///    others are zeros: layout_cast's pad_channels); `x_dtype` (f16 or bf16): x is rounded to it
///    first (that layout_cast's conversion);
///  - `pool_kernel`, `pool_strides`, `pool_pads` (2-D, NHWC, int8 y): y is the max pooling of the
///    int8 result above (pads never win, as in onnx.MaxPool). Max pooling commutes with the int8
///    rounding, so this is the quantization of the max pool of the float result.
struct ConvAttrs {
  std::vector<int64_t> strides, dilations;
  std::vector<int64_t> pads; ///< begin pads then end pads, explicit (auto_pad resolved at lowering)
  int64_t group = 1;
  Layout layout = Layout::NCHW;
  Activation act;
  DType outType = DType::I8; ///< INT8 form: y's dtype (`dtype`: "f16", "f32"; int8 when absent)
  float postMult = 1.0f;     ///< INT8 form: factor after the activation (`post_mult`)
  std::optional<float> xScale;                         ///< stem form: x's quantization scale (`x_scale`)
  bool xNchw = false;                                   ///< stem form: x read in NCHW (`x_layout`)
  DType xRound = DType::Undefined;                      ///< stem form: x rounded to f16 / bf16 first (`x_dtype`)
  std::vector<int64_t> poolKernel, poolStrides, poolPads; ///< stem form: the max pool after it (empty: none)
  bool pooled() const { return !poolKernel.empty(); }
  static Expected<ConvAttrs> read(const Operation &op);
  void write(AttrMap &attrs) const;
  /// The attributes of the onnx.Conv that computes the same convolution in the logical layout.
  AttrMap onnxAttrs() const;
  /// The attributes of the onnx.MaxPool of the stem form's pool.
  AttrMap poolOnnxAttrs() const;
};

/// infc.matmul: y = act(matmul(a, b) + bias + z).
/// Quantized forms (a in f8e4m3 or int8): b is a constant [N, K] of a's type (one row per output
/// column, the layout cuBLASLt's FP8 and IMMA GEMMs take) and acc is the sum over k of
/// a[.., k] * b[n, k].
///  - FP8 (passes/QuantizeFp8Pass.cpp): y = act(alpha * acc + bias + z) (float32 accumulation on
///    the GPU), bias and z in y's type (`dtype`: f16 or bf16), converted to y's type once at the end.
///  - INT8 (passes/QuantizeInt8MatmulPass.cpp): acc exact (int32 on the GPU), y int8 (`dtype`
///    i8) = saturate(round half to even(act(alpha * acc + bias))) with bias float32 (already in
///    y's units), act none or relu, no residual z.
struct MatmulAttrs {
  Activation act;
  float alpha = 1.0f;               ///< quantized forms: input scale times weight scale [over y's scale] (`alpha`)
  DType inType = DType::Undefined;  ///< quantized forms: a's and b's type (F8E4M3 or I8); Undefined otherwise
  DType outType = DType::Undefined; ///< quantized forms: y's type (`dtype`); Undefined otherwise
  bool quantized() const { return inType != DType::Undefined; }
  bool fp8() const { return inType == DType::F8E4M3; }
  bool int8() const { return inType == DType::I8; }
  static Expected<MatmulAttrs> read(const Operation &op);
  void write(AttrMap &attrs) const;
};

/// infc.pool: max or average pooling.
struct PoolAttrs {
  bool isMax = true;
  std::vector<int64_t> kernel, strides, dilations, pads;
  bool ceilMode = false, countIncludePad = false;
  Layout layout = Layout::NCHW;
  /// q_scale (max pools only; fuse-pool-quant): y is int8, the pooled value as x's float type
  /// holds it divided by q_scale in float32, rounded half to even and saturated (as
  /// onnx.QuantizeLinear of the pool's float result; max commutes with that rounding).
  std::optional<float> qScale;
  static Expected<PoolAttrs> read(const Operation &op);
  void write(AttrMap &attrs) const;
  /// The attributes of the onnx.MaxPool / AveragePool that pools the same way in the logical layout.
  AttrMap onnxAttrs() const;
};

/// infc.layout_cast: y = transpose(x, perm); y is in layout `to`. With `dtype` (a float type),
/// y is also converted to it, as onnx.Cast would (assign-layout folds a graph input's Cast in).
struct LayoutCastAttrs {
  Layout from = Layout::NCHW, to = Layout::NHWC;
  DType dtype = DType::Undefined; ///< Undefined: y keeps x's element type
  /// NCHW -> NHWC only: zero channels appended to y (a 3-channel image as 4 channels, which
  /// cuDNN's NHWC FP16 convolutions run faster: ResNet-50's stem 0.56 -> 0.40 ms at batch 256).
  int64_t padChannels = 0;
  static Expected<LayoutCastAttrs> read(const Operation &op);
  void write(AttrMap &attrs) const;
  /// The transpose of a rank-`rank` tensor that this cast performs.
  std::vector<int64_t> perm(int64_t rank) const {
    return from == Layout::NCHW ? layoutPerm(to, rank) : layoutInversePerm(from, rank);
  }
};

/// infc.attention: y = softmax(scale * q k^T + mask) v over the last axis of the scores.
struct AttentionAttrs {
  /// Where batch (b), heads (h), sequence (s) and head dims (d) sit in q, k, v and y:
  /// BHSD [B, H, S, D]; BSHD [B, S, H, D] (the projections' own layout, no head transposes);
  /// BS3HD one packed operand [B, S, 3, H, D] holding q, k and v, with y in BSHD.
  enum class QkvLayout { BHSD, BSHD, BS3HD };
  QkvLayout layout = QkvLayout::BHSD;
  float scale = 1.0f;
  bool causal = false;    ///< key j > query i is masked out (top-left aligned)
  bool nanToZero = false; ///< probabilities that are NaN (a fully masked row) become 0
  /// Quantized neighbours folded in (fuse-attention-quant), with `floatType` the type it computes
  /// in (the mask's type; `dtype`, required with either; without them, read() sets it to q's type):
  ///   x_scale: q, k and v are int8 or e4m3, each element read as x * x_scale rounded to
  ///     floatType (as the DequantizeLinear it replaces stores it);
  ///   q_scale: y is int8 or e4m3: the result rounded to floatType, divided by q_scale in float32,
  ///     rounded half to even and saturated (as onnx.QuantizeLinear by a scalar scale).
  std::optional<float> xScale, qScale;
  DType floatType = DType::Undefined;
  static Expected<AttentionAttrs> read(const Operation &op);
  void write(AttrMap &attrs) const;
  static std::string_view layoutName(QkvLayout l);
};

/// infc.norm: y = (x - mean) * rsqrt(var + epsilon) * scale + bias over groups of elements
/// (RMS: y = x * rsqrt(mean(x^2) + epsilon) * scale + bias, no mean removed).
/// Quantized neighbours folded in (fuse-norm-quant), layer and RMS kinds:
///   x_scale: operand x is int8 and each element reads as x * x_scale; a residual operand z
///     (operand 3, after the bias) is added to it: the normalized value is x * x_scale + z, each
///     of the two rounded to y's float type (as the DequantizeLinear and Add it replaces store
///     them, so that the fusion changes no bit);
///   q_scale: a second result, y as stored (rounded to its float type) divided by q_scale in
///     float32, rounded half to even and saturated to int8 [-128, 127] or e4m3 (+-448), as
///     onnx.QuantizeLinear by a scalar scale computes it.
///   layer, rms: each row of dims [axis, rank) is a group; scale/bias have one value per element
///     of a row (their shape broadcasts to those dims and has as many elements);
///   instance:   each (n, c) plane is a group; scale/bias [C];
///   group:      each (n, g) of C / num_groups channels is a group; scale/bias [C].
struct NormAttrs {
  enum class Kind { Layer, Rms, Instance, Group };
  Kind kind = Kind::Layer;
  int64_t axis = -1;      ///< layer, rms (may be negative)
  float epsilon = 1e-5f;
  int64_t numGroups = 0;  ///< group
  std::optional<float> xScale; ///< x is int8, read as x * xScale
  std::optional<float> qScale; ///< second result: y quantized by qScale
  static Expected<NormAttrs> read(const Operation &op);
  /// The attributes of onnx.LayerNormalization, InstanceNormalization or GroupNormalization.
  static Expected<NormAttrs> fromOnnx(const Operation &op);
  void write(AttrMap &attrs) const;
  std::string_view kindName() const;
};

/// How infc.norm walks a static x: `rows` groups of `length` contiguous elements each. The
/// affine parameter of element j of group r is param(r, j): j (layer, rms) or the channel
/// (r % groups) * (length / inner) + j / inner (instance, group).
struct NormGeometry {
  int64_t rows = 1, length = 1;
  bool perChannel = false;  ///< instance, group
  int64_t groups = 1;       ///< per (n): C for instance, num_groups for group
  int64_t inner = 1;        ///< spatial size (instance, group)
  int64_t params = 1;       ///< elements that scale and bias must have
  int64_t param(int64_t r, int64_t j) const {
    return perChannel ? (r % groups) * (length / inner) + j / inner : j;
  }
  /// Whether `p` can be the scale or bias: static, `params` elements, 1-D when per channel.
  bool fits(const TensorType &p) const {
    return p.isStatic() && *p.numElements() == params && (!perChannel || p.rank() == 1);
  }
};
/// The geometry of `a` over static `shape`, or a sentence saying why it does not apply.
Expected<NormGeometry> normGeometry(const NormAttrs &a, const std::vector<int64_t> &shape);

} // namespace infc
