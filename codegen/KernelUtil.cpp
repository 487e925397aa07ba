#include "codegen/Lowering.h"
#include "codegen/kernels/KernelWriter.h"

#include <algorithm>

namespace infc::codegen {

const Operation *soleUser(const Value *v) {
  if (v->isGraphOutput() || v->users().size() != 1)
    return nullptr;
  return v->users()[0];
}

bool LoweringContext::canOverwrite(const Value *v, const Operation &op) const {
  const Value *y = op.result();
  if (!options_.inPlace || y->isGraphOutput() || !(v->type() == y->type()))
    return false;
  // Every name of v's bytes: its root and the root's aliases (Reshape results, earlier in-place
  // results). None may be the user's or a constant, and none may be read after `op`.
  const Value *root = aliasRoot(v);
  std::vector<const Value *> names = {root};
  for (const auto &[out, in] : aliases_)
    if (aliasRoot(out) == root)
      names.push_back(out);
  size_t reads = 0;
  for (const Value *n : names) {
    if (n->isGraphOutput() || !n->definingOp() || n->definingOp()->is(OpKind::OnnxConstant))
      return false;
    for (const Operation *u : n->users())
      if (u != &op && (!lowered_.count(u) || u == current_))
        return false; // read later
    for (size_t i = 0; i < op.numOperands(); ++i)
      reads += op.operand(i) == n ? 1 : 0;
  }
  return reads == 1;
}

std::string LoweringContext::kernelName(const Operation &op, const std::string &suffix) {
  std::string n = "k" + std::to_string(counter_++) + "_" + std::string(op.info().name);
  if (!suffix.empty())
    n += "_" + suffix;
  return n;
}

void LoweringContext::addKernel(const Operation &op, KernelLayer kernel, std::vector<const Value *> inputs,
                                std::vector<const Value *> outputs) {
  Layer l;
  if (inputs.empty())
    for (Value *v : op.operands())
      if (v)
        inputs.push_back(v);
  if (outputs.empty())
    for (Value *v : op.results())
      outputs.push_back(v);
  l.name = kernel.function;
  l.tactic = "generated kernel " + kernel.function + " grid(" + std::to_string(kernel.grid[0]) + "," +
             std::to_string(kernel.grid[1]) + "," + std::to_string(kernel.grid[2]) + ") block(" +
             std::to_string(kernel.block[0]) + "," + std::to_string(kernel.block[1]) + "," +
             std::to_string(kernel.block[2]) + ")";
  l.impl = std::move(kernel);
  l.inputs = std::move(inputs);
  l.outputs = std::move(outputs);
  l.loc = op.loc();
  DType t = op.numResults() ? op.result()->type().elem() : DType::F32;
  l.precision = std::string(dtypeName(t));
  // assign-precision's reason for keeping f32 ("f32: exp overflows f16 ...") shows in inspect.
  if (const Attribute *why = op.attrs().find("precision"); why && std::holds_alternative<std::string>(*why))
    l.precision = std::get<std::string>(*why);
  layers_.push_back(std::move(l));
}

std::string cudaStorageType(DType t) {
  switch (t) {
  case DType::F32: return "float";
  case DType::F64: return "double";
  case DType::F16: case DType::BF16: return "unsigned short";
  case DType::I8: return "signed char";
  case DType::U8: case DType::Bool: case DType::F8E4M3: case DType::F8E5M2: return "unsigned char";
  case DType::I16: return "short";
  case DType::U16: return "unsigned short";
  case DType::I32: return "int";
  case DType::U32: return "unsigned int";
  case DType::I64: return "long long";
  case DType::U64: return "unsigned long long";
  default: return "void";
  }
}

std::string computeType(DType t) {
  switch (t) {
  case DType::F64: return "double";
  case DType::F32: case DType::F16: case DType::BF16: case DType::F8E4M3: case DType::F8E5M2: return "float";
  case DType::Bool: return "bool";
  case DType::U8: case DType::U16: case DType::U32: case DType::U64: return "unsigned long long";
  default: return "long long";
  }
}

std::string loadAs(DType t, const std::string &expr) {
  switch (t) {
  case DType::F16: return "infc_h2f(" + expr + ")";
  case DType::BF16: return "infc_bf2f(" + expr + ")";
  case DType::F8E4M3: return "infc_e4m3_to_f(" + expr + ")";
  case DType::Bool: return "((" + expr + ") != 0)";
  default: return "((" + computeType(t) + ")(" + expr + "))";
  }
}

std::string loadAsFloat(DType t, const std::string &expr, const std::string &T) {
  switch (t) {
  case DType::I8: case DType::U8: case DType::I16: case DType::U16: case DType::I32:
    return "((" + T + ")(int)(" + expr + "))";
  default: return "((" + T + ")" + loadAs(t, expr) + ")";
  }
}

std::string storeQuantized(DType t, const std::string &expr) {
  return t == DType::I8 ? storeAs(t, "(int)fminf(fmaxf(rintf(" + expr + "), -128.0f), 127.0f)") : storeAs(t, expr);
}

std::string storeAs(DType t, const std::string &expr) {
  switch (t) {
  case DType::F16: return "infc_f2h((float)(" + expr + "))";
  case DType::BF16: return "infc_f2bf((float)(" + expr + "))";
  case DType::F8E4M3: return "infc_f2e4m3((float)(" + expr + "))";
  case DType::Bool: return "((unsigned char)((" + expr + ") ? 1 : 0))";
  default: return "((" + cudaStorageType(t) + ")(" + expr + "))";
  }
}

const std::string &kernelPrelude() {
  static const std::string prelude = R"(// infc generated kernels (NVRTC). Do not edit: regenerated on every engine build.
__device__ __forceinline__ float infc_h2f(unsigned short h) { float f; asm("{cvt.f32.f16 %0, %1;}" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short infc_f2h(float f) { unsigned short h; asm("{cvt.rn.f16.f32 %0, %1;}" : "=h"(h) : "f"(f)); return h; }
__device__ __forceinline__ float infc_bf2f(unsigned short b) { return __uint_as_float(((unsigned int)b) << 16); }
__device__ __forceinline__ unsigned short infc_f2bf(float f) {
  unsigned int x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (unsigned short)(x >> 16);
}
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
// float8 e4m3fn: exact decode; encode rounds to nearest even and saturates to +-448 (NaN stays NaN).
__device__ __forceinline__ float infc_e4m3_to_f(unsigned char v) {
  unsigned int e = (v >> 3) & 15u, m = v & 7u;
  float r = e == 15u && m == 7u ? __int_as_float(0x7fc00000) : e == 0u ? (float)m * 0.001953125f : __uint_as_float(((e + 120u) << 23) | (m << 20));
  return (v & 0x80u) ? -r : r;
}
__device__ __forceinline__ unsigned char infc_f2e4m3(float f) {
#if __CUDA_ARCH__ >= 890
  unsigned short r;
  asm("{cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;}" : "=h"(r) : "f"(0.0f), "f"(f));
  return (unsigned char)(r & 0xffu);
#else
  if (f != f) return 0x7f;
  unsigned char s = f < 0.0f ? 0x80 : 0;
  float a = fabsf(f);
  if (a < 0.015625f) return s | (unsigned char)rintf(a * 512.0f); // subnormals (8 rounds up to 2^-6)
  int e;
  float q = rintf((frexpf(a, &e) * 2.0f - 1.0f) * 8.0f);
  e += 6; // the biased exponent of a = (1 + q / 8) * 2^(e - 7)
  if (q == 8.0f) { q = 0.0f; ++e; }
  if (e > 15 || (e == 15 && q == 7.0f)) return s | 0x7e;
  return s | (unsigned char)((e << 3) | (int)q);
#endif
}
__device__ __forceinline__ float infc_exp(float x) { return expf(x); }
__device__ __forceinline__ double infc_exp(double x) { return exp(x); }
__device__ __forceinline__ float infc_log(float x) { return logf(x); }
__device__ __forceinline__ double infc_log(double x) { return log(x); }
__device__ __forceinline__ float infc_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double infc_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float infc_fabs(float x) { return fabsf(x); }
__device__ __forceinline__ double infc_fabs(double x) { return fabs(x); }
#define INFC_GRID_STRIDE(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)
)";
  return prelude;
}

void launch1D(KernelLayer &k, int64_t n, uint32_t threadsPerBlock) {
  int64_t blocks = (std::max<int64_t>(n, 1) + threadsPerBlock - 1) / threadsPerBlock;
  // Grid-stride loops cover the rest; 132 SMs x 32 blocks keeps every SM busy.
  blocks = std::min<int64_t>(blocks, 65535LL * 8);
  k.grid = {static_cast<uint32_t>(blocks), 1, 1};
  k.block = {threadsPerBlock, 1, 1};
  k.gridFrom(0, std::max<int64_t>(n, 1), threadsPerBlock, 65535LL * 8);
}

} // namespace infc::codegen

namespace infc::codegen {

void addEpilogueKernel(const Operation &op, LoweringContext &ctx, const Value *y, const Value *z, const Activation &act) {
  DType t = y->type().elem();
  int64_t n = *y->type().numElements();
  KernelLayer k;
  k.function = ctx.kernelName(op, "epilogue");
  std::ostringstream src;
  std::string S = cudaStorageType(t);
  src << "extern \"C\" __global__ void " << k.function << "(" << (z ? "const " + S + "* __restrict__ z, " : "") << S
      << "* y) {\n";
  auto element = [&](const std::string &yi, const std::string &zi) {
    return "    { float v = " + loadAs(t, yi) + (z ? " + " + loadAs(t, zi) : "") + "; v = " + activationExpr(act, "v") +
           "; " + yi + " = " + storeAs(t, "v") + "; }\n";
  };
  // 16-bit types, 8 per thread through 16-byte loads and stores (the epilogues sit on large GEMM
  // outputs: memory-bound); the scalar loop covers unaligned pointers, which bound graph outputs may be.
  bool vec = (t == DType::F16 || t == DType::BF16) && n % 8 == 0;
  if (vec) {
    src << "  if (((unsigned long long)y" << (z ? " | (unsigned long long)z" : "") << ") % 16 == 0) {\n"
        << "    INFC_GRID_STRIDE(c, " << n / 8 << "LL) {\n      uint4 yv = ((const uint4 *)y)[c];\n"
        << (z ? "      const uint4 zv = ((const uint4 *)z)[c];\n      const " + S + " *zp = (const " + S + " *)&zv;\n" : "")
        << "      " << S << " *yp = (" << S << " *)&yv;\n      #pragma unroll\n      for (int e = 0; e < 8; ++e)\n";
    src << element("yp[e]", "zp[e]");
    src << "      ((uint4 *)y)[c] = yv;\n    }\n    return;\n  }\n";
  }
  src << "  INFC_GRID_STRIDE(i, " << n << "LL)\n" << element("y[i]", "z[i]") << "}\n";
  k.source = src.str();
  std::vector<const Value *> ins;
  if (z) {
    k.args.push_back(KernelArg::tensor(z));
    ins.push_back(z);
  }
  k.args.push_back(KernelArg::tensor(y));
  ins.push_back(y);
  launch1D(k, vec ? n / 8 : n);
  ctx.addKernel(op, std::move(k), ins, {y});
}

std::string activationExpr(const Activation &act, const std::string &v) {
  auto lit = [](float f) { return floatLiteral(f, false); };
  auto clamp01 = [](const std::string &e) { return "fminf(fmaxf(" + e + ", 0.0f), 1.0f)"; };
  switch (act.kind) {
  case Act::None: return v;
  case Act::Relu: return "fmaxf(" + v + ", 0.0f)";
  case Act::Sigmoid: return "(1.0f / (1.0f + expf(-" + v + ")))";
  case Act::Tanh: return "tanhf(" + v + ")";
  case Act::Clip: return "fminf(fmaxf(" + v + ", " + lit(act.params[0]) + "), " + lit(act.params[1]) + ")";
  case Act::LeakyRelu: return "(" + v + " < 0.0f ? " + lit(act.params[0]) + " * " + v + " : " + v + ")";
  case Act::Silu: return "(" + v + " / (1.0f + expf(-" + v + ")))";
  case Act::HardSwish: return "(" + v + " * " + clamp01(v + " / 6.0f + 0.5f") + ")";
  case Act::HardSigmoid: return clamp01(lit(act.params[0]) + " * " + v + " + " + lit(act.params[1]));
  case Act::Gelu: return "(0.5f * " + v + " * (1.0f + erff(" + v + " * 0.70710678f)))";
  case Act::GeluTanh:
    return "(0.5f * " + v + " * (1.0f + tanhf(0.79788456f * (" + v + " + 0.044715f * " + v + " * " + v + " * " + v + "))))";
  }
  return v;
}

} // namespace infc::codegen
