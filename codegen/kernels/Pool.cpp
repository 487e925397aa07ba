// Pooling (one thread per output element looping over its window) and inference
// BatchNormalization (per-channel affine, one thread per element).
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include "ir/ops/ConvGeometry.h"

namespace infc::codegen {

namespace {

/// 2-D NHWC pooling of 16-bit tensors with C % 8 == 0: each thread one output pixel and 8
/// channels, 16-byte loads and stores (the generic kernel reads 2 bytes per thread at a stride
/// of C: ResNet-50's max pool took 0.24 ms at batch 256 on the H200).
/// With qScale (a max pool, fuse-pool-quant), y is int8: each maximum divided by qScale in
/// float, rounded half to even and saturated, 8 bytes a thread (ResNet-50's stem: the max pool
/// writes the first block's int8 input itself, instead of a QuantizeLinear kernel reading it back).
void lowerPoolNhwc8(const Operation &op, LoweringContext &ctx, bool isMax, bool countPad, const std::vector<int64_t> &kernel,
                    const ops::WindowGeometry &g, std::optional<float> qScale) {
  const Value *x = op.operand(0), *y = op.result(0);
  DType dt = x->type().elem();
  std::vector<int64_t> xs = x->type().staticShape(), ys = y->type().staticShape();
  int64_t H = xs[1], W = xs[2], C = xs[3], OH = ys[1], OW = ys[2];
  int64_t n = ys[0] * OH * OW * (C / 8);
  KernelLayer k;
  k.function = ctx.kernelName(op, "nhwc8");
  std::ostringstream src;
  src << "extern \"C\" __global__ void " << k.function << "(const unsigned short* __restrict__ x, "
      << (qScale ? "signed char" : "unsigned short") << "* __restrict__ y) {\n";
  src << "  constexpr int H = " << H << ", W = " << W << ", C = " << C << ", OH = " << OH << ", OW = " << OW << ", KH = " << kernel[0]
      << ", KW = " << kernel[1] << ";\n";
  src << "  constexpr int SH = " << g.strides[0] << ", SW = " << g.strides[1] << ", PH = " << g.padsBegin[0] << ", PW = "
      << g.padsBegin[1] << ", DH = " << g.dilations[0] << ", DW = " << g.dilations[1] << ", PHE = " << g.padsEnd[0]
      << ", PWE = " << g.padsEnd[1] << ";\n";
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  src << R"(    const int c0 = (int)(i % (C / 8)) * 8;
    long long p = i / (C / 8);
    const int ow = (int)(p % OW); p /= OW;
    const int oh = (int)(p % OH);
    const long long nb = p / OH;
    float acc[8];
    int count = 0;
    #pragma unroll
    for (int e = 0; e < 8; ++e) acc[e] = )" << (isMax ? "-INFINITY" : "0.f") << R"(;
    for (int r = 0; r < KH; ++r) {
      const int ih = oh * SH - PH + r * DH;
      for (int s = 0; s < KW; ++s) {
        const int iw = ow * SW - PW + s * DW;
)";
  if (!isMax && countPad)
    src << "        if (ih >= -PH && ih < H + PHE && iw >= -PW && iw < W + PWE) ++count;\n"
           "        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;\n";
  else
    src << "        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;\n        ++count;\n";
  src << "        const uint4 xv = *(const uint4 *)(x + ((nb * H + ih) * W + iw) * C + c0);\n"
         "        const unsigned short *xe = (const unsigned short *)&xv;\n"
         "        #pragma unroll\n        for (int e = 0; e < 8; ++e) {\n          const float v = "
      << loadAs(dt, "xe[e]") << ";\n          "
      << (isMax ? "acc[e] = (v > acc[e] || v != v) ? v : acc[e];" : "acc[e] += v;") << "\n        }\n      }\n    }\n";
  if (qScale) {
    // As a fused onnx.QuantizeLinear: divide in float, then storeQuantized. The maximum of
    // 16-bit values is exact in float, so this is the quantization of the pool's result.
    src << "    uint2 yv;\n    signed char *ye = (signed char *)&yv;\n    #pragma unroll\n    for (int e = 0; e < 8; ++e) ye[e] = "
        << storeQuantized(DType::I8, "acc[e] / " + floatLiteral(*qScale, false)) << ";\n";
    src << "    *(uint2 *)(y + i * 8) = yv;\n  }\n}\n";
  } else {
    src << "    uint4 yv;\n    unsigned short *ye = (unsigned short *)&yv;\n    #pragma unroll\n    for (int e = 0; e < 8; ++e) ye[e] = "
        << storeAs(dt, isMax ? "acc[e]" : "(count ? acc[e] / (float)count : 0.f)") << ";\n";
    src << "    *(uint4 *)(y + i * 8) = yv;\n  }\n}\n";
  }
  k.source = src.str();
  k.args = {KernelArg::tensor(x), KernelArg::tensor(y)};
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {x}, {y});
}

Status lowerPool(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result(0);
  if (op.numResults() > 1 && op.result(1)->hasUses())
    return unsupported(op.describe() + ": MaxPool's Indices output has no GPU kernel yet");
  DType dt = x->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": pooling on " + std::string(dtypeName(dt)) + " has no GPU kernel yet");
  bool isMax = op.is(OpKind::OnnxMaxPool), nhwc = false;
  std::optional<float> qScale;
  if (op.is(OpKind::InfcPool)) {
    INFC_ASSIGN_OR_RETURN(PoolAttrs pa, PoolAttrs::read(op));
    isMax = pa.isMax;
    nhwc = pa.layout == Layout::NHWC;
    qScale = pa.qScale;
  }
  // Logical (N, C, spatial...) dims; an NHWC op reads and writes (N, spatial..., C).
  int64_t rank = x->type().rank();
  std::vector<int64_t> toLogical = layoutInversePerm(nhwc ? Layout::NHWC : Layout::NCHW, rank);
  std::vector<int64_t> xs = permuted(x->type().staticShape(), toLogical), ys = permuted(y->type().staticShape(), toLogical);
  std::vector<int64_t> in(xs.begin() + 2, xs.end()), out(ys.begin() + 2, ys.end());
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, op.attrs().getInts("kernel_shape"));
  Expected<ops::WindowGeometry> g = ops::windowGeometry(op.attrs(), kernel, in, false);
  if (!g.isOk())
    return op.error(g.status().message());
  INFC_ASSIGN_OR_RETURN(int64_t countPad, op.attrs().getInt("count_include_pad", 0));
  if (nhwc && (dt == DType::F16 || dt == DType::BF16) && in.size() == 2 && ys[1] % 8 == 0) {
    lowerPoolNhwc8(op, ctx, isMax, countPad != 0, kernel, *g, qScale);
    return Status::ok();
  }
  if (qScale) // fuse-pool-quant makes these only where the kernel above runs
    return unsupported(op.describe() + ": a quantized pool (q_scale) has a GPU kernel only for 2-D NHWC f16 or bf16 input "
                                       "with channels in multiples of 8");
  std::string T = dt == DType::F64 ? "double" : "float";
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {x}, {y});
  int64_t n = *y->type().numElements(), itot = 1;
  for (int64_t d : in)
    itot *= d;
  src << "  typedef " << T << " T;\n  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  // o1.. is the output position and xc the start of its (batch, channel) plane; the window reads
  // xc[off * cs] (cs: the channel stride, 1 in NCHW).
  std::string cs = "1LL";
  if (nhwc) {
    std::vector<int64_t> outFull = {ys[0]};
    outFull.insert(outFull.end(), out.begin(), out.end());
    outFull.push_back(ys[1]);
    emitUnravel(src, "i", outFull, "q");
    for (size_t d = 0; d < out.size(); ++d)
      src << "    const long long o" << d + 1 << " = q" << d + 1 << ";\n";
    src << "    const " << cudaStorageType(dt) << "* xc = in0 + q0 * " << itot * ys[1] << "LL + q" << out.size() + 1 << ";\n";
    cs = std::to_string(ys[1]) + "LL";
  } else {
    std::vector<int64_t> outFull = {ys[0] * ys[1]};
    outFull.insert(outFull.end(), out.begin(), out.end());
    emitUnravel(src, "i", outFull, "o");
    src << "    const " << cudaStorageType(dt) << "* xc = in0 + o0 * " << itot << "LL;\n";
  }
  src << "    T acc = " << (isMax ? "-INFINITY" : "(T)0") << "; int count = 0;\n";
  // Nested loops over the window, one per spatial dim.
  std::string indent = "    ";
  for (size_t d = 0; d < in.size(); ++d) {
    src << indent << "for (int k" << d << " = 0; k" << d << " < " << kernel[d] << "; ++k" << d << ") {\n";
    indent += "  ";
    src << indent << "const long long p" << d << " = o" << d + 1 << " * " << g->strides[d] << "LL - " << g->padsBegin[d]
        << "LL + k" << d << " * " << g->dilations[d] << "LL;\n";
    if (!isMax && countPad)
      src << indent << "const bool pad" << d << " = p" << d << " >= -" << g->padsBegin[d] << "LL && p" << d << " < " << in[d] + g->padsEnd[d]
          << "LL;\n";
  }
  src << indent << "bool inside = true";
  for (size_t d = 0; d < in.size(); ++d)
    src << " && p" << d << " >= 0 && p" << d << " < " << in[d] << "LL";
  src << ";\n";
  if (!isMax && countPad) {
    src << indent << "if (true";
    for (size_t d = 0; d < in.size(); ++d)
      src << " && pad" << d;
    src << ") ++count;\n" << indent << "if (!inside) continue;\n";
  } else {
    src << indent << "if (!inside) continue;\n" << indent << "++count;\n";
  }
  src << indent << "long long off = 0";
  for (size_t d = 0; d < in.size(); ++d)
    src << "; off = off * " << in[d] << "LL + p" << d;
  src << ";\n" << indent << "const T v = (T)" << loadAs(dt, "xc[off * " + cs + "]") << ";\n";
  src << indent << (isMax ? "acc = (v > acc || v != v) ? v : acc;\n" : "acc += v;\n");
  for (size_t d = 0; d < in.size(); ++d) {
    indent.resize(indent.size() - 2);
    src << indent << "}\n";
  }
  src << "    out0[i] = " << storeAs(dt, isMax ? "acc" : "(count ? acc / (T)count : (T)0)") << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {x}, {y});
  return Status::ok();
}

Status lowerBatchNorm(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result(0);
  DType dt = x->type().elem();
  std::vector<int64_t> xs = x->type().staticShape();
  int64_t C = xs[1], inner = 1, n = *x->type().numElements();
  for (size_t d = 2; d < xs.size(); ++d)
    inner *= xs[d];
  INFC_ASSIGN_OR_RETURN(float eps, op.attrs().getFloat("epsilon", 1e-5f));
  std::vector<const Value *> ins = {x, op.operand(1), op.operand(2), op.operand(3), op.operand(4)};
  std::string T = dt == DType::F64 ? "double" : "float";
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, ins, {y});
  src << "  typedef " << T << " T;\n  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  src << "    const long long ch = (i / " << inner << "LL) % " << C << "LL;\n";
  src << "    const T v = ((T)" << loadAs(dt, "in0[i]") << " - (T)" << loadAs(ins[3]->type().elem(), "in3[ch]")
      << ") / infc_sqrt((T)" << loadAs(ins[4]->type().elem(), "in4[ch]") << " + (T)" << floatLiteral(eps, false) << ") * (T)"
      << loadAs(ins[1]->type().elem(), "in1[ch]") << " + (T)" << loadAs(ins[2]->type().elem(), "in2[ch]") << ";\n";
  src << "    out0[i] = " << storeAs(dt, "v") << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), ins, {y});
  return Status::ok();
}

} // namespace

void registerPoolLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxMaxPool)] = &lowerPool;
  t[static_cast<size_t>(OpKind::OnnxAveragePool)] = &lowerPool;
  t[static_cast<size_t>(OpKind::InfcPool)] = &lowerPool;
  t[static_cast<size_t>(OpKind::OnnxBatchNormalization)] = &lowerBatchNorm;
}

} // namespace infc::codegen
