// Pooling (one thread per output element looping over its window) and inference
// BatchNormalization (per-channel affine, one thread per element).
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include "ir/ops/ConvGeometry.h"

namespace infc::codegen {

namespace {

Status lowerPool(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result(0);
  if (op.numResults() > 1 && op.result(1)->hasUses())
    return unsupported(op.describe() + ": MaxPool's Indices output has no GPU kernel yet");
  DType dt = x->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": pooling on " + std::string(dtypeName(dt)) + " has no GPU kernel yet");
  bool isMax = op.is(OpKind::OnnxMaxPool), nhwc = false;
  if (op.is(OpKind::InfcPool)) {
    INFC_ASSIGN_OR_RETURN(PoolAttrs pa, PoolAttrs::read(op));
    isMax = pa.isMax;
    nhwc = pa.layout == Layout::NHWC;
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
