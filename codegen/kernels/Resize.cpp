// Resize on the GPU: the interpolation taps (input index, weight) of every output index along
// every axis are computed at build time by the same planner as the reference kernel
// (ir/ops/ResizeGeometry) and embedded in the kernel as constant tables; each thread sums the
// product of its axes' taps.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include "ir/ops/ResizeGeometry.h"

namespace infc::codegen {

namespace {

Expected<std::vector<double>> constDoubles(const Operation &op, size_t i) {
  std::vector<double> v;
  if (!op.hasOperand(i))
    return v;
  const Tensor *t = getConstantValue(op.operand(i));
  if (!t)
    return unsupported(op.describe() + ": Resize with run-time scales/sizes/roi has no GPU kernel (they must be constants)");
  for (int64_t k = 0; k < t->numElements(); ++k)
    v.push_back(t->getDouble(k));
  return v;
}

Status lowerResize(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  DType dt = x->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": Resize on " + std::string(dtypeName(dt)) + " has no GPU kernel yet");
  INFC_ASSIGN_OR_RETURN(std::vector<double> roi, constDoubles(op, 1));
  INFC_ASSIGN_OR_RETURN(std::vector<double> scales, constDoubles(op, 2));
  INFC_ASSIGN_OR_RETURN(std::vector<double> sizesD, constDoubles(op, 3));
  std::vector<int64_t> sizes(sizesD.begin(), sizesD.end());
  std::vector<int64_t> xs = x->type().staticShape();
  Expected<ops::ResizePlan> plan = ops::planResize(op.attrs(), xs, scales, sizes, roi);
  if (!plan.isOk())
    return Status(plan.status().code(), op.describe() + ": " + plan.status().message());
  if (plan->outShape != y->type().staticShape())
    return internalError(op.describe() + ": Resize plan disagrees with the inferred output shape");
  for (int64_t d : plan->outShape)
    if (d == 0)
      return unsupported(op.describe() + ": Resize to an empty tensor (a scale or size of 0) has no GPU kernel");
  size_t rank = xs.size();
  std::vector<int64_t> st = rowMajorStrides(xs);
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  // Tables: per axis, a fixed number of taps per output index (padded with weight 0); an index
  // of -1 marks extrapolation.
  std::vector<size_t> tapsPerAxis(rank, 1);
  for (size_t a = 0; a < rank; ++a)
    for (const auto &t : plan->taps[a])
      tapsPerAxis[a] = std::max(tapsPerAxis[a], t.size());
  for (size_t a = 0; a < rank; ++a) {
    src << "__device__ const long long " << k.function << "_i" << a << "[] = {";
    std::ostringstream w;
    w << "__device__ const double " << k.function << "_w" << a << "[] = {";
    bool first = true;
    for (const auto &t : plan->taps[a])
      for (size_t j = 0; j < tapsPerAxis[a]; ++j) {
        src << (first ? "" : ", ") << (t.empty() ? -1 : j < t.size() ? t[j].first * st[a] : 0) << "LL";
        w << (first ? "" : ", ") << floatLiteral(j < t.size() ? t[j].second : 0.0, true);
        first = false;
      }
    src << "};\n" << w.str() << "};\n";
  }
  beginKernel(src, k, {x}, {y});
  int64_t n = *y->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  emitUnravel(src, "i", plan->outShape, "o");
  src << "    double acc = 0; bool extrapolate = false;\n";
  std::string indent = "    ";
  for (size_t a = 0; a < rank; ++a) {
    src << indent << "for (int t" << a << " = 0; t" << a << " < " << tapsPerAxis[a] << "; ++t" << a << ") {\n";
    indent += "  ";
    src << indent << "const long long e" << a << " = o" << a << " * " << tapsPerAxis[a] << " + t" << a << ";\n";
    src << indent << "const long long off" << a << " = " << k.function << "_i" << a << "[e" << a << "];\n";
    src << indent << "if (off" << a << " < 0) { extrapolate = true; break; }\n";
    src << indent << "const double w" << a << " = " << (a ? "w" + std::to_string(a - 1) + " * " : "") << k.function << "_w" << a
        << "[e" << a << "];\n";
  }
  std::string elem = "in0[0";
  for (size_t a = 0; a < rank; ++a)
    elem += " + off" + std::to_string(a);
  elem += "]";
  src << indent << "acc += w" << rank - 1 << " * (double)" << loadAs(dt, elem) << ";\n";
  for (size_t a = 0; a < rank; ++a) {
    indent.resize(indent.size() - 2);
    src << indent << "}\n";
  }
  src << "    out0[i] = " << storeAs(dt, "extrapolate ? " + floatLiteral(plan->extrapolation, true) + " : acc") << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {x}, {y});
  return Status::ok();
}

} // namespace

void registerResizeLowerings(LoweringTable &t) { t[static_cast<size_t>(OpKind::OnnxResize)] = &lowerResize; }

} // namespace infc::codegen
