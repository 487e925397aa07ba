// Elementwise ops with numpy broadcasting: one thread per output element, broadcast strides
// baked into the kernel as constants (shapes are static in an engine). Operands are loaded as
// v0, v1, ... in the compute type T; each op is one scalar expression over them.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

namespace infc::codegen {

namespace {

struct ExprContext {
  const Operation &op;
  std::string T;    ///< compute type
  bool isDouble;
  bool isFloatT;
  std::string fn(const char *f) const { return std::string(f) + (isDouble ? "" : "f"); }
  std::string lit(double v) const { return "(T)" + floatLiteral(v, isDouble); }
  Expected<float> attrF(const char *name, float dflt) const { return op.attrs().getFloat(name, dflt); }
};

/// The scalar expression of `op` over v0..vN-1 (already of type T; bool operands stay bool).
Expected<std::string> scalarExpr(const ExprContext &c, size_t numOperands) {
  const Operation &op = c.op;
  auto F = [&](const char *f) { return c.fn(f) + "(v0)"; };
  switch (op.kind()) {
  case OpKind::OnnxAbs: return std::string("(v0 < (T)0 ? -v0 : v0)");
  case OpKind::OnnxAcos: return F("acos");
  case OpKind::OnnxAcosh: return F("acosh");
  case OpKind::OnnxAsin: return F("asin");
  case OpKind::OnnxAsinh: return F("asinh");
  case OpKind::OnnxAtan: return F("atan");
  case OpKind::OnnxAtanh: return F("atanh");
  case OpKind::OnnxCeil: return F("ceil");
  case OpKind::OnnxCos: return F("cos");
  case OpKind::OnnxCosh: return F("cosh");
  case OpKind::OnnxErf: return F("erf");
  case OpKind::OnnxExp: return F("exp");
  case OpKind::OnnxFloor: return F("floor");
  case OpKind::OnnxLog: return F("log");
  case OpKind::OnnxRound: return F("rint");
  case OpKind::OnnxSin: return F("sin");
  case OpKind::OnnxSinh: return F("sinh");
  case OpKind::OnnxSqrt: return F("sqrt");
  case OpKind::OnnxTan: return F("tan");
  case OpKind::OnnxTanh: return F("tanh");
  case OpKind::OnnxNeg: return std::string("(-v0)");
  case OpKind::OnnxReciprocal: return std::string("((T)1 / v0)");
  case OpKind::OnnxRelu: return std::string("(v0 < (T)0 ? (T)0 : v0)");
  case OpKind::OnnxSigmoid: return "((T)1 / ((T)1 + " + c.fn("exp") + "(-v0)))";
  case OpKind::OnnxSign: return std::string("(T)((v0 > (T)0) - (v0 < (T)0))");
  case OpKind::OnnxSoftplus: return c.fn("log") + "(" + c.fn("exp") + "(v0) + (T)1)";
  case OpKind::OnnxSoftsign: return "(v0 / ((T)1 + " + c.fn("fabs") + "(v0)))";
  case OpKind::OnnxMish: return "(v0 * " + c.fn("tanh") + "(" + c.fn("log") + "((T)1 + " + c.fn("exp") + "(v0))))";
  case OpKind::OnnxIsNaN: return std::string("(v0 != v0)");
  case OpKind::OnnxNot: return std::string("(!v0)");
  case OpKind::OnnxIsInf: {
    INFC_ASSIGN_OR_RETURN(int64_t neg, op.attrs().getInt("detect_negative", 1));
    INFC_ASSIGN_OR_RETURN(int64_t pos, op.attrs().getInt("detect_positive", 1));
    return "((" + std::string(pos ? "v0 == (T)INFINITY" : "false") + ") || (" + (neg ? "v0 == -(T)INFINITY" : "false") + "))";
  }
  case OpKind::OnnxCelu: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 1.0f));
    std::string A = c.lit(a);
    return "((v0 > (T)0 ? v0 : (T)0) + ((" + A + " * (" + c.fn("exp") + "(v0 / " + A + ") - (T)1)) < (T)0 ? (" + A + " * (" +
           c.fn("exp") + "(v0 / " + A + ") - (T)1)) : (T)0))";
  }
  case OpKind::OnnxElu: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 1.0f));
    return "(v0 < (T)0 ? " + c.lit(a) + " * (" + c.fn("exp") + "(v0) - (T)1) : v0)";
  }
  case OpKind::OnnxGelu: {
    INFC_ASSIGN_OR_RETURN(std::string approx, op.attrs().getString("approximate", "none"));
    if (approx == "tanh")
      return "((T)0.5 * v0 * ((T)1 + " + c.fn("tanh") + "(" + c.lit(0.7978845608028654) + " * (v0 + " + c.lit(0.044715) +
             " * v0 * v0 * v0))))";
    return "((T)0.5 * v0 * ((T)1 + " + c.fn("erf") + "(v0 * " + c.lit(0.7071067811865476) + ")))";
  }
  case OpKind::OnnxHardSigmoid: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 0.2f));
    INFC_ASSIGN_OR_RETURN(float b, c.attrF("beta", 0.5f));
    std::string e = "(" + c.lit(a) + " * v0 + " + c.lit(b) + ")";
    return "(" + e + " < (T)0 ? (T)0 : (" + e + " > (T)1 ? (T)1 : " + e + "))";
  }
  case OpKind::OnnxHardSwish: {
    std::string e = "(v0 / (T)6 + (T)0.5)";
    return "(v0 * (" + e + " < (T)0 ? (T)0 : (" + e + " > (T)1 ? (T)1 : " + e + ")))";
  }
  case OpKind::OnnxLeakyRelu: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 0.01f));
    return "(v0 < (T)0 ? " + c.lit(a) + " * v0 : v0)";
  }
  case OpKind::OnnxSelu: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 1.67326319217681884765625f));
    INFC_ASSIGN_OR_RETURN(float g, c.attrF("gamma", 1.05070102214813232421875f));
    return "(v0 > (T)0 ? " + c.lit(g) + " * v0 : " + c.lit(g) + " * (" + c.lit(a) + " * " + c.fn("exp") + "(v0) - " + c.lit(a) + "))";
  }
  case OpKind::OnnxShrink: {
    INFC_ASSIGN_OR_RETURN(float bias, c.attrF("bias", 0.0f));
    INFC_ASSIGN_OR_RETURN(float lambd, c.attrF("lambd", 0.5f));
    return "(v0 < -" + c.lit(lambd) + " ? v0 + " + c.lit(bias) + " : (v0 > " + c.lit(lambd) + " ? v0 - " + c.lit(bias) + " : (T)0))";
  }
  case OpKind::OnnxThresholdedRelu: {
    INFC_ASSIGN_OR_RETURN(float a, c.attrF("alpha", 1.0f));
    return "(v0 > " + c.lit(a) + " ? v0 : (T)0)";
  }
  case OpKind::OnnxAdd: return std::string("(v0 + v1)");
  case OpKind::OnnxSub: return std::string("(v0 - v1)");
  case OpKind::OnnxMul: return std::string("(v0 * v1)");
  case OpKind::OnnxDiv: return std::string("(v0 / v1)");
  case OpKind::OnnxPow:
    return c.isFloatT ? c.fn("pow") + "(v0, v1)" : std::string("(T)pow((double)v0, (double)v1)");
  case OpKind::OnnxPRelu: return std::string("(v0 < (T)0 ? v1 * v0 : v0)");
  case OpKind::OnnxMod: {
    INFC_ASSIGN_OR_RETURN(int64_t fmodAttr, op.attrs().getInt("fmod", 0));
    if (fmodAttr || c.isFloatT)
      return c.fn("fmod") + "(v0, v1)";
    return std::string("(v1 == 0 ? (T)0 : ((v0 % v1 != 0 && ((v0 % v1 < 0) != (v1 < 0))) ? v0 % v1 + v1 : v0 % v1))");
  }
  case OpKind::OnnxAnd: return std::string("(v0 && v1)");
  case OpKind::OnnxOr: return std::string("(v0 || v1)");
  case OpKind::OnnxXor: return std::string("(v0 != v1)");
  case OpKind::OnnxEqual: return std::string("(v0 == v1)");
  case OpKind::OnnxGreater: return std::string("(v0 > v1)");
  case OpKind::OnnxGreaterOrEqual: return std::string("(v0 >= v1)");
  case OpKind::OnnxLess: return std::string("(v0 < v1)");
  case OpKind::OnnxLessOrEqual: return std::string("(v0 <= v1)");
  case OpKind::OnnxBitShift: {
    INFC_ASSIGN_OR_RETURN(std::string dir, op.attrs().getString("direction"));
    return std::string(dir == "LEFT" ? "(v0 << v1)" : "(v0 >> v1)");
  }
  case OpKind::OnnxWhere: return std::string("(v0 ? v1 : v2)");
  case OpKind::OnnxCast: case OpKind::OnnxCastLike: return std::string("v0");
  case OpKind::OnnxSum: case OpKind::OnnxMean: case OpKind::OnnxMax: case OpKind::OnnxMin: {
    std::string e = "v0";
    for (size_t i = 1; i < numOperands; ++i) {
      std::string v = "v" + std::to_string(i);
      if (op.is(OpKind::OnnxSum) || op.is(OpKind::OnnxMean))
        e = "(" + e + " + " + v + ")";
      else if (op.is(OpKind::OnnxMax))
        e = "(" + e + " != " + e + " || " + e + " > " + v + " ? " + e + " : " + v + ")";
      else
        e = "(" + e + " != " + e + " || " + e + " < " + v + " ? " + e + " : " + v + ")";
    }
    if (op.is(OpKind::OnnxMean))
      e = "(" + e + " / (T)" + std::to_string(numOperands) + ")";
    return e;
  }
  case OpKind::OnnxQuantizeLinear: // in a fused chain (fuse-elementwise): to e4m3 or int8 by a scalar scale
    return std::string("(v0 / v1)");
  case OpKind::OnnxDequantizeLinear: // in a fused chain: int8 times a scalar scale
    return std::string("(v0 * v1)");
  case OpKind::OnnxClip: {
    // Operands: x, min, max (either may be absent); v1/v2 are bound to the present ones.
    std::string e = "v0";
    size_t next = 1;
    if (op.hasOperand(1)) {
      std::string m = "v" + std::to_string(next++);
      e = "(" + e + " < " + m + " ? " + m + " : " + e + ")";
    }
    if (op.hasOperand(2)) {
      std::string m = "v" + std::to_string(next++);
      e = "(" + e + " > " + m + " ? " + m + " : " + e + ")";
    }
    return e;
  }
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

bool isComparisonOrLogic(OpKind k) {
  switch (k) {
  case OpKind::OnnxEqual: case OpKind::OnnxGreater: case OpKind::OnnxGreaterOrEqual: case OpKind::OnnxLess:
  case OpKind::OnnxLessOrEqual: case OpKind::OnnxIsNaN: case OpKind::OnnxIsInf: case OpKind::OnnxCast:
  case OpKind::OnnxCastLike:
    return true;
  default:
    return false;
  }
}

Status lowerElementwise(const Operation &op, LoweringContext &ctx);

/// Emits the per-element offsets of each input broadcast to `out` ("o<i>", or "i" when the input
/// has the output's shape) and returns the index expression of each input.
std::vector<std::string> emitOffsets(std::ostringstream &src, const std::vector<const Value *> &ins,
                                     const std::vector<int64_t> &out) {
  std::vector<std::vector<int64_t>> strides;
  bool needIndex = false;
  for (const Value *v : ins) {
    strides.push_back(bcastStrides(v->type().staticShape(), out));
    needIndex = needIndex || v->type().staticShape() != out;
  }
  std::vector<std::string> index(ins.size(), "i");
  if (!needIndex)
    return index;
  src << "    long long r = i;\n";
  for (size_t i = 0; i < ins.size(); ++i) {
    src << "    long long o" << i << " = 0;\n";
    index[i] = "o" + std::to_string(i);
  }
  for (size_t d = out.size(); d-- > 0;) {
    src << "    { long long c = r % " << out[d] << "LL; r /= " << out[d] << "LL;";
    for (size_t i = 0; i < ins.size(); ++i)
      if (strides[i][d])
        src << " o" << i << " += c * " << strides[i][d] << "LL;";
    src << " (void)c; }\n";
  }
  return index;
}

/// The input of a fused chain that makes the chain a function of one byte: the only input with
/// more than one element, 1 byte wide (int8, uint8, e4m3: a quantized tensor), the others scalars,
/// and a result of 1 or 2 bytes. -1 when there is none.
int byteTableInput(const std::vector<const Value *> &ins, const Value *out) {
  DType t = out->type().elem();
  if (t == DType::Bool || dtypeSize(t) > 2)
    return -1;
  int found = -1;
  for (size_t i = 0; i < ins.size(); ++i) {
    const TensorType &ty = ins[i]->type();
    if (*ty.numElements() == 1)
      continue;
    if (found >= 0 || *ty.numElements() != *out->type().numElements() || dtypeSize(ty.elem()) != 1 ||
        ty.elem() == DType::Bool)
      return -1;
    found = int(i);
  }
  return found;
}

/// The chain over `in<ti>` as a 256-entry table: each block evaluates `element` once per byte value
/// (the same code, so the same bits, as per element), then the kernel is a memory-bound lookup, 16
/// bytes of the input per thread and step. A quantized GELU (dequantize, erf, quantize: about 80
/// instructions per element) becomes a byte copy. 256 threads per block, at most 2048 blocks.
void emitByteTable(std::ostringstream &src, KernelLayer &k, const std::vector<const Value *> &ins, size_t ti,
                   const Value *out, int64_t n,
                   const std::function<void(const std::vector<std::string> &, const std::string &, const std::string &)> &element) {
  std::string O = cudaStorageType(out->type().elem()), I = cudaStorageType(ins[ti]->type().elem());
  size_t esize = dtypeSize(out->type().elem());
  src << "  __shared__ " << O << " tab[256];\n  for (int b = threadIdx.x; b < 256; b += blockDim.x) {\n"
      << "    const " << I << " x = (" << I << ")b;\n";
  std::vector<std::string> inputs;
  for (size_t i = 0; i < ins.size(); ++i)
    inputs.push_back(i == ti ? "x" : "in" + std::to_string(i) + "[0]");
  element(inputs, "tab[b]", "    ");
  src << "  }\n  __syncthreads();\n  const long long n = " << n << "LL;\n"
      << "  const unsigned char *xb = (const unsigned char *)in" << ti << ";\n"
      << "  if ((((unsigned long long)xb | (unsigned long long)out0) % 16) == 0) {\n"
      << "    INFC_GRID_STRIDE(c, n / 16) {\n      const uint4 v = ((const uint4 *)xb)[c];\n"
      << "      const unsigned char *xv = (const unsigned char *)&v;\n      __align__(16) " << O << " o[16];\n"
      << "      #pragma unroll\n      for (int e = 0; e < 16; ++e) o[e] = tab[xv[e]];\n      "
      << vectorMove8(esize, "out0 + c * 16", "o") << "\n      " << vectorMove8(esize, "out0 + c * 16 + 8", "o + 8")
      << "\n    }\n    for (long long i = n / 16 * 16 + (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
      << " i += (long long)blockDim.x * gridDim.x)\n      out0[i] = tab[xb[i]];\n    return;\n  }\n"
      << "  INFC_GRID_STRIDE(i, n) out0[i] = tab[xb[i]];\n}\n";
  k.source = src.str();
  constexpr int64_t kThreads = 256, kMaxBlocks = 2048;
  int64_t blocks = std::min<int64_t>((std::max<int64_t>(n, 1) + kThreads * 16 - 1) / (kThreads * 16), kMaxBlocks);
  k.grid = {static_cast<uint32_t>(blocks), 1, 1};
  k.block = {uint32_t(kThreads), 1, 1};
  k.gridFrom(0, std::max<int64_t>(n, 1), kThreads * 16, kMaxBlocks);
}

/// infc.fused: the region's chain of elementwise ops as one kernel; its operands (the chain's
/// external inputs, bound to the region's arguments) are read once per element, the intermediate
/// values stay in registers. Every member computes in the result's compute type; a float Cast
/// rounds to its type as the unfused Cast would store it.
Status lowerInfcFused(const Operation &op, LoweringContext &ctx) {
  const Block &body = op.region(0);
  const Value *outV = op.result();
  std::vector<int64_t> out = outV->type().staticShape();
  int64_t n = *outV->type().numElements();
  DType t = outV->type().elem();
  // A chain ending in a quantization to int8 computes in float and rounds once, half to even,
  // saturating (as QuantizeLinear's own kernel does).
  bool toInt8 = t == DType::I8;
  std::string T = computeType(toInt8 ? DType::F32 : t);
  std::vector<const Value *> ins(op.operands().begin(), op.operands().end());
  KernelLayer k;
  // Named after the chain's first op, as "k12_Mul_fused".
  k.function = ctx.kernelName(*body.ops().front(), "fused");
  std::ostringstream src;
  const Value *over = inPlaceOperand(op, ctx, ins);
  beginKernel(src, k, ins, {outV}, !over);
  src << "  typedef " << T << " T;\n";
  // One element: the inputs' storage expressions in, the chain's members in registers, the result
  // stored to `output`.
  Status status = Status::ok();
  auto element = [&](const std::vector<std::string> &inputs, const std::string &output, const std::string &indent) {
    for (size_t i = 0; i < ins.size(); ++i)
      src << indent << "const T e" << i << " = " << loadAsFloat(ins[i]->type().elem(), inputs[i], "T") << ";\n";
    std::unordered_map<const Value *, std::string> reg;
    for (size_t i = 0; i < body.numArguments(); ++i)
      reg[body.argument(i)] = "e" + std::to_string(i);
    size_t c = 0;
    for (const auto &member : body.ops()) {
      const Operation &o = *member;
      ExprContext ec{o, T, false, true};
      Expected<std::string> expr = scalarExpr(ec, o.numOperands());
      if (!expr.isOk()) {
        status = expr.status();
        return;
      }
      std::string e = *expr;
      if (o.is(OpKind::OnnxCast)) // round to the cast's type as the unfused Cast would store it
        e = loadAs(o.result()->type().elem(), storeAs(o.result()->type().elem(), "v0"));
      src << indent << "T r" << c << ";\n" << indent << "{\n";
      for (size_t j = 0; j < o.numOperands(); ++j)
        src << indent << "  const T v" << j << " = " << reg.at(o.operand(j)) << ";\n";
      src << indent << "  r" << c << " = " << e << ";\n" << indent << "}\n";
      reg[o.result()] = "r" + std::to_string(c++);
    }
    std::string result = reg.at(body.yields().at(0));
    src << indent << output << " = " << (toInt8 ? storeQuantized(t, result) : storeAs(t, result)) << ";\n";
  };
  if (int ti = byteTableInput(ins, outV); ti >= 0) {
    emitByteTable(src, k, ins, size_t(ti), outV, n, element);
    INFC_RETURN_IF_ERROR(status);
    ctx.addKernel(op, std::move(k), ins, {outV});
  } else {
    bool vec = emitVector8(
        src, ins, outV, n,
        [&](const std::vector<std::string> &inputs, const std::string &output) { element(inputs, output, "        "); },
        ctx.options().shapeGeneric);
    src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
    std::vector<std::string> index = emitOffsets(src, ins, out);
    std::vector<std::string> inputs;
    for (size_t i = 0; i < ins.size(); ++i)
      inputs.push_back("in" + std::to_string(i) + "[" + index[i] + "]");
    element(inputs, "out0[i]", "    ");
    INFC_RETURN_IF_ERROR(status);
    src << "  }\n}\n";
    finish(op, ctx, std::move(k), src, n, ins, {outV}, vec);
  }
  if (over)
    ctx.addAlias(outV, over);
  // The members' precisions for inspect: their dtypes in order ("f32 f16") and the first reason
  // assign-precision gave for keeping one in f32.
  std::string precision, why;
  for (const auto &member : body.ops()) {
    std::string d(dtypeName(member->result()->type().elem()));
    if ((" " + precision + " ").find(" " + d + " ") == std::string::npos)
      precision += (precision.empty() ? "" : " ") + d;
    const Attribute *a = member->attrs().find("precision");
    if (why.empty() && a && std::holds_alternative<std::string>(*a))
      why = std::get<std::string>(*a);
  }
  ctx.layers().back().precision = why.empty() ? precision : precision + "; " + why;
  return Status::ok();
}

Status lowerElementwise(const Operation &op, LoweringContext &ctx) {
  const Value *outV = op.result();
  std::vector<int64_t> out = outV->type().staticShape();
  int64_t n = *outV->type().numElements();
  DType outT = outV->type().elem();
  // Comparisons and casts compute in their input's type; Where in its values' type.
  DType computeD = isComparisonOrLogic(op.kind()) ? op.operand(0)->type().elem() : outT;
  if (computeD == DType::Bool && !(op.is(OpKind::OnnxCast) || op.is(OpKind::OnnxCastLike)))
    computeD = DType::Bool;
  std::string T = computeType(computeD);
  ExprContext ec{op, T, T == "double", T == "double" || T == "float"};
  std::vector<const Value *> ins;
  for (Value *v : op.operands())
    if (v)
      ins.push_back(v);
  INFC_ASSIGN_OR_RETURN(std::string expr, scalarExpr(ec, ins.size()));
  // Float -> integer casts saturate-free truncation like the reference (C conversion of the value).
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  if (op.is(OpKind::OnnxCastLike))
    ins.resize(1);
  const Value *over = inPlaceOperand(op, ctx, ins);
  beginKernel(src, k, ins, {outV}, !over);
  src << "  typedef " << T << " T;\n";
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  std::vector<std::string> index = emitOffsets(src, ins, out);
  for (size_t i = 0; i < ins.size(); ++i) {
    DType t = ins[i]->type().elem();
    std::string load = loadAs(t, "in" + std::to_string(i) + "[" + index[i] + "]");
    bool keepBool = t == DType::Bool && (op.is(OpKind::OnnxWhere) ? i == 0 : T == "bool");
    if (keepBool || (op.is(OpKind::OnnxWhere) && i == 0))
      src << "    const bool v" << i << " = " << load << ";\n";
    else
      src << "    const T v" << i << " = (T)" << load << ";\n";
  }
  src << "    out0[i] = " << storeAs(outT, expr) << ";\n  }\n}\n";
  finish(op, ctx, std::move(k), src, n, ins, {outV});
  if (over)
    ctx.addAlias(outV, over);
  return Status::ok();
}

} // namespace

void registerElementwiseLowerings(LoweringTable &t) {
  for (OpKind k : {OpKind::OnnxAbs, OpKind::OnnxAcos, OpKind::OnnxAcosh, OpKind::OnnxAsin, OpKind::OnnxAsinh, OpKind::OnnxAtan,
                   OpKind::OnnxAtanh, OpKind::OnnxCeil, OpKind::OnnxCelu, OpKind::OnnxCos, OpKind::OnnxCosh, OpKind::OnnxElu,
                   OpKind::OnnxErf, OpKind::OnnxExp, OpKind::OnnxFloor, OpKind::OnnxGelu, OpKind::OnnxHardSigmoid,
                   OpKind::OnnxHardSwish, OpKind::OnnxIsInf, OpKind::OnnxIsNaN, OpKind::OnnxLeakyRelu, OpKind::OnnxLog,
                   OpKind::OnnxMish, OpKind::OnnxNeg, OpKind::OnnxNot, OpKind::OnnxReciprocal, OpKind::OnnxRelu,
                   OpKind::OnnxRound, OpKind::OnnxSelu, OpKind::OnnxShrink, OpKind::OnnxSigmoid, OpKind::OnnxSign,
                   OpKind::OnnxSin, OpKind::OnnxSinh, OpKind::OnnxSoftplus, OpKind::OnnxSoftsign, OpKind::OnnxSqrt,
                   OpKind::OnnxTan, OpKind::OnnxTanh, OpKind::OnnxThresholdedRelu, OpKind::OnnxAdd, OpKind::OnnxAnd,
                   OpKind::OnnxBitShift, OpKind::OnnxDiv, OpKind::OnnxEqual, OpKind::OnnxGreater,
                   OpKind::OnnxGreaterOrEqual, OpKind::OnnxLess, OpKind::OnnxLessOrEqual, OpKind::OnnxMod, OpKind::OnnxMul,
                   OpKind::OnnxOr, OpKind::OnnxPow, OpKind::OnnxPRelu, OpKind::OnnxSub, OpKind::OnnxXor, OpKind::OnnxMax,
                   OpKind::OnnxMean, OpKind::OnnxMin, OpKind::OnnxSum, OpKind::OnnxClip, OpKind::OnnxWhere,
                   OpKind::OnnxCast, OpKind::OnnxCastLike})
    t[static_cast<size_t>(k)] = &lowerElementwise;
  t[static_cast<size_t>(OpKind::InfcFused)] = &lowerInfcFused;
}

} // namespace infc::codegen
