// Reference kernels of the infc.* ops: the onnx.* reference math in the logical layout, then
// the epilogue and the physical permutation. What `--check-numerics` compares passes against.
#include "ir/interp/KernelUtil.h"

#include "ir/InfcAttrs.h"
#include "ir/ScratchOp.h"

namespace infc::interp {

namespace {

/// t transposed by perm (t itself for the identity: NCHW ops need no copy).
Tensor transposed(const Tensor &t, const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return t.transposed(perm);
  return t;
}

} // namespace

Status evalInfcConv(EvalContext &c) {
  const Operation &op = c.op();
  INFC_ASSIGN_OR_RETURN(ConvAttrs a, ConvAttrs::read(op));
  int64_t rank = c.input(1).rank();
  std::vector<int64_t> toLogical = layoutInversePerm(a.layout, rank);
  Tensor x = transposed(c.input(0), toLogical);
  Tensor w = transposed(c.input(1), toLogical);
  // The bias goes into onnx.Conv itself so that conv + bias rounds exactly as the unfused graph.
  std::vector<TensorType> types = {TensorType::fromStatic(x.dtype(), x.shape()), TensorType::fromStatic(w.dtype(), w.shape())};
  std::vector<const Tensor *> ins = {&x, &w};
  if (c.hasInput(2)) {
    types.push_back(TensorType::fromStatic(c.input(2).dtype(), c.input(2).shape()));
    ins.push_back(&c.input(2));
  }
  ScratchOp conv(op, OpKind::OnnxConv, types, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, conv.eval(ins));
  Tensor y = transposed(out[0], layoutPerm(a.layout, rank));
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
  Tensor x = transposed(c.input(0), layoutInversePerm(a.layout, rank));
  ScratchOp pool(op, a.isMax ? OpKind::OnnxMaxPool : OpKind::OnnxAveragePool,
                 {TensorType::fromStatic(x.dtype(), x.shape())}, a.onnxAttrs());
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> out, pool.eval({&x}));
  Tensor y = transposed(out[0], layoutPerm(a.layout, rank));
  c.setOutput(0, std::move(y));
  return Status::ok();
}

Status evalInfcLayoutCast(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(LayoutCastAttrs a, LayoutCastAttrs::read(c.op()));
  Tensor y = transposed(c.input(0), a.perm(c.input(0).rank()));
  c.setOutput(0, std::move(y));
  return Status::ok();
}

} // namespace infc::interp
