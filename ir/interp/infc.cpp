// Reference kernels of the infc.* ops: the onnx.* reference math in the logical layout, then
// the epilogue and the physical permutation. What `--check-numerics` compares passes against.
#include "ir/interp/KernelUtil.h"

#include "ir/InfcAttrs.h"
#include "ir/Interpreter.h"
#include "ir/ScratchOp.h"

#include <algorithm>
#include <cmath>

namespace infc::interp {

namespace {

/// t transposed by perm (t itself for the identity: NCHW ops need no copy).
Tensor transposed(const Tensor &t, const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return t.transposed(perm);
  return t;
}

/// `y` as stored, quantized to `qt` (int8 or e4m3) as onnx.QuantizeLinear by a scalar float32
/// scale (evalQuantizeLinear: a float32 division for f32, f16 and bf16): the fused norm's,
/// attention's and pool's q_scale and the INT8 stem convolution's x_scale.
Tensor quantizedBy(const Tensor &y, float scale, DType qt) {
  Tensor q(qt, y.shape());
  bool f32Div = y.dtype() == DType::F32 || y.dtype() == DType::F16 || y.dtype() == DType::BF16;
  for (int64_t i = 0; i < y.numElements(); ++i) {
    double v = f32Div ? static_cast<double>(static_cast<float>(y.getDouble(i)) / scale) : y.getDouble(i) / static_cast<double>(scale);
    if (qt == DType::I8) // NaN saturates to -128, as QuantizeLinear's reference and the GPU kernels do
      q.setInt(i, std::isnan(v) ? -128 : static_cast<int64_t>(std::clamp(std::nearbyint(v), -128.0, 127.0)));
    else
      q.setDouble(i, v);
  }
  return q;
}

/// infc.layout_cast `a` of `x`: transposed, converted to a.dtype, zero channels appended (also
/// what the INT8 stem form reading NCHW computes first).
Tensor layoutCastOf(const Tensor &x, const LayoutCastAttrs &a) {
  Tensor y = transposed(x, a.perm(x.rank()));
  if (a.dtype != DType::Undefined)
    y = y.castTo(a.dtype);
  return a.padChannels ? y.paddedLastAxis(y.shape().back() + a.padChannels) : y;
}

/// `x` (f32, f16 or bf16) quantized to int8 by multiplication: saturate(round half to even(x * r))
/// in float32 (the INT8 stem convolution's x_scale, r its reciprocal).
Tensor quantizedTimes(const Tensor &x, float r) {
  Tensor q(DType::I8, x.shape());
  for (int64_t i = 0; i < x.numElements(); ++i) {
    float v = static_cast<float>(x.getDouble(i)) * r;
    q.setInt(i, std::isnan(v) ? -128 : static_cast<int64_t>(std::clamp(std::nearbyint(static_cast<double>(v)), -128.0, 127.0)));
  }
  return q;
}

/// The INT8 form of infc.conv (ConvAttrs): the exact integer accumulator (int8 products summed in
/// double, exact below 2^53), then the float epilogue in double, then int8 rounding half to even
/// with saturation, or the float result type.
Status evalInt8Conv(EvalContext &c, const ConvAttrs &a) {
  const Operation &op = c.op();
  int64_t rank = c.input(1).rank();
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank);
  // The stem form quantizes its float x as it reads it: times the float32 reciprocal of x_scale.
  // Read in NCHW, it is first what the layout_cast it replaced made of it: NHWC, rounded to
  // x_dtype, zero channels up to the weights' count.
  Tensor xin = c.input(0);
  if (a.xNchw) {
    LayoutCastAttrs cast; // NCHW -> NHWC
    cast.dtype = a.xRound;
    cast.padChannels = c.input(1).shape().back() - xin.shape()[1];
    xin = layoutCastOf(xin, cast);
  }
  Tensor x = transposed(a.xScale ? quantizedTimes(xin, 1.0f / *a.xScale) : xin, toLogical).castTo(DType::F64);
  Tensor w = transposed(c.input(1), toLogical).castTo(DType::F64);
  ScratchOp conv(op, OpKind::OnnxConv,
                 {TensorType::fromStatic(DType::F64, x.shape()), TensorType::fromStatic(DType::F64, w.shape())}, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, conv.eval({&x, &w}));
  std::vector<double> v = toDoubles(out[0]), z;
  std::vector<double> s = toDoubles(c.input(4)), b = c.hasInput(2) ? toDoubles(c.input(2)) : std::vector<double>(s.size(), 0.0);
  if (c.hasInput(3))
    z = toDoubles(transposed(c.input(3), toLogical));
  const std::vector<int64_t> &ys = out[0].shape();
  int64_t k = ys[1], inner = 1;
  for (size_t d = 2; d < ys.size(); ++d)
    inner *= ys[d];
  for (size_t i = 0; i < v.size(); ++i) {
    size_t ch = static_cast<size_t>((static_cast<int64_t>(i) / inner) % k);
    double r = v[i] * s[ch] + (z.empty() ? 0.0 : z[i]) + b[ch];
    r = static_cast<double>(a.postMult) * a.act.apply(r);
    if (a.outType == DType::I8)
      r = std::clamp(std::nearbyint(r), -128.0, 127.0); // the default rounding mode: half to even
    v[i] = r;
  }
  Tensor y(a.outType, ys);
  storeDoubles(y, v);
  if (a.pooled()) {
    // The stem form's max pool, of the int8 values (exact in double).
    Tensor yd = y.castTo(DType::F64);
    ScratchOp pool(op, OpKind::OnnxMaxPool, {TensorType::fromStatic(DType::F64, yd.shape())}, a.poolOnnxAttrs());
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> pooled, pool.eval({&yd}));
    y = pooled[0].castTo(a.outType);
  }
  c.setOutput(0, transposed(y, layoutPerm(a.layout, rank)));
  return Status::ok();
}

} // namespace

Status evalInfcConv(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  if (c.input(1).dtype() == DType::I8)
    return evalInt8Conv(c, a);
  int64_t rank = c.input(1).rank();
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank);
  Tensor x = transposed(c.input(0), toLogical);
  Tensor w = transposed(c.input(1), toLogical);
  // The bias goes into onnx.Conv itself so that conv + bias rounds exactly as the unfused graph.
  std::vector<TensorType> types = {TensorType::fromStatic(x.dtype(), x.shape()), TensorType::fromStatic(w.dtype(), w.shape())};
  std::vector<const Tensor *> ins = {&x, &w};
  if (c.hasInput(2)) {
    types.push_back(TensorType::fromStatic(c.input(2).dtype(), c.input(2).shape()));
    ins.push_back(&c.input(2));
  }
  ScratchOp conv(op, OpKind::OnnxConv, types, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, conv.eval(ins));
  Tensor y = transposed(out[0], layoutPerm(a.layout, rank));
  // Epilogue in double, element by element (the layouts of y and z agree).
  if (c.hasInput(3) || !a.act.none()) {
    std::vector<double> v = toDoubles(y), z;
    if (c.hasInput(3))
      z = toDoubles(c.input(3));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = a.act.apply(z.empty() ? v[i] : v[i] + z[i]);
    storeDoubles(y, v);
  }
  c.setOutput(0, std::move(y));
  return Status::ok();
}

/// The quantized forms of infc.matmul (MatmulAttrs): the products of the e4m3 or int8 values
/// summed in double (exact for int8 below 2^53), the epilogue in double, one rounding to y's type
/// at the end (int8: half to even, saturated).
Status evalQuantMatmul(EvalContext &c, const MatmulAttrs &a) {
  std::vector<double> x = toDoubles(c.input(0)), w = toDoubles(c.input(1));
  const std::vector<int64_t> &ws = c.input(1).shape();
  int64_t n = ws[0], k = ws[1], rows = k ? static_cast<int64_t>(x.size()) / k : 0;
  std::vector<double> bias = c.hasInput(2) ? toDoubles(c.input(2)) : std::vector<double>();
  std::vector<double> z = c.hasInput(3) ? toDoubles(c.input(3)) : std::vector<double>();
  std::vector<double> y(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      const double *xr = x.data() + r * k, *wr = w.data() + j * k;
      double acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += xr[i] * wr[i];
      size_t at = static_cast<size_t>(r * n + j);
      double v = static_cast<double>(a.alpha) * acc + (bias.empty() ? 0.0 : bias[static_cast<size_t>(j)]) +
                 (z.empty() ? 0.0 : z[at]);
      v = a.act.apply(v);
      if (a.outType == DType::I8)
        v = std::clamp(std::nearbyint(v), -128.0, 127.0); // the default rounding mode: half to even
      y[at] = v;
    }
  std::vector<int64_t> shape = c.input(0).shape();
  shape.back() = n;
  Tensor out(a.outType, shape);
  storeDoubles(out, y);
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalInfcMatmul(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(op));
  if (a.quantized())
    return evalQuantMatmul(c, a);
  const Tensor &A = c.input(0), &B = c.input(1);
  ScratchOp mm(op, OpKind::OnnxMatMul, {TensorType::fromStatic(A.dtype(), A.shape()), TensorType::fromStatic(B.dtype(), B.shape())}, {});
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, mm.eval({&A, &B}));
  Tensor y = std::move(out[0]);
  if (c.hasInput(2)) {
    // The bias add rounds to y's type, as the unfused Add did; then the activation.
    AttrMap none;
    ScratchOp add(op, OpKind::OnnxAdd, {TensorType::fromStatic(y.dtype(), y.shape()),
                                        TensorType::fromStatic(c.input(2).dtype(), c.input(2).shape())}, none);
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> sum, add.eval({&y, &c.input(2)}));
    y = std::move(sum[0]);
  }
  if (c.hasInput(3)) {
    // The residual add rounds to y's type too, as the unfused Add did.
    ScratchOp add(op, OpKind::OnnxAdd, {TensorType::fromStatic(y.dtype(), y.shape()), TensorType::fromStatic(y.dtype(), y.shape())},
                  AttrMap{});
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> sum, add.eval({&y, &c.input(3)}));
    y = std::move(sum[0]);
  }
  if (!a.act.none()) {
    std::vector<double> v = toDoubles(y);
    for (double &x : v)
      x = a.act.apply(x);
    storeDoubles(y, v);
  }
  c.setOutput(0, std::move(y));
  return Status::ok();
}


Status evalInfcPool(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(PoolAttrs a, PoolAttrs::read(op));
  int64_t rank = c.input(0).rank();
  Tensor x = transposed(c.input(0), layoutInversePerm(a.layout, rank));
  ScratchOp pool(op, a.isMax ? OpKind::OnnxMaxPool : OpKind::OnnxAveragePool,
                 {TensorType::fromStatic(x.dtype(), x.shape())}, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, pool.eval({&x}));
  Tensor y = transposed(out[0], layoutPerm(a.layout, rank));
  c.setOutput(0, a.qScale ? quantizedBy(y, *a.qScale, DType::I8) : std::move(y));
  return Status::ok();
}

Status evalInfcLayoutCast(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(c.op()));
  c.setOutput(0, layoutCastOf(c.input(0), a));
  return Status::ok();
}

Status evalInfcAttention(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(AttentionAttrs a, AttentionAttrs::read(c.op()));
  using L = AttentionAttrs::QkvLayout;
  // Everything to logical [B, H, S, D] first. A packed [B, S, 3, H, D] operand is transposed
  // once to [3, B, H, S, D], whose three slices are q, k and v.
  const Tensor &x0 = c.input(0);
  Tensor packed = a.layout == L::BS3HD ? x0.transposed({2, 0, 3, 1, 4}) : Tensor();
  auto bhsd = [&](size_t operand) -> Expected<Tensor> {
    if (a.layout == L::BHSD)
      return c.input(operand);
    if (a.layout == L::BSHD)
      return c.input(operand).transposed({0, 2, 1, 3});
    std::vector<int64_t> one(packed.shape().begin() + 1, packed.shape().end());
    size_t bytes = packed.byteSize() / 3;
    return Tensor::fromBytes(packed.dtype(), one, packed.bytes() + operand * bytes, bytes, "attention operand");
  };
  INFC_ASSIGN_OR_RETURN(Tensor q, bhsd(0));
  INFC_ASSIGN_OR_RETURN(Tensor k, bhsd(1));
  INFC_ASSIGN_OR_RETURN(Tensor v, bhsd(2));
  const std::vector<int64_t> &qs = q.shape(), &ks = k.shape(), &vs = v.shape();
  int64_t B = qs[0], H = qs[1], Sq = qs[2], D = qs[3], Sk = ks[2], Dv = vs[3];
  std::vector<double> Q = toDoubles(q), K = toDoubles(k), V = toDoubles(v), M;
  DType ft = a.floatType;
  if (a.xScale) { // int8 or e4m3 x read as x * x_scale rounded to the float type (DequantizeLinear)
    Tensor cell(ft, {});
    for (std::vector<double> *t : {&Q, &K, &V})
      for (double &e : *t) {
        cell.setDouble(0, e * static_cast<double>(*a.xScale));
        e = cell.getDouble(0);
      }
  }
  std::vector<int64_t> mstr;
  if (c.hasInput(3)) {
    M = toDoubles(c.input(3));
    mstr = broadcastStrides(c.input(3).shape(), {B, H, Sq, Sk});
  }
  std::vector<double> Y(static_cast<size_t>(B * H * Sq * Dv)), p(static_cast<size_t>(Sk));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Sq; ++i) {
        const double *qi = &Q[static_cast<size_t>(((b * H + h) * Sq + i) * D)];
        double mx = -INFINITY;
        for (int64_t j = 0; j < Sk; ++j) {
          const double *kj = &K[static_cast<size_t>(((b * H + h) * Sk + j) * D)];
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += qi[d] * kj[d];
          s *= a.scale;
          if (!M.empty())
            s += M[static_cast<size_t>(b * mstr[0] + h * mstr[1] + i * mstr[2] + j * mstr[3])];
          if (a.causal && j > i)
            s = -INFINITY;
          p[static_cast<size_t>(j)] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (double &e : p) {
          e = std::exp(e - mx);
          sum += e;
        }
        double *yi = &Y[static_cast<size_t>(((b * H + h) * Sq + i) * Dv)];
        for (int64_t j = 0; j < Sk; ++j) {
          double pj = p[static_cast<size_t>(j)] / sum;
          if (std::isnan(pj) && a.nanToZero)
            pj = 0;
          const double *vj = &V[static_cast<size_t>(((b * H + h) * Sk + j) * Dv)];
          for (int64_t d = 0; d < Dv; ++d)
            yi[d] += pj * vj[d];
        }
      }
  Tensor y(ft, {B, H, Sq, Dv});
  storeDoubles(y, Y);
  if (a.layout != L::BHSD)
    y = y.transposed({0, 2, 1, 3});
  c.setOutput(0, a.qScale ? quantizedBy(y, *a.qScale, c.op().result()->type().elem()) : std::move(y));
  return Status::ok();
}

Status evalInfcFused(EvalContext &c) {
  std::vector<const Tensor *> args;
  for (size_t i = 0; i < c.numInputs(); ++i)
    args.push_back(&c.input(i));
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, interpretRegion(c.op().region(0), args));
  c.setOutput(0, std::move(out.at(0)));
  return Status::ok();
}

Status evalInfcNorm(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::read(c.op()));
  const Tensor &x = c.input(0);
  Expected<NormGeometry> g = normGeometry(a, x.shape());
  if (!g.isOk())
    return c.error(g.status().message());
  const Tensor &scale = c.input(1);
  bool hasBias = c.hasInput(2);
  if (scale.numElements() != g->params || (hasBias && c.input(2).numElements() != g->params))
    return c.error("scale or bias does not have " + std::to_string(g->params) + " values");
  const Tensor *z = c.hasInput(3) ? &c.input(3) : nullptr;
  if (z && z->shape() != x.shape())
    return c.error("the residual's shape differs from x's");
  // Element i as normalized: x, or int8 x times x_scale plus the residual, each rounded to y's
  // type as the DequantizeLinear and Add it replaces store them.
  DType ft = c.op().result(0)->type().elem();
  Tensor cell(ft, {});
  auto rounded = [&](double v) {
    cell.setDouble(0, v);
    return cell.getDouble(0);
  };
  auto in = [&](int64_t i) {
    if (!a.xScale)
      return x.getDouble(i);
    double v = rounded(x.getDouble(i) * static_cast<double>(*a.xScale));
    return z ? rounded(v + z->getDouble(i)) : v;
  };
  bool rms = a.kind == NormAttrs::Kind::Rms;
  Tensor y(ft, x.shape());
  for (int64_t r = 0; r < g->rows; ++r) {
    int64_t base = r * g->length;
    double mean = 0, var = 0;
    if (!rms) {
      for (int64_t j = 0; j < g->length; ++j)
        mean += in(base + j);
      mean /= static_cast<double>(g->length);
    }
    for (int64_t j = 0; j < g->length; ++j) {
      double d = in(base + j) - mean;
      var += d * d;
    }
    var /= static_cast<double>(g->length);
    double inv = 1.0 / std::sqrt(var + static_cast<double>(a.epsilon));
    for (int64_t j = 0; j < g->length; ++j) {
      int64_t p = g->param(r, j);
      double v = (in(base + j) - mean) * inv * scale.getDouble(p) + (hasBias ? c.input(2).getDouble(p) : 0.0);
      y.setDouble(base + j, v);
    }
  }
  if (a.qScale) {
    c.setOutput(1, quantizedBy(y, *a.qScale, c.op().result(1)->type().elem()));
  }
  c.setOutput(0, std::move(y));
  return Status::ok();
}

} // namespace infc::interp

