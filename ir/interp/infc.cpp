// Reference kernels of the infc.* ops: the onnx.* reference math in the logical layout, then
// the epilogue and the physical permutation. What `--check-numerics` compares passes against.
#include "ir/interp/KernelUtil.h"

#include "ir/InfcAttrs.h"
#include "ir/ScratchOp.h"

namespace infc::interp {

namespace {

/// t transposed by perm, through onnx.Transpose's reference kernel.
Expected<Tensor> transposed(const Operation &of, const Tensor &t, const std::vector<int64_t> &perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity)
    return t;
  AttrMap m;
  m.set("perm", perm);
  ScratchOp op(of, OpKind::OnnxTranspose, {TensorType::fromStatic(t.dtype(), t.shape())}, m);
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, op.eval({&t}));
  return std::move(out[0]);
}

} // namespace

Status evalInfcConv(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  int64_t rank = c.input(1).rank();
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank);
  INFC_ASSIGN_OR_RETURN(Tensor x, transposed(op, c.input(0), toLogical));
  INFC_ASSIGN_OR_RETURN(Tensor w, transposed(op, c.input(1), toLogical));
  AttrMap m;
  m.set("strides", a.strides);
  m.set("dilations", a.dilations);
  m.set("pads", a.pads);
  m.set("group", a.group);
  // The bias goes into onnx.Conv itself so that conv + bias rounds exactly as the unfused graph.
  std::vector<TensorType> types = {TensorType::fromStatic(x.dtype(), x.shape()), TensorType::fromStatic(w.dtype(), w.shape())};
  std::vector<const Tensor *> ins = {&x, &w};
  if (c.hasInput(2)) {
    types.push_back(TensorType::fromStatic(c.input(2).dtype(), c.input(2).shape()));
    ins.push_back(&c.input(2));
  }
  ScratchOp conv(op, OpKind::OnnxConv, types, m);
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, conv.eval(ins));
  INFC_ASSIGN_OR_RETURN(Tensor y, transposed(op, out[0], layoutPerm(a.layout, rank)));
  // Epilogue in double, element by element (the layouts of y and z agree).
  if (c.hasInput(3) || !a.act.none()) {
    std::vector<double> v = toDoubles(y), z;
    if (c.hasInput(3))
      z = toDoubles(c.input(3));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = a.act.apply(z.empty() ? v[i] : v[i] + z[i]);
    storeDoubles(y, v);
  }
  c.setOutput(0, std::move(y));
  return Status::ok();
}

Status evalInfcMatmul(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(MatmulAttrs a, MatmulAttrs::read(op));
  const Tensor &A = c.input(0), &B = c.input(1);
  ScratchOp mm(op, OpKind::OnnxMatMul, {TensorType::fromStatic(A.dtype(), A.shape()), TensorType::fromStatic(B.dtype(), B.shape())}, {});
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, mm.eval({&A, &B}));
  Tensor y = std::move(out[0]);
  if (c.hasInput(2)) {
    // The bias add rounds to y's type, as the unfused Add did; then the activation.
    AttrMap none;
    ScratchOp add(op, OpKind::OnnxAdd, {TensorType::fromStatic(y.dtype(), y.shape()),
                                        TensorType::fromStatic(c.input(2).dtype(), c.input(2).shape())}, none);
    INFC_ASSIGN_OR_RETURN(std::vector<Tensor> sum, add.eval({&y, &c.input(2)}));
    y = std::move(sum[0]);
  }
  if (!a.act.none()) {
    std::vector<double> v = toDoubles(y);
    for (double &x : v)
      x = a.act.apply(x);
    storeDoubles(y, v);
  }
  c.setOutput(0, std::move(y));
  return Status::ok();
}

Status evalInfcPool(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(PoolAttrs a, PoolAttrs::read(op));
  int64_t rank = c.input(0).rank();
  INFC_ASSIGN_OR_RETURN(Tensor x, transposed(op, c.input(0), layoutInversePerm(a.layout, rank)));
  AttrMap m;
  m.set("kernel_shape", a.kernel);
  m.set("strides", a.strides);
  m.set("dilations", a.dilations);
  m.set("pads", a.pads);
  m.set("ceil_mode", int64_t(a.ceilMode));
  if (!a.isMax)
    m.set("count_include_pad", int64_t(a.countIncludePad));
  ScratchOp pool(op, a.isMax ? OpKind::OnnxMaxPool : OpKind::OnnxAveragePool,
                 {TensorType::fromStatic(x.dtype(), x.shape())}, m);
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, pool.eval({&x}));
  INFC_ASSIGN_OR_RETURN(Tensor y, transposed(op, out[0], layoutPerm(a.layout, rank)));
  c.setOutput(0, std::move(y));
  return Status::ok();
}

Status evalInfcLayoutCast(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(c.op()));
  int64_t rank = c.input(0).rank();
  std::vector<int64_t> perm = a.from == Layout::NCHW ? layoutPerm(a.to, rank) : layoutInversePerm(a.from, rank);
  INFC_ASSIGN_OR_RETURN(Tensor y, transposed(c.op(), c.input(0), perm));
  c.setOutput(0, std::move(y));
  return Status::ok();
}

} // namespace infc::interp
