// More GPU kernels: Quantize/DequantizeLinear (per tensor or per axis), OneHot, ConstantOfShape,
// EyeLike, Range, GatherND, ScatterElements/ScatterND (reduction 'none': copy, then scatter),
// and LRN. One thread per output (or per update) element.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

namespace infc::codegen {

namespace {

std::vector<int64_t> shapeOf(const Value *v) { return v->type().staticShape(); }

KernelLayer newKernel(const Operation &op, LoweringContext &ctx, const std::string &suffix = "") {
  KernelLayer k;
  k.function = ctx.kernelName(op, suffix);
  return k;
}


/// Per-axis parameter index expression for quantization ops.
Expected<std::string> quantIndex(const Operation &op, const std::vector<int64_t> &xs, const Value *scale) {
  if (*scale->type().numElements() <= 1)
    return std::string("0");
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", 1));
  if (axis < 0)
    axis += static_cast<int64_t>(xs.size());
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < xs.size(); ++d)
    inner *= xs[d];
  return "((i / " + std::to_string(inner) + "LL) % " + std::to_string(xs[static_cast<size_t>(axis)]) + "LL)";
}

Status lowerQuantize(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(int64_t blockSize, op.attrs().getInt("block_size", 0));
  if (blockSize)
    return unsupported(op.describe() + ": blocked quantization has no GPU kernel");
  const Value *x = op.operand(0), *scale = op.operand(1), *zp = op.hasOperand(2) ? op.operand(2) : nullptr, *y = op.result();
  bool quant = op.is(OpKind::OnnxQuantizeLinear);
  DType yt = y->type().elem();
  if (quant && !isInteger(yt) && yt != DType::F8E4M3)
    return unsupported(op.describe() + ": QuantizeLinear to " + std::string(dtypeName(yt)) + " has no GPU kernel");
  if (!quant && !isInteger(x->type().elem()) && x->type().elem() != DType::F8E4M3)
    return unsupported(op.describe() + ": DequantizeLinear of " + std::string(dtypeName(x->type().elem())) + " has no GPU kernel");
  std::vector<int64_t> xs = shapeOf(x);
  INFC_ASSIGN_OR_RETURN(std::string qi, quantIndex(op, xs, scale));
  std::vector<const Value *> ins = {x, scale};
  if (zp)
    ins.push_back(zp);
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, ins, {y});
  int64_t n = *x->type().numElements();
  // One element from the storage expressions of x, the scale and the zero point.
  auto element = [&](const std::vector<std::string> &in, const std::string &out, const std::string &indent) {
    src << indent << "const double zp = " << (zp ? "(double)" + loadAs(zp->type().elem(), in[2]) : std::string("0.0")) << ";\n";
    std::string v = "(float)" + loadAs(x->type().elem(), in[0]) + " / (float)" + loadAs(scale->type().elem(), in[1]);
    if (quant && yt == DType::F8E4M3) {
      // Divide in float like the reference, round to nearest even, saturate to +-448.
      src << indent << "const float v = " << v << ";\n" << indent << out << " = " << storeAs(yt, "v + (float)zp") << ";\n";
    } else if (quant) {
      double lo = 0, hi = 255;
      switch (yt) {
      case DType::I8: lo = -128; hi = 127; break;
      case DType::I16: lo = -32768; hi = 32767; break;
      case DType::U16: hi = 65535; break;
      case DType::I32: lo = -2147483648.0; hi = 2147483647.0; break;
      default: break;
      }
      // Divide in float like the reference, round half to even, saturate.
      src << indent << "const float v = " << v << ";\n" << indent << "double r = rint((double)v) + zp;\n" << indent
          << "r = r < " << floatLiteral(lo, true) << " ? " << floatLiteral(lo, true) << " : (r > " << floatLiteral(hi, true)
          << " ? " << floatLiteral(hi, true) << " : r);\n";
      src << indent << out << " = " << storeAs(yt, "(long long)r") << ";\n";
    } else {
      src << indent << out << " = "
          << storeAs(yt, "((double)" + loadAs(x->type().elem(), in[0]) + " - zp) * (double)" + loadAs(scale->type().elem(), in[1]))
          << ";\n";
    }
  };
  // One scale (and zero point) for the tensor: 8 elements per thread.
  bool perTensor = *scale->type().numElements() == 1 && (!zp || *zp->type().numElements() == 1);
  bool vec = perTensor && emitVector8(
                              src, ins, y, n,
                              [&](const std::vector<std::string> &in, const std::string &out) { element(in, out, "        "); },
                              ctx.options().shapeGeneric);
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long q = " << qi << ";\n";
  element({"in0[i]", "in1[q]", "in2[q]"}, "out0[i]", "    ");
  src << "  }\n}\n";
  finish(op, ctx, std::move(k), src, n, ins, {y}, vec);
  return Status::ok();
}

Status lowerOneHot(const Operation &op, LoweringContext &ctx) {
  const Value *idx = op.operand(0), *values = op.operand(2), *y = op.result();
  std::vector<int64_t> ys = shapeOf(y);
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", -1));
  if (axis < 0)
    axis += static_cast<int64_t>(ys.size());
  int64_t depth = ys[static_cast<size_t>(axis)], inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < ys.size(); ++d)
    inner *= ys[d];
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {idx, values}, {y});
  int64_t n = *y->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long inner = i % " << inner << "LL, d = (i / " << inner
      << "LL) % " << depth << "LL, outer = i / (" << inner * depth << "LL);\n";
  src << "    long long v = (long long)" << loadAs(idx->type().elem(), "in0[outer * " + std::to_string(inner) + "LL + inner]")
      << ";\n    if (v < 0) v += " << depth << "LL;\n    out0[i] = in1[v == d ? 1 : 0];\n  }\n}\n";
  finish(op, ctx, std::move(k), src, n, {idx, values}, {y});
  return Status::ok();
}

Status lowerConstantOfShape(const Operation &op, LoweringContext &ctx) {
  const Value *y = op.result();
  Tensor value = Tensor::scalarF32(0);
  if (op.attrs().has("value")) {
    INFC_ASSIGN_OR_RETURN(value, op.attrs().getTensor("value"));
  }
  std::string lit = isFloat(value.dtype()) ? storeAs(value.dtype(), floatLiteral(value.getDouble(0), true))
                                           : storeAs(value.dtype(), std::to_string(value.getInt(0)) + "LL");
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {}, {y});
  int64_t n = *y->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) out0[i] = " << lit << ";\n}\n";
  finish(op, ctx, std::move(k), src, n, {}, {y});
  return Status::ok();
}

Status lowerEyeLike(const Operation &op, LoweringContext &ctx) {
  const Value *y = op.result();
  std::vector<int64_t> ys = shapeOf(y);
  INFC_ASSIGN_OR_RETURN(int64_t kk, op.attrs().getInt("k", 0));
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {}, {y});
  int64_t n = *y->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long r = i / " << ys[1] << "LL, c = i % " << ys[1]
      << "LL;\n    out0[i] = " << storeAs(y->type().elem(), "(c - r == " + std::to_string(kk) + "LL ? 1 : 0)") << ";\n  }\n}\n";
  finish(op, ctx, std::move(k), src, n, {}, {y});
  return Status::ok();
}

Status lowerRange(const Operation &op, LoweringContext &ctx) {
  const Value *start = op.operand(0), *delta = op.operand(2), *y = op.result();
  DType dt = y->type().elem();
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {start, delta}, {y});
  int64_t n = *y->type().numElements();
  std::string T = isFloat(dt) ? "double" : "long long";
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) out0[i] = " << storeAs(dt, "(" + T + ")" + loadAs(dt, "in0[0]") + " + (" + T + ")i * (" + T + ")" + loadAs(dt, "in1[0]"))
      << ";\n}\n";
  finish(op, ctx, std::move(k), src, n, {start, delta}, {y});
  return Status::ok();
}

Status lowerGatherND(const Operation &op, LoweringContext &ctx) {
  const Value *d = op.operand(0), *idx = op.operand(1), *y = op.result();
  INFC_ASSIGN_OR_RETURN(int64_t b, op.attrs().getInt("batch_dims", 0));
  std::vector<int64_t> ds = shapeOf(d), is = shapeOf(idx), st = rowMajorStrides(ds);
  int64_t last = is.back(), slice = 1, batch = 1;
  for (size_t k2 = static_cast<size_t>(b + last); k2 < ds.size(); ++k2)
    slice *= ds[k2];
  for (int64_t k2 = 0; k2 < b; ++k2)
    batch *= ds[static_cast<size_t>(k2)];
  int64_t tuples = 1;
  for (size_t k2 = 0; k2 + 1 < is.size(); ++k2)
    tuples *= is[k2];
  int64_t perBatch = tuples / std::max<int64_t>(batch, 1), batchStride = b > 0 ? st[static_cast<size_t>(b - 1)] : 0;
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {d, idx}, {y});
  int64_t n = *y->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long t = i / " << slice << "LL, s = i % " << slice << "LL;\n";
  src << "    long long off = (t / " << std::max<int64_t>(perBatch, 1) << "LL) * " << batchStride << "LL;\n";
  for (int64_t j = 0; j < last; ++j)
    src << "    { long long ix = (long long)in1[t * " << last << "LL + " << j << "]; if (ix < 0) ix += " << ds[static_cast<size_t>(b + j)]
        << "LL; off += ix * " << st[static_cast<size_t>(b + j)] << "LL; }\n";
  src << "    out0[i] = in0[off + s];\n  }\n}\n";
  finish(op, ctx, std::move(k), src, n, {d, idx}, {y});
  return Status::ok();
}

/// Scatter with reduction 'none': copy data to the output, then write the updates. Duplicate
/// indices are undefined in ONNX too (the last writer wins here as in the reference only by luck).
Status lowerScatter(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(std::string red, op.attrs().getString("reduction", "none"));
  if (red != "none")
    return unsupported(op.describe() + ": scatter with reduction '" + red + "' has no GPU kernel yet");
  const Value *d = op.operand(0), *idx = op.operand(1), *upd = op.operand(2), *y = op.result();
  std::vector<int64_t> ds = shapeOf(d), is = shapeOf(idx), st = rowMajorStrides(ds);
  int64_t n = *d->type().numElements();
  KernelLayer copy = newKernel(op, ctx, "copy");
  std::ostringstream c;
  beginKernel(c, copy, {d}, {y});
  c << "  INFC_GRID_STRIDE(i, " << n << "LL) out0[i] = in0[i];\n}\n";
  finish(op, ctx, std::move(copy), c, n, {d}, {y});
  KernelLayer k = newKernel(op, ctx, "scatter");
  std::ostringstream src;
  src << "extern \"C\" __global__ void " << k.function << "(const " << cudaStorageType(idx->type().elem())
      << "* __restrict__ in1, const " << cudaStorageType(upd->type().elem()) << "* __restrict__ in2, "
      << cudaStorageType(y->type().elem()) << "* out0) {\n";
  k.args = {KernelArg::tensor(idx), KernelArg::tensor(upd), KernelArg::tensor(y)};
  int64_t m;
  if (op.is(OpKind::OnnxScatterElements)) {
    INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", 0));
    if (axis < 0)
      axis += static_cast<int64_t>(ds.size());
    m = *idx->type().numElements();
    src << "  INFC_GRID_STRIDE(i, " << m << "LL) {\n";
    emitUnravel(src, "i", is, "o");
    src << "    long long ix = (long long)in1[i]; if (ix < 0) ix += " << ds[static_cast<size_t>(axis)] << "LL;\n";
    src << "    out0[0";
    for (size_t a = 0; a < ds.size(); ++a)
      src << " + " << (static_cast<int64_t>(a) == axis ? "ix" : "o" + std::to_string(a)) << " * " << st[a] << "LL";
    src << "] = in2[i];\n  }\n}\n";
  } else {
    int64_t last = is.back(), slice = 1, tuples = 1;
    for (size_t a = static_cast<size_t>(last); a < ds.size(); ++a)
      slice *= ds[a];
    for (size_t a = 0; a + 1 < is.size(); ++a)
      tuples *= is[a];
    m = tuples * slice;
    src << "  INFC_GRID_STRIDE(i, " << m << "LL) {\n    const long long t = i / " << slice << "LL, s = i % " << slice
        << "LL;\n    long long off = 0;\n";
    for (int64_t j = 0; j < last; ++j)
      src << "    { long long ix = (long long)in1[t * " << last << "LL + " << j << "]; if (ix < 0) ix += " << ds[static_cast<size_t>(j)]
          << "LL; off += ix * " << st[static_cast<size_t>(j)] << "LL; }\n";
    src << "    out0[off + s] = in2[i];\n  }\n}\n";
  }
  k.source = src.str();
  launch1D(k, m);
  ctx.addKernel(op, std::move(k), {idx, upd, y}, {y});
  return Status::ok();
}

Status lowerLRN(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  DType dt = x->type().elem();
  std::vector<int64_t> xs = shapeOf(x);
  INFC_ASSIGN_OR_RETURN(int64_t size, op.attrs().getInt("size"));
  INFC_ASSIGN_OR_RETURN(float alpha, op.attrs().getFloat("alpha", 0.0001f));
  INFC_ASSIGN_OR_RETURN(float beta, op.attrs().getFloat("beta", 0.75f));
  INFC_ASSIGN_OR_RETURN(float bias, op.attrs().getFloat("bias", 1.0f));
  int64_t C = xs[1], inner = 1, lo = (size - 1) / 2, hi = size - 1 - lo;
  for (size_t d = 2; d < xs.size(); ++d)
    inner *= xs[d];
  KernelLayer k = newKernel(op, ctx);
  std::ostringstream src;
  beginKernel(src, k, {x}, {y});
  int64_t n = *x->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long c = (i / " << inner << "LL) % " << C << "LL, base = i - c * "
      << inner << "LL;\n    double sq = 0;\n";
  src << "    for (long long k2 = (c - " << lo << "LL < 0 ? 0 : c - " << lo << "LL); k2 <= (c + " << hi << "LL > " << C - 1 << "LL ? "
      << C - 1 << "LL : c + " << hi << "LL); ++k2) { double v = (double)" << loadAs(dt, "in0[base + k2 * " + std::to_string(inner) + "LL]")
      << "; sq += v * v; }\n";
  src << "    out0[i] = " << storeAs(dt, "(double)" + loadAs(dt, "in0[i]") + " / pow(" + floatLiteral(bias, true) + " + " +
                                           floatLiteral(alpha, true) + " / " + std::to_string(size) + ".0 * sq, " + floatLiteral(beta, true) + ")")
      << ";\n  }\n}\n";
  finish(op, ctx, std::move(k), src, n, {x}, {y});
  return Status::ok();
}

} // namespace

void registerExtraLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxQuantizeLinear)] = &lowerQuantize;
  t[static_cast<size_t>(OpKind::OnnxDequantizeLinear)] = &lowerQuantize;
  t[static_cast<size_t>(OpKind::OnnxOneHot)] = &lowerOneHot;
  t[static_cast<size_t>(OpKind::OnnxConstantOfShape)] = &lowerConstantOfShape;
  t[static_cast<size_t>(OpKind::OnnxEyeLike)] = &lowerEyeLike;
  t[static_cast<size_t>(OpKind::OnnxRange)] = &lowerRange;
  t[static_cast<size_t>(OpKind::OnnxGatherND)] = &lowerGatherND;
  t[static_cast<size_t>(OpKind::OnnxScatterElements)] = &lowerScatter;
  t[static_cast<size_t>(OpKind::OnnxScatterND)] = &lowerScatter;
  t[static_cast<size_t>(OpKind::OnnxLRN)] = &lowerLRN;
}

} // namespace infc::codegen
