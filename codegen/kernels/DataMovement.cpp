// Data movement: every output element reads one input element at an offset computed from its
// index (copies, transposes, slices, broadcasts, tiles, pads, gathers, concat/split pieces).
// Shapes are static, so index math is specialized into each kernel.
#include "codegen/kernels/Families.h"
#include "codegen/kernels/KernelWriter.h"

#include <functional>

namespace infc::codegen {

namespace {

using OffsetFn = std::function<std::string(const std::vector<std::string> &)>;

std::vector<int64_t> shapeOf(const Value *v) { return v->type().staticShape(); }

std::optional<std::vector<int64_t>> constInts(const Operation &op, size_t i) {
  if (!op.hasOperand(i))
    return std::nullopt;
  const Tensor *t = getConstantValue(op.operand(i));
  if (!t)
    return std::nullopt;
  std::vector<int64_t> v;
  for (int64_t k = 0; k < t->numElements(); ++k)
    v.push_back(t->getInt(k));
  return v;
}

Status needConstant(const Operation &op, const char *what) {
  return unsupported(op.describe() + ": " + std::string(op.name()) + " with a run-time " + what +
                     " has no GPU kernel yet (it must be a constant)");
}

/// One kernel: for every element of `out` (shape `outShape`), read `in[offset(index)]`, or
/// `fill` when `valid(index)` is false (pads).
void emitIndexMap(const Operation &op, LoweringContext &ctx, const std::vector<const Value *> &ins, const Value *out,
                  const std::vector<int64_t> &outShape, const OffsetFn &offset, const std::string &suffix = "",
                  const OffsetFn &valid = nullptr, const std::string &fill = "0",
                  const std::string &outOffsetExpr = "") {
  KernelLayer k;
  k.function = ctx.kernelName(op, suffix);
  std::ostringstream src;
  beginKernel(src, k, ins, {out});
  int64_t n = 1;
  for (int64_t d : outShape)
    n *= d;
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  std::vector<std::string> idx;
  for (size_t d = 0; d < outShape.size(); ++d)
    idx.push_back("o" + std::to_string(d));
  emitUnravel(src, "i", outShape, "o");
  std::string dst = outOffsetExpr.empty() ? "i" : outOffsetExpr;
  if (valid) {
    src << "    if (!(" << valid(idx) << ")) { out0[" << dst << "] = (" << cudaStorageType(out->type().elem()) << ")(" << fill
        << "); continue; }\n";
  }
  std::string read = "in0[" + offset(idx) + "]";
  DType inT = ins[0]->type().elem(), outT = out->type().elem();
  if (inT != outT) // a converting layout_cast
    read = storeAs(outT, loadAs(inT, read));
  src << "    out0[" << dst << "] = " << read << ";\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), ins, {out});
}

/// Same bytes, new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout): an alias of
/// the input's bytes, or a flat copy where the user may bind either side (graph inputs/outputs).
Status lowerCopy(const Operation &op, LoweringContext &ctx) {
  const Value *out = op.result(0), *in = op.operand(0);
  const Value *root = ctx.aliasRoot(in);
  if (!out->isGraphOutput() && !root->isGraphOutput() && root->definingOp() && !getConstantValue(root)) {
    ctx.addAlias(out, in);
    return Status::ok();
  }
  int64_t n = *out->type().numElements();
  emitIndexMap(op, ctx, {op.operand(0)}, out, {n}, [](const std::vector<std::string> &i) { return i[0]; });
  return Status::ok();
}

Status lowerPermute(const Operation &op, LoweringContext &ctx, const std::vector<int64_t> &perm, int64_t padLast = 0);

Status lowerTranspose(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> perm, op.attrs().getInts("perm", std::vector<int64_t>{}));
  if (perm.empty())
    for (size_t i = static_cast<size_t>(op.operand(0)->type().rank()); i-- > 0;)
      perm.push_back(static_cast<int64_t>(i));
  return lowerPermute(op, ctx, perm);
}

/// out[n][b][a] = in[n][a][b] for in [N, A, B], through shared-memory tiles so that both the
/// reads and the writes are coalesced, converting the element type on the way (a layout_cast
/// with dtype). A tile is TA x TB elements, about 1024: 32 x 32, or all of a short side (the 3
/// channels of an image) by up to 1024/3 of the long one. `padA` zeros follow each output row
/// (out is [N, B, A + padA]; only with A < 32, one tile spanning A). False when the grid would
/// not fit.
bool lowerBatchedTranspose(const Operation &op, LoweringContext &ctx, int64_t N, int64_t A, int64_t B, int64_t padA) {
  auto side = [](int64_t own, int64_t other) {
    if (own < 32)
      return own;
    if (other >= 32)
      return int64_t(32);
    return std::min<int64_t>((1024 / other) / 32 * 32, (own + 31) / 32 * 32);
  };
  if (N <= 0 || A <= 0 || B <= 0)
    return false;
  // Tile edges are a speed choice (the kernel checks its bounds), except a padded A's, which
  // must span A.
  int64_t TA = padA ? side(A, B) : ctx.heuristicValue(side(A, B)), TB = ctx.heuristicValue(side(B, A));
  if (padA && TA != A)
    return false;
  if (TA < 1 || TB < 1)
    return false;
  int64_t gx = (B + TB - 1) / TB, gy = (A + TA - 1) / TA;
  if (N > 65535 || gy > 65535 || gx > (int64_t(1) << 31) - 1)
    return false;
  const Value *x = op.operand(0), *y = op.result();
  DType inT = x->type().elem(), outT = y->type().elem();
  std::string T = inT == DType::F64 || outT == DType::F64 ? "double" : "float";
  KernelLayer k;
  k.function = ctx.kernelName(op, "tiles");
  std::ostringstream src;
  src << "extern \"C\" __global__ void " << k.function << "(const " << cudaStorageType(inT) << "* __restrict__ in0, "
      << cudaStorageType(outT) << "* __restrict__ out0) {\n";
  src << "  constexpr long long A = " << A << "LL, B = " << B << "LL, OA = " << A + padA << "LL;\n  constexpr int TA = " << TA
      << ", TB = " << TB << ", OTA = " << TA + padA << ";\n";
  src << "  __shared__ " << T << " tile[TA][TB + 1];\n";
  src << "  const long long a0 = (long long)blockIdx.y * TA, b0 = (long long)blockIdx.x * TB, base = (long long)blockIdx.z * A * B;\n";
  src << "  for (int t = threadIdx.x; t < TA * TB; t += blockDim.x) {\n    const int a = t / TB, b = t % TB;\n";
  src << "    if (a0 + a < A && b0 + b < B) tile[a][b] = " << loadAs(inT, "in0[base + (a0 + a) * B + b0 + b]") << ";\n  }\n";
  src << "  __syncthreads();\n";
  src << "  for (int t = threadIdx.x; t < OTA * TB; t += blockDim.x) {\n    const int b = t / OTA, a = t % OTA;\n";
  src << "    if (a0 + a < OA && b0 + b < B) out0[(long long)blockIdx.z * OA * B + (b0 + b) * OA + a0 + a] = "
      << storeAs(outT, "(a < TA ? tile[a][b] : (" + T + ")0)") << ";\n  }\n}\n";
  k.source = src.str();
  k.args = {KernelArg::tensor(x), KernelArg::tensor(y)};
  k.grid = {static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), static_cast<uint32_t>(N)};
  k.gridFrom(0, B, TB);
  k.gridFrom(1, A, TA);
  k.block = {256, 1, 1};
  ctx.addKernel(op, std::move(k), {x}, {y});
  return true;
}

/// infc.layout_cast is a transpose by the layouts' permutation (and a dtype conversion with
/// `dtype`). Rank-4 NCHW <-> NHWC is a batched 2-D transpose ([N, C, HW] <-> [N, HW, C]).
Status lowerLayoutCast(const Operation &op, LoweringContext &ctx) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(op));
  std::vector<int64_t> in = shapeOf(op.operand(0));
  if (in.size() == 4) {
    bool toNhwc = a.from == Layout::NCHW;
    int64_t A = toNhwc ? in[1] : in[1] * in[2], B = toNhwc ? in[2] * in[3] : in[3];
    if (lowerBatchedTranspose(op, ctx, in[0], A, B, a.padChannels))
      return Status::ok();
  }
  return lowerPermute(op, ctx, a.perm(op.operand(0)->type().rank()), a.padChannels);
}

/// y = x transposed by perm (out dim d is in dim perm[d]); with `padLast`, y's last dim has that
/// many more elements than the input dim it comes from, and they are zeros.
Status lowerPermute(const Operation &op, LoweringContext &ctx, const std::vector<int64_t> &perm, int64_t padLast) {
  std::vector<int64_t> in = shapeOf(op.operand(0)), out = shapeOf(op.result());
  std::vector<int64_t> st = rowMajorStrides(in);
  size_t esize = dtypeSize(op.result()->type().elem());
  int64_t rowBytes = out.empty() ? 0 : out.back() * static_cast<int64_t>(esize);
  bool sameType = op.operand(0)->type().elem() == op.result()->type().elem();
  if (sameType && !padLast && out.size() >= 2 && perm.back() == static_cast<int64_t>(out.size()) - 1 && rowBytes % 16 == 0) {
    // The innermost axis stays innermost (e.g. [B,S,H,D] -> [B,H,S,D] in attention): move whole
    // rows 16 bytes per thread, with the index math once per 16 bytes instead of per element.
    // Arena and weight offsets are 256-byte aligned and bound inputs and outputs 16-byte
    // aligned (infc_context_set_input), so the rows are 16-byte aligned.
    int64_t vpr = rowBytes / 16, rows = *op.result()->type().numElements() / out.back();
    std::vector<int64_t> outer(out.begin(), out.end() - 1);
    KernelLayer k;
    k.function = ctx.kernelName(op, "rows");
    std::ostringstream src;
    src << "extern \"C\" __global__ void " << k.function << "(const uint4* __restrict__ in0, uint4* __restrict__ out0) {\n";
    src << "  INFC_GRID_STRIDE(i, " << rows * vpr << "LL) {\n";
    src << "    const long long v = i % " << vpr << "LL, row = i / " << vpr << "LL;\n";
    emitUnravel(src, "row", outer, "o");
    src << "    const long long inRow = 0";
    for (size_t d = 0; d < outer.size(); ++d)
      src << " + o" << d << " * " << st[static_cast<size_t>(perm[d])] / out.back() << "LL";
    src << ";\n    out0[i] = in0[inRow * " << vpr << "LL + v];\n  }\n}\n";
    k.args = {KernelArg::tensor(op.operand(0)), KernelArg::tensor(op.result())};
    finish(op, ctx, std::move(k), src, rows * vpr, {op.operand(0)}, {op.result()});
    return Status::ok();
  }
  OffsetFn valid;
  if (padLast)
    valid = [&](const std::vector<std::string> &i) {
      return i.back() + " < " + std::to_string(in[static_cast<size_t>(perm.back())]) + "LL";
    };
  emitIndexMap(op, ctx, {op.operand(0)}, op.result(), out, [&](const std::vector<std::string> &i) {
    std::string e = "0";
    for (size_t d = 0; d < out.size(); ++d)
      e += " + " + i[d] + " * " + std::to_string(st[static_cast<size_t>(perm[d])]) + "LL";
    return e;
  }, "", valid);
  return Status::ok();
}

Status lowerExpand(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> in = shapeOf(op.operand(0)), out = shapeOf(op.result());
  std::vector<int64_t> st = rowMajorStrides(in);
  emitIndexMap(op, ctx, {op.operand(0)}, op.result(), out, [&](const std::vector<std::string> &i) {
    std::string e = "0";
    for (size_t k = 0; k < in.size(); ++k) {
      size_t d = out.size() - in.size() + k;
      if (in[k] != 1)
        e += " + " + i[d] + " * " + std::to_string(st[k]) + "LL";
    }
    return e;
  });
  return Status::ok();
}

Status lowerTile(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> in = shapeOf(op.operand(0)), out = shapeOf(op.result());
  std::vector<int64_t> st = rowMajorStrides(in);
  emitIndexMap(op, ctx, {op.operand(0)}, op.result(), out, [&](const std::vector<std::string> &i) {
    std::string e = "0";
    for (size_t d = 0; d < in.size(); ++d)
      e += " + (" + i[d] + " % " + std::to_string(in[d]) + "LL) * " + std::to_string(st[d]) + "LL";
    return e;
  });
  return Status::ok();
}

/// ONNX Slice: effective start and step per input dim.
Status lowerSlice(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> in = shapeOf(op.operand(0)), out = shapeOf(op.result());
  auto starts = constInts(op, 1), ends = constInts(op, 2);
  if (!starts || !ends)
    return needConstant(op, "starts/ends");
  std::vector<int64_t> axes, steps;
  if (op.hasOperand(3)) {
    auto a = constInts(op, 3);
    if (!a)
      return needConstant(op, "axes");
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  }
  if (op.hasOperand(4)) {
    auto s = constInts(op, 4);
    if (!s)
      return needConstant(op, "steps");
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> start(in.size(), 0), step(in.size(), 1);
  for (size_t j = 0; j < axes.size(); ++j) {
    int64_t ax = axes[j] < 0 ? axes[j] + rank : axes[j];
    int64_t dim = in[static_cast<size_t>(ax)], s = (*starts)[j], st = steps[j];
    if (s < 0)
      s += dim;
    s = st > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
    start[static_cast<size_t>(ax)] = s;
    // A step is applied only along an axis with 2 or more outputs (then |step| < dim); INT64_MIN
    // would not even be a valid C literal.
    step[static_cast<size_t>(ax)] = out[static_cast<size_t>(ax)] > 1 ? st : 1;
  }
  std::vector<int64_t> str = rowMajorStrides(in);
  emitIndexMap(op, ctx, {op.operand(0)}, op.result(), out, [&](const std::vector<std::string> &i) {
    std::string e = "0";
    for (size_t d = 0; d < in.size(); ++d)
      e += " + (" + std::to_string(start[d]) + "LL + " + i[d] + " * " + std::to_string(step[d]) + "LL) * " +
           std::to_string(str[d]) + "LL";
    return e;
  });
  return Status::ok();
}

Status lowerConcat(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> out = shapeOf(op.result());
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis"));
  if (axis < 0)
    axis += static_cast<int64_t>(out.size());
  std::vector<int64_t> ost = rowMajorStrides(out);
  int64_t offsetAlong = 0;
  for (size_t j = 0; j < op.numOperands(); ++j) {
    std::vector<int64_t> in = shapeOf(op.operand(j));
    if (*op.operand(j)->type().numElements() != 0) {
      int64_t off = offsetAlong;
      std::string dst = "0";
      for (size_t d = 0; d < in.size(); ++d)
        dst += " + " + (static_cast<int64_t>(d) == axis ? "(o" + std::to_string(d) + " + " + std::to_string(off) + "LL)"
                                                        : "o" + std::to_string(d)) +
               " * " + std::to_string(ost[d]) + "LL";
      emitIndexMap(op, ctx, {op.operand(j)}, op.result(), in, [](const std::vector<std::string> &) { return std::string("i"); },
                   "part" + std::to_string(j), nullptr, "0", dst);
    }
    offsetAlong += in[static_cast<size_t>(axis)];
  }
  return Status::ok();
}

Status lowerSplit(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> in = shapeOf(op.operand(0));
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", 0));
  if (axis < 0)
    axis += static_cast<int64_t>(in.size());
  std::vector<int64_t> ist = rowMajorStrides(in);
  int64_t offsetAlong = 0;
  for (size_t j = 0; j < op.numResults(); ++j) {
    std::vector<int64_t> out = shapeOf(op.result(j));
    int64_t off = offsetAlong;
    emitIndexMap(op, ctx, {op.operand(0)}, op.result(j), out, [&](const std::vector<std::string> &i) {
      std::string e = "0";
      for (size_t d = 0; d < out.size(); ++d)
        e += " + " + (static_cast<int64_t>(d) == axis ? "(" + i[d] + " + " + std::to_string(off) + "LL)" : i[d]) + " * " +
             std::to_string(ist[d]) + "LL";
      return e;
    }, "part" + std::to_string(j));
    offsetAlong += out[static_cast<size_t>(axis)];
  }
  return Status::ok();
}

Status lowerGather(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> data = shapeOf(op.operand(0)), idx = shapeOf(op.operand(1)), out = shapeOf(op.result());
  INFC_ASSIGN_OR_RETURN(int64_t axis, op.attrs().getInt("axis", 0));
  if (axis < 0)
    axis += static_cast<int64_t>(data.size());
  std::vector<int64_t> dst = rowMajorStrides(data), ist = rowMajorStrides(idx);
  const Value *out0 = op.result();
  KernelLayer k;
  k.function = ctx.kernelName(op);
  std::ostringstream src;
  beginKernel(src, k, {op.operand(0), op.operand(1)}, {out0});
  int64_t n = *out0->type().numElements();
  src << "  INFC_GRID_STRIDE(i, " << n << "LL) {\n";
  emitUnravel(src, "i", out, "o");
  // Output dims: data[:axis], indices dims, data[axis+1:].
  size_t q = idx.size();
  src << "    long long iflat = 0";
  for (size_t d = 0; d < q; ++d)
    src << " + o" << (static_cast<size_t>(axis) + d) << " * " << ist[d] << "LL";
  src << ";\n    long long ix = (long long)in1[iflat]; if (ix < 0) ix += " << data[static_cast<size_t>(axis)] << "LL;\n";
  src << "    if (ix < 0 || ix >= " << data[static_cast<size_t>(axis)] << "LL) { out0[i] = 0; continue; }\n";
  src << "    long long src = ix * " << dst[static_cast<size_t>(axis)] << "LL";
  for (size_t d = 0; d < static_cast<size_t>(axis); ++d)
    src << " + o" << d << " * " << dst[d] << "LL";
  for (size_t d = static_cast<size_t>(axis) + 1; d < data.size(); ++d)
    src << " + o" << (d - 1 + q) << " * " << dst[d] << "LL";
  src << ";\n    out0[i] = in0[src];\n  }\n}\n";
  k.source = src.str();
  launch1D(k, n);
  ctx.addKernel(op, std::move(k), {op.operand(0), op.operand(1)}, {out0});
  return Status::ok();
}

Status lowerPad(const Operation &op, LoweringContext &ctx) {
  std::vector<int64_t> in = shapeOf(op.operand(0)), out = shapeOf(op.result());
  auto pads = constInts(op, 1);
  if (!pads)
    return needConstant(op, "pads");
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> begin(in.size(), 0);
  std::vector<int64_t> axes;
  if (op.hasOperand(3)) {
    auto a = constInts(op, 3);
    if (!a)
      return needConstant(op, "axes");
    axes = *a;
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  for (size_t j = 0; j < axes.size(); ++j)
    begin[static_cast<size_t>(axes[j] < 0 ? axes[j] + rank : axes[j])] = (*pads)[j];
  INFC_ASSIGN_OR_RETURN(std::string mode, op.attrs().getString("mode", "constant"));
  std::string fill = "0";
  if (op.hasOperand(2)) {
    const Tensor *cv = getConstantValue(op.operand(2));
    if (!cv)
      return needConstant(op, "constant_value");
    if (cv->numElements() == 1)
      fill = isFloat(cv->dtype()) ? floatLiteral(cv->getDouble(0), cv->dtype() == DType::F64) : std::to_string(cv->getInt(0)) + "LL";
  }
  fill = storeAs(op.operand(0)->type().elem(), fill);
  std::vector<int64_t> st = rowMajorStrides(in);
  auto coord = [&](const std::vector<std::string> &i, size_t d) {
    std::string c = "(" + i[d] + " - " + std::to_string(begin[d]) + "LL)";
    std::string D = std::to_string(in[d]) + "LL";
    if (mode == "edge")
      return "(" + c + " < 0 ? 0LL : (" + c + " >= " + D + " ? " + D + " - 1 : " + c + "))";
    if (mode == "reflect")
      return "(" + c + " < 0 ? -" + c + " : (" + c + " >= " + D + " ? 2 * " + D + " - 2 - " + c + " : " + c + "))";
    if (mode == "wrap")
      return "(((" + c + " % " + D + ") + " + D + ") % " + D + ")";
    return c;
  };
  OffsetFn offset = [&](const std::vector<std::string> &i) {
    std::string e = "0";
    for (size_t d = 0; d < in.size(); ++d)
      e += " + " + coord(i, d) + " * " + std::to_string(st[d]) + "LL";
    return e;
  };
  OffsetFn valid = nullptr;
  if (mode == "constant")
    valid = [&](const std::vector<std::string> &i) {
      std::string e = "true";
      for (size_t d = 0; d < in.size(); ++d)
        e += " && " + coord(i, d) + " >= 0 && " + coord(i, d) + " < " + std::to_string(in[d]) + "LL";
      return e;
    };
  else if (mode != "edge" && mode != "reflect" && mode != "wrap")
    return unsupported(op.describe() + ": Pad mode '" + mode + "' has no GPU kernel");
  emitIndexMap(op, ctx, {op.operand(0)}, op.result(), out, offset, "", valid, fill);
  return Status::ok();
}

} // namespace

void registerDataMovementLowerings(LoweringTable &t) {
  for (OpKind k : {OpKind::OnnxIdentity, OpKind::OnnxReshape, OpKind::OnnxFlatten, OpKind::OnnxSqueeze,
                   OpKind::OnnxUnsqueeze})
    t[static_cast<size_t>(k)] = &lowerCopy;
  t[static_cast<size_t>(OpKind::OnnxTranspose)] = &lowerTranspose;
  t[static_cast<size_t>(OpKind::InfcLayoutCast)] = &lowerLayoutCast;
  t[static_cast<size_t>(OpKind::OnnxExpand)] = &lowerExpand;
  t[static_cast<size_t>(OpKind::OnnxTile)] = &lowerTile;
  t[static_cast<size_t>(OpKind::OnnxSlice)] = &lowerSlice;
  t[static_cast<size_t>(OpKind::OnnxConcat)] = &lowerConcat;
  t[static_cast<size_t>(OpKind::OnnxSplit)] = &lowerSplit;
  t[static_cast<size_t>(OpKind::OnnxGather)] = &lowerGather;
  t[static_cast<size_t>(OpKind::OnnxPad)] = &lowerPad;
}

} // namespace infc::codegen
