// Reductions: one warp per output element (lanes stride over the reduced elements, then a
// shuffle tree), and one warp per row for softmax-like and layer-norm ops. Accumulation is in
// float (double for f64 tensors); float sums are pairwise through the shuffle tree.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include <algorithm>
#include <functional>

namespace infc::codegen {

namespace {

constexpr uint32_t kWarpsPerBlock = 8;

std::vector<int64_t> shapeOf(const Value *v) { return v->type().staticShape(); }

void launchWarps(KernelLayer &k, int64_t warps) {
  int64_t blocks = (std::max<int64_t>(warps, 1) + kWarpsPerBlock - 1) / kWarpsPerBlock;
  k.grid = {static_cast<uint32_t>(std::min<int64_t>(blocks, 1 << 30)), 1, 1};
  k.gridFrom(0, std::max<int64_t>(warps, 1), kWarpsPerBlock, 1 << 30);
  k.block = {32 * kWarpsPerBlock, 1, 1};
}

const char *kWarpHelpers = R"(
#define INFC_WARP_LOOP(w, n) for (long long w = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32; w < (n); w += ((long long)gridDim.x * blockDim.x) / 32)
)";

std::string shuffleReduce(const std::string &var, const std::string &combine) {
  // combine uses `a` and `b`.
  std::string c = combine;
  // The lane-offset variable must not be named like any accumulator (`s`, `q`, `m`, `acc`).
  return "    for (int lane_off = 16; lane_off > 0; lane_off >>= 1) { T b = __shfl_xor_sync(0xffffffffu, " + var +
         ", lane_off); T a = " + var + "; " + var + " = " + c + "; }\n";
}

/// In a warp loop over rows of L elements at in0[base..]: the row's `mean` and `inv` =
/// 1/sqrt(variance + eps), two-pass (mean first, then squared deviations), in the compute type T.
/// With `rms`, mean = 0 and inv = 1/sqrt(mean(x^2) + eps) in one pass.
/// The mean and 1 / std of the row at `base` (length L) into `mean` and `inv`, one warp per row;
/// `load(j)` is element j of the row as a T expression.
void emitMeanInvStd(std::ostringstream &src, const std::function<std::string(const std::string &)> &load, int64_t L, float eps,
                    bool rms) {
  if (rms) {
    src << "    const T mean = 0;\n";
  } else {
    src << "    T s = 0;\n    for (long long j = lane; j < " << L << "LL; j += 32) s += " << load("j") << ";\n";
    src << shuffleReduce("s", "a + b");
    src << "    const T mean = s / (T)" << L << ";\n";
  }
  src << "    T q = 0;\n    for (long long j = lane; j < " << L << "LL; j += 32) { T d = " << load("j")
      << (rms ? "" : " - mean") << "; q += d * d; }\n";
  src << shuffleReduce("q", "a + b");
  src << "    const T inv = (T)1 / infc_sqrt(q / (T)" << L << " + (T)" << floatLiteral(eps, false) << ");\n";
}

/// Reduced axes of a reduce op (sorted, non-negative); empty axes -> all or none per noop flag.
Expected<std::vector<int64_t>> reduceAxes(const Operation &op, int64_t rank) {
  std::vector<int64_t> axes;
  if (op.hasOperand(1)) {
    const Tensor *t = getConstantValue(op.operand(1));
    if (!t)
      return unsupported(op.describe() + ": run-time reduction axes have no GPU kernel yet");
    for (int64_t i = 0; i < t->numElements(); ++i)
      axes.push_back(t->getInt(i));
  }
  if (axes.empty()) {
    INFC_ASSIGN_OR_RETURN(int64_t noop, op.attrs().getInt("noop_with_empty_axes", 0));
    if (!noop)
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
  }
  for (int64_t &a : axes)
    if (a < 0)
      a += rank;
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

struct ReduceKind {
  std::string init, accumulate, combine, finish; // in terms of acc, v (element), n (count)
};

Expected<ReduceKind> reduceKind(const Operation &op) {
  switch (op.kind()) {
  case OpKind::OnnxReduceSum: return ReduceKind{"0", "acc + v", "a + b", "acc"};
  case OpKind::OnnxReduceMean: case OpKind::OnnxGlobalAveragePool: return ReduceKind{"0", "acc + v", "a + b", "acc / (T)n"};
  case OpKind::OnnxReduceMax: case OpKind::OnnxGlobalMaxPool:
    return ReduceKind{"-INFINITY", "(v > acc || v != v) ? v : acc", "(b > a || b != b) ? b : a", "acc"};
  case OpKind::OnnxReduceMin: return ReduceKind{"INFINITY", "(v < acc || v != v) ? v : acc", "(b < a || b != b) ? b : a", "acc"};
  case OpKind::OnnxReduceProd: return ReduceKind{"1", "acc * v", "a * b", "acc"};
  case OpKind::OnnxReduceL1: return ReduceKind{"0", "acc + infc_fabs(v)", "a + b", "acc"};
  case OpKind::OnnxReduceL2: return ReduceKind{"0", "acc + v * v", "a + b", "infc_sqrt(acc)"};
  case OpKind::OnnxReduceSumSquare: return ReduceKind{"0", "acc + v * v", "a + b", "acc"};
  case OpKind::OnnxReduceLogSum: return ReduceKind{"0", "acc + v", "a + b", "infc_log(acc)"};
  default: return unsupported(op.describe() + ": " + std::string(op.name()) + " has no GPU kernel yet");
  }
}

Status lowerReduce(const Operation &op, LoweringContext &ctx) {
  const Value *in = op.operand(0), *out = op.result();
  DType dt = in->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": " + std::string(op.name()) + " on " + std::string(dtypeName(dt)) +
                       " has no GPU kernel yet");
  std::vector<int64_t> shape = shapeOf(in);
  int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  if (op.is(OpKind::OnnxGlobalAveragePool) || op.is(OpKind::OnnxGlobalMaxPool)) {
    for (int64_t i = 2; i < rank; ++i)
      axes.push_back(i);
  } else {
    INFC_ASSIGN_OR_RETURN(axes, reduceAxes(op, rank));
  }
  INFC_ASSIGN_OR_RETURN(ReduceKind rk, reduceKind(op));
  std::vector<int64_t> kept, keptIdx, red, redIdx;
  for (int64_t d = 0; d < rank; ++d) {
    bool r = std::find(axes.begin(), axes.end(), d) != axes.end();
    (r ? red : kept).push_back(shape[static_cast<size_t>(d)]);
    (r ? redIdx : keptIdx).push_back(d);
  }
  std::vector<int64_t> st = rowMajorStrides(shape);
  int64_t outputs = 1, count = 1;
  for (int64_t d : kept)
    outputs *= d;
  for (int64_t d : red)
    count *= d;
  std::string T = dt == DType::F64 ? "double" : "float";
  // Reduced axes in one contiguous block before kept inner axes (an NHWC global pool reduces H
  // and W of [N, H, W, C]): one thread per output, neighbouring threads reading neighbouring
  // elements. A warp per output would read one element per row at a stride of `inner`. Only
  // with enough outputs to fill the GPU, and rows short enough for a sequential float sum.
  int64_t inner = 1;
  for (int64_t d = axes.empty() ? rank : axes.back() + 1; d < rank; ++d)
    inner *= shape[static_cast<size_t>(d)];
  bool contiguousBlock = !axes.empty() && axes.back() - axes.front() + 1 == static_cast<int64_t>(axes.size());
  if (contiguousBlock && ctx.heuristic(inner >= 32 && outputs >= 4096 && count <= 16384)) {
    KernelLayer k;
    k.function = ctx.kernelName(op, "columns");
    std::ostringstream src;
    beginKernel(src, k, {in}, {out});
    src << "  typedef " << T << " T;\n  const long long n = " << count << "LL;\n";
    src << "  INFC_GRID_STRIDE(i, " << outputs << "LL) {\n";
    src << "    const long long base = (i / " << inner << "LL) * " << count * inner << "LL + i % " << inner << "LL;\n";
    src << "    T acc = " << rk.init << ";\n    for (long long r = 0; r < n; ++r) {\n      T v = (T)"
        << loadAs(dt, "in0[base + r * " + std::to_string(inner) + "LL]") << ";\n      acc = " << rk.accumulate << ";\n    }\n";
    src << "    out0[i] = " << storeAs(out->type().elem(), rk.finish) << ";\n  }\n}\n";
    k.source = src.str();
    launch1D(k, outputs);
    ctx.addKernel(op, std::move(k), {in}, {out});
    return Status::ok();
  }
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  src << kWarpHelpers;
  beginKernel(src, k, {in}, {out});
  src << "  typedef " << T << " T;\n  const int lane = threadIdx.x & 31;\n  const long long n = " << count << "LL;\n";
  src << "  INFC_WARP_LOOP(w, " << outputs << "LL) {\n";
  emitUnravel(src, "w", kept, "k");
  src << "    long long base = 0";
  for (size_t j = 0; j < kept.size(); ++j)
    src << " + k" << j << " * " << st[static_cast<size_t>(keptIdx[j])] << "LL";
  src << ";\n    T acc = " << rk.init << ";\n";
  src << "    for (long long r = lane; r < n; r += 32) {\n";
  emitUnravel(src, "r", red, "q", "      ");
  src << "      long long off = base";
  for (size_t j = 0; j < red.size(); ++j)
    src << " + q" << j << " * " << st[static_cast<size_t>(redIdx[j])] << "LL";
  src << ";\n      T v = (T)" << loadAs(dt, "in0[off]") << ";\n      acc = " << rk.accumulate << ";\n    }\n";
  src << shuffleReduce("acc", rk.combine);
  src << "    if (lane == 0) out0[w] = " << storeAs(out->type().elem(), rk.finish) << ";\n  }\n}\n";
  k.source = src.str();
  launchWarps(k, outputs);
  ctx.addKernel(op, std::move(k), {in}, {out});
  return Status::ok();
}

/// Softmax / LogSoftmax along `axis` (opset-13 semantics): one warp per (outer, inner) row.
Status lowerSoftmax(const Operation &op, LoweringContext &ctx) {
  const Value *in = op.operand(0), *out = op.result();
  DType dt = in->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": Softmax on non-float types has no GPU kernel");
  std::vector<int64_t> shape = shapeOf(in);
  int64_t rank = static_cast<int64_t>(shape.size());
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", -1));
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1, L = shape[static_cast<size_t>(axis)];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= shape[static_cast<size_t>(d)];
  bool isLog = op.is(OpKind::OnnxLogSoftmax);
  std::string T = dt == DType::F64 ? "double" : "float";
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  src << kWarpHelpers;
  beginKernel(src, k, {in}, {out});
  src << "  typedef " << T << " T;\n  const int lane = threadIdx.x & 31;\n";
  src << "  INFC_WARP_LOOP(w, " << outer * inner << "LL) {\n";
  src << "    const long long base = (w / " << inner << "LL) * " << L * inner << "LL + (w % " << inner << "LL);\n";
  src << "    T m = -INFINITY;\n    for (long long j = lane; j < " << L << "LL; j += 32) { T v = (T)"
      << loadAs(dt, "in0[base + j * " + std::to_string(inner) + "LL]") << "; m = v > m ? v : m; }\n";
  src << shuffleReduce("m", "b > a ? b : a");
  src << "    T s = 0;\n    for (long long j = lane; j < " << L << "LL; j += 32) s += infc_exp((T)"
      << loadAs(dt, "in0[base + j * " + std::to_string(inner) + "LL]") << " - m);\n";
  src << shuffleReduce("s", "a + b");
  src << "    for (long long j = lane; j < " << L << "LL; j += 32) {\n      T v = (T)"
      << loadAs(dt, "in0[base + j * " + std::to_string(inner) + "LL]") << ";\n";
  src << "      out0[base + j * " << inner << "LL] = " << storeAs(out->type().elem(), isLog ? "v - m - infc_log(s)" : "infc_exp(v - m) / s")
      << ";\n    }\n  }\n}\n";
  k.source = src.str();
  launchWarps(k, outer * inner);
  ctx.addKernel(op, std::move(k), {in}, {out});
  return Status::ok();
}

/// Element `xElem` of a norm's row as the T it normalizes: x, or int8 x times x_scale plus the
/// residual element `zElem` (when the op has one), each rounded to y's type `dt` as the
/// DequantizeLinear and Add the op replaces store them.
std::string normInput(const NormAttrs &a, DType dt, const Value *x, const std::string &xElem, const Value *z,
                      const std::string &zElem) {
  std::string e = loadAsFloat(x->type().elem(), xElem, "T");
  if (!a.xScale)
    return e;
  e = "(T)" + loadAs(dt, storeAs(dt, e + " * " + floatLiteral(*a.xScale, false)));
  return z ? "(T)" + loadAs(dt, storeAs(dt, e + " + (T)" + loadAs(z->type().elem(), zElem))) : e;
}

/// `out = ` y's stored value `yStored` (of type `dt`) quantized by q_scale: divided in float,
/// then storeQuantized (QuantizeLinear's kernel).
std::string normQuantized(const NormAttrs &a, DType dt, DType qt, const std::string &out, const std::string &yStored,
                          const std::string &indent) {
  return indent + "const float qv = (float)" + loadAs(dt, yStored) + " / " + floatLiteral(*a.qScale, false) + ";\n" + indent +
         out + " = " + storeQuantized(qt, "qv") + ";\n";
}

/// The fast path of a layer or RMS norm (emitted before the general loop, which it returns ahead
/// of): a warp per row, the row in registers as chunks of 8 elements (lane + 32 i), loaded and
/// stored with 8- to 32-byte vector moves, one read of x (and the residual) instead of three,
/// two-pass statistics over the registers. Taken when the row length is a multiple of 8 and at
/// most 256 chunks' worth (`chunks` per lane, a speed heuristic replayed in dim-fit engines) and
/// every pointer is 16-byte aligned, all checked when the kernel runs; the same values as the
/// general loop (summation order aside).
void emitNormRows(std::ostringstream &src, const Operation &op, const NormAttrs &a, const NormGeometry &g, LoweringContext &ctx,
                  const std::vector<const Value *> &ins, const std::vector<const Value *> &outs) {
  // Dim-fit engines record the chunks at opt and replay them (the fast path checks the length it
  // runs with), so the kernel is one at every shape; static ones leave the path out where it
  // cannot run.
  int64_t chunks = ctx.heuristicValue(std::clamp<int64_t>((g.length + 255) / 256, 1, 8));
  if (g.perChannel || (!ctx.options().shapeGeneric && (g.length % 8 != 0 || g.length > 256 * chunks)))
    return;
  const Value *x = ins[0], *y = outs[0];
  DType dt = y->type().elem(), xt = x->type().elem(), pt = ins[1]->type().elem();
  for (const Value *v : ins)
    if (dtypeSize(v->type().elem()) > 4 || v->type().elem() == DType::Bool)
      return;
  bool hasBias = op.hasOperand(2);
  const Value *z = op.is(OpKind::InfcNorm) && op.hasOperand(3) ? op.operand(3) : nullptr;
  int64_t L = g.length;
  src << "  if (" << L << "LL % 8 == 0 && " << L << "LL <= " << 256 * chunks << "LL && ((0ULL";
  for (size_t i = 0; i < ins.size(); ++i)
    src << " | (unsigned long long)in" << i;
  for (size_t i = 0; i < outs.size(); ++i)
    src << " | (unsigned long long)out" << i;
  src << ") % 16) == 0) {\n";
  src << "    INFC_WARP_LOOP(w, " << g.rows << "LL) {\n      const long long base = w * " << L << "LL;\n";
  src << "      T v[" << chunks << "][8];\n      T s = 0;\n";
  src << "      #pragma unroll\n      for (int i = 0; i < " << chunks << "; ++i) {\n";
  src << "        const long long c = (lane + 32 * i) * 8LL;\n        if (c < " << L << "LL) {\n";
  src << "          __align__(16) " << cudaStorageType(xt) << " xb[8];\n          " << vectorMove8(dtypeSize(xt), "xb", "in0 + base + c") << "\n";
  if (z)
    src << "          __align__(16) " << cudaStorageType(z->type().elem()) << " zb[8];\n          "
        << vectorMove8(dtypeSize(z->type().elem()), "zb", "in" + std::to_string(hasBias ? 3 : 2) + " + base + c") << "\n";
  src << "          #pragma unroll\n          for (int e = 0; e < 8; ++e) {\n";
  src << "            v[i][e] = " << normInput(a, dt, x, "xb[e]", z, "zb[e]") << ";\n            s += v[i][e];\n          }\n";
  src << "        } else {\n          #pragma unroll\n          for (int e = 0; e < 8; ++e) v[i][e] = 0;\n        }\n      }\n";
  if (a.kind == NormAttrs::Kind::Rms) {
    src << "      const T mean = 0;\n";
  } else {
    src << shuffleReduce("s", "a + b");
    src << "      const T mean = s / (T)" << L << ";\n";
  }
  src << "      T q = 0;\n      #pragma unroll\n      for (int i = 0; i < " << chunks << "; ++i)\n";
  src << "        if ((lane + 32 * i) * 8LL < " << L << "LL) {\n          #pragma unroll\n"
      << "          for (int e = 0; e < 8; ++e) { const T d = v[i][e] - mean; q += d * d; }\n        }\n";
  src << shuffleReduce("q", "a + b");
  src << "      const T inv = (T)1 / infc_sqrt(q / (T)" << L << " + (T)" << floatLiteral(a.epsilon, false) << ");\n";
  src << "      #pragma unroll\n      for (int i = 0; i < " << chunks << "; ++i) {\n";
  src << "        const long long c = (lane + 32 * i) * 8LL;\n        if (c >= " << L << "LL) continue;\n";
  src << "        __align__(16) " << cudaStorageType(pt) << " gb[8];\n        " << vectorMove8(dtypeSize(pt), "gb", "in1 + c") << "\n";
  if (hasBias)
    src << "        __align__(16) " << cudaStorageType(ins[2]->type().elem()) << " bb[8];\n        "
        << vectorMove8(dtypeSize(ins[2]->type().elem()), "bb", "in2 + c") << "\n";
  src << "        __align__(16) " << cudaStorageType(dt) << " yb[8];\n";
  if (a.qScale)
    src << "        __align__(16) " << cudaStorageType(outs[1]->type().elem()) << " qb[8];\n";
  src << "        #pragma unroll\n        for (int e = 0; e < 8; ++e) {\n";
  src << "          const T r = (v[i][e] - mean) * inv * (T)" << loadAs(pt, "gb[e]");
  if (hasBias)
    src << " + (T)" << loadAs(ins[2]->type().elem(), "bb[e]");
  src << ";\n          yb[e] = " << storeAs(dt, "r") << ";\n";
  if (a.qScale)
    src << normQuantized(a, dt, outs[1]->type().elem(), "qb[e]", "yb[e]", "          ");
  src << "        }\n        " << vectorMove8(dtypeSize(dt), "out0 + base + c", "yb") << "\n";
  if (a.qScale)
    src << "        " << vectorMove8(dtypeSize(outs[1]->type().elem()), "out1 + base + c", "qb") << "\n";
  src << "      }\n    }\n    return;\n  }\n";
}

/// Normalization (infc.norm, and onnx.LayerNormalization / InstanceNormalization /
/// GroupNormalization at --opt-level 0): one warp per group of `length` contiguous elements,
/// two passes for the mean and the variance (one for RMS), statistics in f32 (f64 for f64 x).
Status lowerNormGeometry(const Operation &op, LoweringContext &ctx, const NormAttrs &a) {
  const Value *x = op.operand(0), *scale = op.operand(1), *bias = op.hasOperand(2) ? op.operand(2) : nullptr;
  const Value *z = op.is(OpKind::InfcNorm) && op.hasOperand(3) ? op.operand(3) : nullptr;
  const Value *y = op.result(0);
  const Value *q = a.qScale ? op.result(1) : nullptr;
  if (!op.is(OpKind::InfcNorm))
    for (size_t r = 1; r < op.numResults(); ++r)
      if (op.result(r)->hasUses())
        return unsupported(op.describe() + ": LayerNormalization's Mean/InvStdDev outputs have no GPU kernel yet");
  DType dt = y->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": normalization of " + std::string(dtypeName(dt)) + " has no GPU kernel");
  Expected<NormGeometry> g = normGeometry(a, shapeOf(x));
  if (!g.isOk())
    return unsupported(op.describe() + ": " + g.status().message());
  if (!g->fits(scale->type()) || (bias && !g->fits(bias->type())))
    return unsupported(op.describe() + ": normalization with broadcast scale/bias (or one per group) has no GPU kernel yet");
  int64_t L = g->length;
  std::string T = dt == DType::F64 ? "double" : "float";
  std::vector<const Value *> ins = {x, scale};
  if (bias)
    ins.push_back(bias);
  if (z)
    ins.push_back(z);
  std::vector<const Value *> outs = {y};
  if (q)
    outs.push_back(q);
  // Element j of the row (normInput).
  auto load = [&](const std::string &j) {
    return normInput(a, dt, x, "in0[base + " + j + "]", z, "in" + std::to_string(bias ? 3 : 2) + "[base + " + j + "]");
  };
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  src << kWarpHelpers;
  beginKernel(src, k, ins, outs);
  src << "  typedef " << T << " T;\n  const int lane = threadIdx.x & 31;\n";
  emitNormRows(src, op, a, *g, ctx, ins, outs);
  src << "  INFC_WARP_LOOP(w, " << g->rows << "LL) {\n    const long long base = w * " << L << "LL;\n";
  emitMeanInvStd(src, load, L, a.epsilon, a.kind == NormAttrs::Kind::Rms);
  // The parameter index of element j: j, or its channel.
  std::string p = g->perChannel ? "((w % " + std::to_string(g->groups) + "LL) * " + std::to_string(L / g->inner) +
                                      "LL + j / " + std::to_string(g->inner) + "LL)"
                                : std::string("j");
  src << "    for (long long j = lane; j < " << L << "LL; j += 32) {\n      T v = (" << load("j")
      << " - mean) * inv * (T)" << loadAs(scale->type().elem(), "in1[" + p + "]");
  if (bias)
    src << " + (T)" << loadAs(bias->type().elem(), "in2[" + p + "]");
  src << ";\n      out0[base + j] = " << storeAs(dt, "v") << ";\n";
  if (q)
    src << normQuantized(a, dt, q->type().elem(), "out1[base + j]", storeAs(dt, "v"), "      ");
  src << "    }\n  }\n}\n";
  k.source = src.str();
  launchWarps(k, g->rows);
  ctx.addKernel(op, std::move(k), ins, outs);
  return Status::ok();
}

Status lowerInfcNorm(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::read(op));
  return lowerNormGeometry(op, ctx, a);
}

Status lowerOnnxNorm(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(NormAttrs a, NormAttrs::fromOnnx(op));
  return lowerNormGeometry(op, ctx, a);
}

} // namespace

void registerReduceLowerings(LoweringTable &t) {
  for (OpKind k : {OpKind::OnnxInstanceNormalization, OpKind::OnnxLayerNormalization, OpKind::OnnxGroupNormalization})
    t[static_cast<size_t>(k)] = &lowerOnnxNorm;
  t[static_cast<size_t>(OpKind::InfcNorm)] = &lowerInfcNorm;
  for (OpKind k : {OpKind::OnnxReduceSum, OpKind::OnnxReduceMean, OpKind::OnnxReduceMax, OpKind::OnnxReduceMin,
                   OpKind::OnnxReduceProd, OpKind::OnnxReduceL1, OpKind::OnnxReduceL2, OpKind::OnnxReduceSumSquare,
                   OpKind::OnnxReduceLogSum, OpKind::OnnxGlobalAveragePool, OpKind::OnnxGlobalMaxPool})
    t[static_cast<size_t>(k)] = &lowerReduce;
  t[static_cast<size_t>(OpKind::OnnxSoftmax)] = &lowerSoftmax;
  t[static_cast<size_t>(OpKind::OnnxLogSoftmax)] = &lowerSoftmax;
}

} // namespace infc::codegen
