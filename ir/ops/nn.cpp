// Shape inference for normalizations, Dropout, Gemm, MatMul and Einsum.
#include "ir/ops/ShapeUtil.h"

#include "ir/ops/EinsumSpec.h"

namespace infc::ops {

namespace {

Status requireRankAtLeast(const InferContext &ctx, size_t operand, int64_t rank, const char *what) {
  const TensorType &t = ctx.operandType(operand);
  if (t.isRanked() && t.rank() < rank)
    return ctx.error(std::string(what) + " has rank " + std::to_string(t.rank()) + ", expected at least " + std::to_string(rank));
  return Status::ok();
}

/// Per-channel parameter `operand` must be 1-D of the input's channel count when known.
Status checkChannelParam(const InferContext &ctx, size_t operand, const char *what) {
  const TensorType &x = ctx.operandType(0), &p = ctx.operandType(operand);
  if (!p.isRanked())
    return Status::ok();
  if (p.rank() != 1)
    return ctx.error(std::string(what) + " has rank " + std::to_string(p.rank()) + ", expected 1");
  if (x.isRanked() && x.rank() >= 2 && x.dim(1).isStatic() && p.dim(0).isStatic() && x.dim(1).value != p.dim(0).value)
    return ctx.error(std::string(what) + " has " + std::to_string(p.dim(0).value) + " elements, the input has " +
                     std::to_string(x.dim(1).value) + " channels");
  return Status::ok();
}

} // namespace

Status inferShapesBatchNormalization(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(int64_t training, ctx.attrs().getInt("training_mode", 0));
  if (training)
    return Status(StatusCode::Unsupported, ctx.op().describe() + ": BatchNormalization in training mode is not supported");
  INFC_RETURN_IF_ERROR(requireRankAtLeast(ctx, 0, 2, "input"));
  for (size_t i = 1; i < 5; ++i)
    INFC_RETURN_IF_ERROR(checkChannelParam(ctx, i, i == 1 ? "scale" : i == 2 ? "bias" : i == 3 ? "mean" : "var"));
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesInstanceNormalization(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireRankAtLeast(ctx, 0, 3, "input"));
  INFC_RETURN_IF_ERROR(checkChannelParam(ctx, 1, "scale"));
  INFC_RETURN_IF_ERROR(checkChannelParam(ctx, 2, "bias"));
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesGroupNormalization(InferContext &ctx) {
  INFC_RETURN_IF_ERROR(requireRankAtLeast(ctx, 0, 2, "input"));
  INFC_ASSIGN_OR_RETURN(int64_t groups, ctx.attrs().getInt("num_groups"));
  const TensorType &x = ctx.operandType(0);
  if (groups <= 0)
    return ctx.error("num_groups must be positive");
  if (x.isRanked() && x.dim(1).isStatic() && x.dim(1).value % groups != 0)
    return ctx.error(std::to_string(x.dim(1).value) + " channels do not divide into " + std::to_string(groups) + " groups");
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesLayerNormalization(InferContext &ctx) {
  const TensorType &x = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", -1));
  INFC_ASSIGN_OR_RETURN(int64_t stash, ctx.attrs().getInt("stash_type", 1));
  (void)stash;
  setSameAs(ctx, 0, 0);
  if (ctx.numResults() > 1) {
    // Mean and InvStdDev: the input's shape with the normalized dims set to 1, float.
    DType st = DType::F32;
    if (x.isRanked()) {
      INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, x.rank()));
      std::vector<Dim> dims = x.shape();
      for (int64_t d = axis; d < x.rank(); ++d)
        dims[static_cast<size_t>(d)] = Dim(1);
      for (size_t r = 1; r < ctx.numResults(); ++r)
        ctx.setResultType(r, TensorType(st, dims));
    } else {
      for (size_t r = 1; r < ctx.numResults(); ++r)
        ctx.setResultType(r, TensorType::unranked(st));
    }
  } else if (x.isRanked()) {
    INFC_RETURN_IF_ERROR(normalizeAxis(ctx, axis, x.rank()).status());
  }
  return Status::ok();
}

Status inferShapesDropout(InferContext &ctx) {
  if (const Tensor *t = ctx.hasOperand(2) ? ctx.constantOperand(2) : nullptr)
    if (t->numElements() == 1 && t->getInt(0) != 0)
      return Status(StatusCode::Unsupported, ctx.op().describe() + ": Dropout in training mode (training op) is not supported");
  setSameAs(ctx, 0, 0);
  if (ctx.numResults() > 1)
    setSameAs(ctx, 1, 0, DType::Bool);
  return Status::ok();
}

Status inferShapesGemm(InferContext &ctx) {
  const TensorType &a = ctx.operandType(0), &b = ctx.operandType(1);
  INFC_ASSIGN_OR_RETURN(int64_t transA, ctx.attrs().getInt("transA", 0));
  INFC_ASSIGN_OR_RETURN(int64_t transB, ctx.attrs().getInt("transB", 0));
  if (a.isRanked() && a.rank() != 2)
    return ctx.error("A has rank " + std::to_string(a.rank()) + ", expected 2");
  if (b.isRanked() && b.rank() != 2)
    return ctx.error("B has rank " + std::to_string(b.rank()) + ", expected 2");
  Dim m = a.isRanked() ? a.dim(transA ? 1 : 0) : Dim::unknown();
  Dim n = b.isRanked() ? b.dim(transB ? 0 : 1) : Dim::unknown();
  if (a.isRanked() && b.isRanked()) {
    const Dim &ka = a.dim(transA ? 0 : 1), &kb = b.dim(transB ? 1 : 0);
    if (ka.isStatic() && kb.isStatic() && ka.value != kb.value)
      return ctx.error("inner dimensions differ (" + std::to_string(ka.value) + " vs " + std::to_string(kb.value) + ")");
  }
  if (ctx.hasOperand(2) && ctx.operandType(2).isRanked()) {
    Expected<std::vector<Dim>> bc = broadcastDims({m, n}, ctx.operandType(2).shape());
    if (!bc.isOk() || bc->size() != 2)
      return ctx.error("C of type " + ctx.operandType(2).str() + " does not broadcast to the result");
  }
  ctx.setResultType(0, TensorType(a.elem(), {m, n}));
  return Status::ok();
}

Status inferShapesMatMul(InferContext &ctx) {
  const TensorType &a = ctx.operandType(0), &b = ctx.operandType(1);
  if (a.elem() != b.elem())
    return ctx.error("A and B have different element types");
  if (!a.isRanked() || !b.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(a.elem()));
    return Status::ok();
  }
  if (a.rank() == 0 || b.rank() == 0)
    return ctx.error("MatMul operands must have rank >= 1");
  std::vector<Dim> sa = a.shape(), sb = b.shape();
  bool aVec = sa.size() == 1, bVec = sb.size() == 1;
  if (aVec)
    sa.insert(sa.begin(), Dim(1));
  if (bVec)
    sb.push_back(Dim(1));
  const Dim &ka = sa.back(), &kb = sb[sb.size() - 2];
  if (ka.isStatic() && kb.isStatic() && ka.value != kb.value)
    return ctx.error("inner dimensions differ (" + std::to_string(ka.value) + " vs " + std::to_string(kb.value) + ")");
  std::vector<Dim> ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  Expected<std::vector<Dim>> batch = broadcastDims(ba, bb);
  if (!batch.isOk())
    return ctx.error(batch.status().message());
  std::vector<Dim> out = *batch;
  if (!aVec)
    out.push_back(sa[sa.size() - 2]);
  if (!bVec)
    out.push_back(sb.back());
  ctx.setResultType(0, TensorType(a.elem(), out));
  return Status::ok();
}

Status inferShapesEinsum(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(std::string eq, ctx.attrs().getString("equation"));
  std::vector<TensorType> types;
  for (size_t i = 0; i < ctx.numOperands(); ++i) {
    if (!ctx.operandType(i).isRanked()) {
      ctx.setResultType(0, TensorType::unranked(ctx.operandType(0).elem()));
      return Status::ok();
    }
    types.push_back(ctx.operandType(i));
  }
  std::vector<int64_t> ranks;
  for (const TensorType &t : types)
    ranks.push_back(t.rank());
  Expected<EinsumSpec> spec = parseEinsum(eq, ranks);
  if (!spec.isOk())
    return ctx.error(spec.status().message());
  std::map<int, Dim> sizes;
  for (size_t i = 0; i < types.size(); ++i)
    for (size_t k = 0; k < spec->inputs[i].size(); ++k) {
      int label = spec->inputs[i][k];
      const Dim &d = types[i].dim(static_cast<int64_t>(k));
      auto it = sizes.find(label);
      if (it == sizes.end() || (!it->second.isStatic() && d.isStatic()) ||
          (it->second.isStatic() && it->second.value == 1 && d.isStatic()))
        sizes[label] = d;
      else if (it->second.isStatic() && d.isStatic() && it->second.value != d.value && d.value != 1)
        return ctx.error("label size mismatch in '" + eq + "'");
    }
  std::vector<Dim> out;
  for (int label : spec->output)
    out.push_back(sizes[label]);
  ctx.setResultType(0, TensorType(types[0].elem(), out));
  return Status::ok();
}

} // namespace infc::ops
