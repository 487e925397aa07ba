// Smaller GPU kernel families: ArgMax/ArgMin, Hardmax, CumSum, ReduceLogSumExp (one thread per
// row/output, sequential over the reduced axis), Trilu, GatherElements, OneHot, DepthToSpace,
// SpaceToDepth (index maps), InstanceNormalization (one warp per channel), inference Dropout
// (copy + all-true mask).
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include <algorithm>

namespace infc::codegen {

namespace {

std::vector<int64_t> shapeOf(const Value *v) { return v->type().staticShape(); }

struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
};
AxisSplit splitAt(const std::vector<int64_t> &shape, int64_t axis) {
  AxisSplit s;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    (d < axis ? s.outer : d == axis ? s.len : s.inner) *= shape[static_cast<size_t>(d)];
  return s;
}

Expected<int64_t> axisAttr(const Operation &op, const char *name, int64_t dflt, int64_t rank) {
  INFC_ASSIGN_OR_RETURN(int64_t a, op.attrs().getInt(name, dflt));
  return a < 0 ? a + rank : a;
}

/// Thread per (outer, inner) row of `axis`: `body` sees `base`, `stride` (= inner), `L`.
void rowKernel(const Operation &op, LoweringContext &ctx, const std::vector<const Value *> &ins,
               const std::vector<const Value *> &outs, const AxisSplit &s, const std::string &T, const std::string &body) {
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, ins, outs);
  src << "  typedef " << T << " T;\n  INFC_GRID_STRIDE(r, " << s.outer * s.inner << "LL) {\n";
  src << "    const long long base = (r / " << s.inner << "LL) * " << s.len * s.inner << "LL + (r % " << s.inner << "LL);\n";
  src << "    const long long stride = " << s.inner << "LL, L = " << s.len << "LL;\n" << body << "  }\n}\n";
  k.source = src.str();
  launch1D(k, s.outer * s.inner);
  ctx.addKernel(op, std::move(k), ins, outs);
}

Status lowerArg(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  std::vector<int64_t> xs = shapeOf(x);
  INFC_ASSIGN_OR_RETURN(int64_t axis, axisAttr(op, "axis", 0, static_cast<int64_t>(xs.size())));
  INFC_ASSIGN_OR_RETURN(int64_t last, op.attrs().getInt("select_last_index", 0));
  bool isMax = op.is(OpKind::OnnxArgMax);
  std::string cmp = std::string(isMax ? ">" : "<") + (last ? "=" : "");
  AxisSplit s = splitAt(xs, axis);
  std::string T = computeType(x->type().elem()) == "bool" ? "long long" : computeType(x->type().elem());
  std::ostringstream body;
  body << "    T best = (T)" << loadAs(x->type().elem(), "in0[base]") << "; long long arg = 0;\n";
  body << "    for (long long j = 1; j < L; ++j) { T v = (T)" << loadAs(x->type().elem(), "in0[base + j * stride]")
       << "; if (v " << cmp << " best) { best = v; arg = j; } }\n";
  body << "    out0[r] = arg;\n";
  rowKernel(op, ctx, {x}, {y}, s, T, body.str());
  return Status::ok();
}

Status lowerHardmax(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  std::vector<int64_t> xs = shapeOf(x);
  INFC_ASSIGN_OR_RETURN(int64_t axis, axisAttr(op, "axis", -1, static_cast<int64_t>(xs.size())));
  AxisSplit s = splitAt(xs, axis);
  DType dt = x->type().elem();
  std::ostringstream body;
  body << "    T best = (T)" << loadAs(dt, "in0[base]") << "; long long arg = 0;\n";
  body << "    for (long long j = 1; j < L; ++j) { T v = (T)" << loadAs(dt, "in0[base + j * stride]")
       << "; if (v > best) { best = v; arg = j; } }\n";
  body << "    for (long long j = 0; j < L; ++j) out0[base + j * stride] = " << storeAs(dt, "(j == arg ? 1 : 0)") << ";\n";
  rowKernel(op, ctx, {x}, {y}, s, computeType(dt), body.str());
  return Status::ok();
}

Status lowerCumSum(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  const Tensor *axisT = getConstantValue(op.operand(1));
  if (!axisT)
    return unsupported(op.describe() + ": CumSum with a run-time axis has no GPU kernel");
  std::vector<int64_t> xs = shapeOf(x);
  int64_t axis = axisT->getInt(0);
  if (axis < 0)
    axis += static_cast<int64_t>(xs.size());
  INFC_ASSIGN_OR_RETURN(int64_t exclusive, op.attrs().getInt("exclusive", 0));
  INFC_ASSIGN_OR_RETURN(int64_t reverse, op.attrs().getInt("reverse", 0));
  DType dt = x->type().elem();
  std::string T = isFloat(dt) ? (dt == DType::F64 ? "double" : "float") : "long long";
  std::ostringstream body;
  body << "    T acc = 0;\n    for (long long s = 0; s < L; ++s) {\n      const long long j = " << (reverse ? "L - 1 - s" : "s")
       << ";\n      const long long off = base + j * stride;\n";
  if (exclusive)
    body << "      out0[off] = " << storeAs(dt, "acc") << ";\n      acc += (T)" << loadAs(dt, "in0[off]") << ";\n";
  else
    body << "      acc += (T)" << loadAs(dt, "in0[off]") << ";\n      out0[off] = " << storeAs(dt, "acc") << ";\n";
  body << "    }\n";
  rowKernel(op, ctx, {x}, {y}, splitAt(xs, axis), T, body.str());
  return Status::ok();
}

/// ReduceLogSumExp: max pass, then sum of exp, one thread per output.
Status lowerLogSumExp(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  DType dt = x->type().elem();
  if (!isFloat(dt))
    return unsupported(op.describe() + ": ReduceLogSumExp on integers has no GPU kernel");
  std::vector<int64_t> xs = shapeOf(x);
  int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<int64_t> axes;
  if (op.hasOperand(1)) {
    const Tensor *a = getConstantValue(op.operand(1));
    if (!a)
      return unsupported(op.describe() + ": run-time reduction axes have no GPU kernel");
    for (int64_t i = 0; i < a->numElements(); ++i)
      axes.push_back(a->getInt(i) < 0 ? a->getInt(i) + rank : a->getInt(i));
  }
  INFC_ASSIGN_OR_RETURN(int64_t noop, op.attrs().getInt("noop_with_empty_axes", 0));
  if (axes.empty() && !noop)
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  std::vector<int64_t> kept, keptIdx, red, redIdx, st = rowMajorStrides(xs);
  for (int64_t d = 0; d < rank; ++d) {
    bool r = std::find(axes.begin(), axes.end(), d) != axes.end();
    (r ? red : kept).push_back(xs[static_cast<size_t>(d)]);
    (r ? redIdx : keptIdx).push_back(d);
  }
  int64_t outputs = 1, count = 1;
  for (int64_t d : kept)
    outputs *= d;
  for (int64_t d : red)
    count *= d;
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {x}, {y});
  src << "  typedef " << (dt == DType::F64 ? "double" : "float") << " T;\n  INFC_GRID_STRIDE(w, " << outputs << "LL) {\n";
  emitUnravel(src, "w", kept, "k");
  src << "    long long base = 0";
  for (size_t j = 0; j < kept.size(); ++j)
    src << " + k" << j << " * " << st[static_cast<size_t>(keptIdx[j])] << "LL";
  src << ";\n    T m = -INFINITY, s = 0;\n";
  for (int pass = 0; pass < 2; ++pass) {
    src << "    for (long long r = 0; r < " << count << "LL; ++r) {\n";
    emitUnravel(src, "r", red, "q" + std::to_string(pass), "      ");
    src << "      long long off = base";
    for (size_t j = 0; j < red.size(); ++j)
      src << " + q" << pass << j << " * " << st[static_cast<size_t>(redIdx[j])] << "LL";
    src << ";\n      const T v = (T)" << loadAs(dt, "in0[off]") << ";\n";
    src << (pass == 0 ? "      m = v > m ? v : m;\n" : "      s += infc_exp(v - m);\n") << "    }\n";
    if (pass == 0)
      src << "    if (m == -INFINITY) m = 0;\n";
  }
  src << "    out0[w] = " << storeAs(dt, "infc_log(s) + m") << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, outputs);
  ctx.addKernel(op, std::move(k), {x}, {y});
  return Status::ok();
}

/// Trilu: zero the elements outside the kept triangle of the last two dims.
Status lowerTrilu(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  INFC_ASSIGN_OR_RETURN(int64_t upper, op.attrs().getInt("upper", 1));
  // k: baked in when constant, read from device memory when it is a run-time scalar.
  std::string kk = "0LL";
  std::vector<const Value *> ins = {x};
  if (op.hasOperand(1)) {
    if (const Tensor *kt = getConstantValue(op.operand(1))) {
      kk = std::to_string(kt->getInt(0)) + "LL";
    } else {
      ins.push_back(op.operand(1));
      kk = "(long long)in1[0]";
    }
  }
  std::vector<int64_t> xs = shapeOf(x);
  int64_t rows = xs[xs.size() - 2], cols = xs.back(), n = *x->type().numElements();
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, ins, {y});
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    const long long c = i % " << cols << "LL, rr = (i / " << cols << "LL) % "
      << rows << "LL;\n    const bool keep = " << (upper ? "c - rr >= " : "c - rr <= ") << kk << ";\n";
  src << "    out0[i] = keep ? in0[i] : (" << cudaStorageType(x->type().elem()) << ")0;\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), ins, {y});
  return Status::ok();
}

Status lowerGatherElements(const Operation &op, LoweringContext &ctx) {
  const Value *d = op.operand(0), *idx = op.operand(1), *y = op.result();
  std::vector<int64_t> ds = shapeOf(d), is = shapeOf(idx);
  INFC_ASSIGN_OR_RETURN(int64_t axis, axisAttr(op, "axis", 0, static_cast<int64_t>(ds.size())));
  std::vector<int64_t> st = rowMajorStrides(ds);
  int64_t n = *y->type().numElements();
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {d, idx}, {y});
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  emitUnravel(src, "i", is, "o");
  src << "    long long ix = (long long)in1[i]; if (ix < 0) ix += " << ds[static_cast<size_t>(axis)] << "LL;\n";
  src << "    if (ix < 0 || ix >= " << ds[static_cast<size_t>(axis)] << "LL) { out0[i] = 0; continue; }\n";
  src << "    out0[i] = in0[0";
  for (size_t a = 0; a < ds.size(); ++a)
    src << " + " << (static_cast<int64_t>(a) == axis ? "ix" : "o" + std::to_string(a)) << " * " << st[a] << "LL";
  src << "];\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {d, idx}, {y});
  return Status::ok();
}

Status lowerDepthSpace(const Operation &op, LoweringContext &ctx) {
  const Value *x = op.operand(0), *y = op.result();
  std::vector<int64_t> xs = shapeOf(x), ys = shapeOf(y);
  INFC_ASSIGN_OR_RETURN(int64_t bs, op.attrs().getInt("blocksize"));
  INFC_ASSIGN_OR_RETURN(std::string mode, op.attrs().getString("mode", "DCR"));
  bool toSpace = op.is(OpKind::OnnxDepthToSpace);
  int64_t C = xs[1], H = xs[2], W = xs[3], n = *y->type().numElements();
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {x}, {y});
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  emitUnravel(src, "i", ys, "o");
  src << "    const long long bs = " << bs << "LL, C = " << C << "LL, H = " << H << "LL, W = " << W << "LL;\n";
  if (toSpace) {
    src << "    const long long bh = o2 % bs, bw = o3 % bs;\n";
    src << "    const long long ic = " << (mode == "DCR" ? "(bh * bs + bw) * " + std::to_string(ys[1]) + "LL + o1" : "o1 * bs * bs + bh * bs + bw")
        << ";\n    out0[i] = in0[((o0 * C + ic) * H + o2 / bs) * W + o3 / bs];\n";
  } else {
    src << "    const long long blk = o1 / C, ic = o1 % C, bh = blk / bs, bw = blk % bs;\n";
    src << "    out0[i] = in0[((o0 * C + ic) * H + o2 * bs + bh) * W + o3 * bs + bw];\n";
  }
  src << "  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {x}, {y});
  return Status::ok();
}

/// Inference Dropout that canonicalize could not remove (its mask is used): copy + all-true mask.
Status lowerDropout(const Operation &op, LoweringContext &ctx) {
  if (op.hasOperand(2)) {
    const Tensor *training = getConstantValue(op.operand(2));
    if (!training || training->numElements() != 1 || training->getInt(0) != 0)
      return unsupported(op.describe() + ": Dropout whose training_mode is not a constant false (training op) is not supported");
  }
  const Value *x = op.operand(0);
  std::vector<const Value *> outs = {op.result(0)};
  if (op.numResults() > 1)
    outs.push_back(op.result(1));
  int64_t n = *x->type().numElements();
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {x}, outs);
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n    out0[i] = in0[i];\n";
  if (outs.size() > 1)
    src << "    out1[i] = 1;\n";
  src << "  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {x}, outs);
  return Status::ok();
}

} // namespace

void registerMiscLowerings(LoweringTable &t) {
  t[static_cast<size_t>(OpKind::OnnxArgMax)] = &lowerArg;
  t[static_cast<size_t>(OpKind::OnnxArgMin)] = &lowerArg;
  t[static_cast<size_t>(OpKind::OnnxHardmax)] = &lowerHardmax;
  t[static_cast<size_t>(OpKind::OnnxCumSum)] = &lowerCumSum;
  t[static_cast<size_t>(OpKind::OnnxReduceLogSumExp)] = &lowerLogSumExp;
  t[static_cast<size_t>(OpKind::OnnxTrilu)] = &lowerTrilu;
  t[static_cast<size_t>(OpKind::OnnxGatherElements)] = &lowerGatherElements;
  t[static_cast<size_t>(OpKind::OnnxDepthToSpace)] = &lowerDepthSpace;
  t[static_cast<size_t>(OpKind::OnnxSpaceToDepth)] = &lowerDepthSpace;
  t[static_cast<size_t>(OpKind::OnnxDropout)] = &lowerDropout;
}

} // namespace infc::codegen
