// Elementwise ops with numpy broadcasting: one thread per output element, broadcast strides
// baked into the kernel as constants (shapes are static in an engine).
#include "codegen/kernels/Families.h"

#include <sstream>

namespace infc::codegen {

namespace {

/// Per-op scalar expression over operands a, b, c (already in the compute type `T`).
Expected<std::string> scalarExpr(const Operation &op, const std::string &T) {
  bool isDouble = T == "double";
  auto fn = [&](const char *f) { return std::string(f) + (isDouble ? "" : "f"); };
  switch (op.kind()) {
  case OpKind::OnnxRelu: return std::string("(a < (T)0 ? (T)0 : a)");
  case OpKind::OnnxNeg: return std::string("(-a)");
  case OpKind::OnnxAbs: return std::string("(a < (T)0 ? -a : a)");
  case OpKind::OnnxExp: return fn("exp") + "(a)";
  case OpKind::OnnxLog: return fn("log") + "(a)";
  case OpKind::OnnxSqrt: return fn("sqrt") + "(a)";
  case OpKind::OnnxErf: return fn("erf") + "(a)";
  case OpKind::OnnxTanh: return fn("tanh") + "(a)";
  case OpKind::OnnxSigmoid: return "((T)1 / ((T)1 + " + fn("exp") + "(-a)))";
  case OpKind::OnnxReciprocal: return std::string("((T)1 / a)");
  case OpKind::OnnxAdd: return std::string("(a + b)");
  case OpKind::OnnxSub: return std::string("(a - b)");
  case OpKind::OnnxMul: return std::string("(a * b)");
  case OpKind::OnnxDiv: return std::string("(a / b)");
  case OpKind::OnnxPow: return fn("pow") + "(a, b)";
  case OpKind::OnnxWhere: return std::string("(a ? b : c)");
  case OpKind::OnnxCast: return std::string("a");
  default: return unsupported(op.describe() + ": " + std::string(op.name()) + " has no GPU kernel yet");
  }
}

/// Strides of `in` broadcast to `out` (0 on broadcast dims).
std::vector<int64_t> bcastStrides(const std::vector<int64_t> &in, const std::vector<int64_t> &out) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = in.size(); k-- > 0;) {
    size_t o = out.size() - in.size() + k;
    s[o] = in[k] == 1 ? 0 : stride;
    stride *= in[k];
  }
  return s;
}

Status lowerElementwise(const Operation &op, LoweringContext &ctx) {
  const Value *outV = op.result();
  std::vector<int64_t> out = outV->type().staticShape();
  int64_t n = *outV->type().numElements();
  DType outT = outV->type().elem();
  // Compute in the widest operand type (comparisons and Where compute in their operands' type).
  DType computeD = outT;
  if (op.is(OpKind::OnnxCast))
    computeD = op.operand(0)->type().elem();
  std::string T = computeType(computeD);
  INFC_ASSIGN_OR_RETURN(std::string expr, scalarExpr(op, T));

  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  src << "extern \"C\" __global__ void " << k.function << "(";
  const char *names[] = {"a", "b", "c"};
  std::vector<const Value *> ins;
  for (Value *v : op.operands())
    if (v)
      ins.push_back(v);
  for (size_t i = 0; i < ins.size(); ++i) {
    src << "const " << cudaStorageType(ins[i]->type().elem()) << "* __restrict__ in" << i << ", ";
    k.args.push_back(KernelArg::tensor(ins[i]));
  }
  src << cudaStorageType(outT) << "* __restrict__ out) {\n  typedef " << T << " T;\n";
  k.args.push_back(KernelArg::tensor(outV));
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  std::vector<std::vector<int64_t>> strides;
  bool needIndex = false;
  for (const Value *v : ins) {
    strides.push_back(bcastStrides(v->type().staticShape(), out));
    needIndex = needIndex || v->type().staticShape() != out;
  }
  if (needIndex) {
    src << "    long long r = i;\n";
    for (size_t i = 0; i < ins.size(); ++i)
      src << "    long long o" << i << " = 0;\n";
    for (size_t d = out.size(); d-- > 0;) {
      src << "    { long long c = r % " << out[d] << "LL; r /= " << out[d] << "LL;";
      for (size_t i = 0; i < ins.size(); ++i)
        if (strides[i][d])
          src << " o" << i << " += c * " << strides[i][d] << "LL;";
      src << " }\n";
    }
  }
  for (size_t i = 0; i < ins.size(); ++i) {
    DType t = ins[i]->type().elem();
    // Where's condition stays bool; everything else is converted to the compute type.
    std::string load = loadAs(t, "in" + std::to_string(i) + "[" + (needIndex ? "o" + std::to_string(i) : "i") + "]");
    if (op.is(OpKind::OnnxWhere) && i == 0)
      src << "    bool " << names[i] << " = " << load << ";\n";
    else
      src << "    T " << names[i] << " = (T)" << load << ";\n";
  }
  src << "    out[i] = " << storeAs(outT, expr) << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k));
  return Status::ok();
}

} // namespace

void registerElementwiseLowerings(LoweringTable &t) {
  for (OpKind k : {OpKind::OnnxRelu, OpKind::OnnxNeg, OpKind::OnnxAbs, OpKind::OnnxExp, OpKind::OnnxLog, OpKind::OnnxSqrt,
                   OpKind::OnnxErf, OpKind::OnnxTanh, OpKind::OnnxSigmoid, OpKind::OnnxReciprocal, OpKind::OnnxAdd,
                   OpKind::OnnxSub, OpKind::OnnxMul, OpKind::OnnxDiv, OpKind::OnnxPow, OpKind::OnnxWhere, OpKind::OnnxCast})
    t[static_cast<size_t>(k)] = &lowerElementwise;
}

} // namespace infc::codegen
