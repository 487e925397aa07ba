// Shape inference for gathers, scatters, Pad, Resize, DepthToSpace and SpaceToDepth.
#include "ir/ops/ShapeUtil.h"

#include <cmath>

namespace infc::ops {

Status inferShapesGather(InferContext &ctx) {
  const TensorType &d = ctx.operandType(0), &i = ctx.operandType(1);
  if (isFloat(i.elem()) || i.elem() == DType::Bool)
    return ctx.error("indices must be integers");
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", 0));
  if (!d.isRanked() || !i.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(d.elem()));
    return Status::ok();
  }
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, d.rank()));
  std::vector<Dim> out(d.shape().begin(), d.shape().begin() + axis);
  out.insert(out.end(), i.shape().begin(), i.shape().end());
  out.insert(out.end(), d.shape().begin() + axis + 1, d.shape().end());
  ctx.setResultType(0, TensorType(d.elem(), out));
  return Status::ok();
}

Status inferShapesGatherElements(InferContext &ctx) {
  const TensorType &d = ctx.operandType(0), &i = ctx.operandType(1);
  if (d.isRanked() && i.isRanked() && d.rank() != i.rank())
    return ctx.error("data and indices must have the same rank");
  ctx.setResultType(0, i.isRanked() ? TensorType(d.elem(), i.shape()) : TensorType::unranked(d.elem()));
  return Status::ok();
}

Status inferShapesGatherND(InferContext &ctx) {
  const TensorType &d = ctx.operandType(0), &i = ctx.operandType(1);
  INFC_ASSIGN_OR_RETURN(int64_t b, ctx.attrs().getInt("batch_dims", 0));
  // The spec's rules: data and indices of rank >= 1, batch_dims < min(ranks), 1 <= last <= r - b.
  if ((d.isRanked() && d.rank() < 1) || (i.isRanked() && i.rank() < 1))
    return ctx.error("data " + d.str() + " and indices " + i.str() + " must both have rank 1 or more");
  if (b < 0 || (d.isRanked() && i.isRanked() && b >= std::min(d.rank(), i.rank())))
    return ctx.error("batch_dims " + std::to_string(b) + " must be below both ranks");
  if (i.isRanked() && i.dim(i.rank() - 1).isStatic() && i.dim(i.rank() - 1).value < 1)
    return ctx.error("indices' last dimension must be 1 or more");
  if (!d.isRanked() || !i.isRanked() || !i.dim(i.rank() - 1).isStatic()) {
    ctx.setResultType(0, TensorType::unranked(d.elem()));
    return Status::ok();
  }
  int64_t last = i.dim(i.rank() - 1).value;
  if (b + last > d.rank())
    return ctx.error("indices' last dimension is too large for the data rank");
  std::vector<Dim> out(i.shape().begin(), i.shape().end() - 1);
  out.insert(out.end(), d.shape().begin() + b + last, d.shape().end());
  ctx.setResultType(0, TensorType(d.elem(), out));
  return Status::ok();
}

Status inferShapesScatterElements(InferContext &ctx) {
  setSameAs(ctx, 0, 0);
  return Status::ok();
}
Status inferShapesScatterND(InferContext &ctx) {
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesPad(InferContext &ctx) {
  const TensorType &x = ctx.operandType(0);
  const Tensor *pads = ctx.constantOperand(1);
  if (!x.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(x.elem()));
    return Status::ok();
  }
  if (!pads) {
    ctx.setResultType(0, unknownDims(x.elem(), x.rank()));
    return Status::ok();
  }
  std::vector<int64_t> p = tensorToInts(*pads), axes;
  if (ctx.hasOperand(3)) {
    const Tensor *a = ctx.constantOperand(3);
    if (!a) {
      ctx.setResultType(0, unknownDims(x.elem(), x.rank()));
      return Status::ok();
    }
    axes = tensorToInts(*a);
  } else {
    for (int64_t i = 0; i < x.rank(); ++i)
      axes.push_back(i);
  }
  if (p.size() != 2 * axes.size())
    return ctx.error("pads has " + std::to_string(p.size()) + " entries, expected " + std::to_string(2 * axes.size()));
  std::vector<Dim> out = x.shape();
  for (size_t j = 0; j < axes.size(); ++j) {
    INFC_ASSIGN_OR_RETURN(int64_t a, normalizeAxis(ctx, axes[j], x.rank()));
    Dim &d = out[static_cast<size_t>(a)];
    if (d.isStatic()) {
      std::optional<int64_t> sum = checkedAdd(d.value, p[j], p[j + axes.size()]);
      if (!sum)
        return ctx.error("pads of dimension " + std::to_string(a) + " overflow int64");
      int64_t v = *sum;
      if (v < 0)
        return ctx.error("pads make dimension " + std::to_string(a) + " negative");
      d = Dim(v);
    } else {
      d = Dim::unknown();
    }
  }
  ctx.setResultType(0, TensorType(x.elem(), out));
  return Status::ok();
}

Status inferShapesResize(InferContext &ctx) {
  const TensorType &x = ctx.operandType(0);
  if (!x.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(x.elem()));
    return Status::ok();
  }
  std::vector<int64_t> axes;
  INFC_ASSIGN_OR_RETURN(axes, ctx.attrs().getInts("axes", std::vector<int64_t>{}));
  if (axes.empty())
    for (int64_t i = 0; i < x.rank(); ++i)
      axes.push_back(i);
  INFC_ASSIGN_OR_RETURN(std::string policy, ctx.attrs().getString("keep_aspect_ratio_policy", "stretch"));
  std::vector<Dim> out = x.shape();
  const Tensor *sizes = ctx.hasOperand(3) ? ctx.constantOperand(3) : nullptr;
  const Tensor *scales = ctx.hasOperand(2) ? ctx.constantOperand(2) : nullptr;
  if (sizes && sizes->numElements() > 0) {
    std::vector<int64_t> s = tensorToInts(*sizes);
    if (s.size() != axes.size())
      return ctx.error("sizes has " + std::to_string(s.size()) + " entries for " + std::to_string(axes.size()) + " axes");
    if (policy != "stretch") {
      for (auto &d : out)
        (void)d;
      bool allStatic = true;
      for (int64_t a : axes)
        allStatic = allStatic && x.dim(a).isStatic();
      if (!allStatic) {
        ctx.setResultType(0, unknownDims(x.elem(), x.rank()));
        return Status::ok();
      }
      double scale = policy == "not_larger" ? 1e300 : 0;
      for (size_t j = 0; j < axes.size(); ++j) {
        double r = static_cast<double>(s[j]) / static_cast<double>(x.dim(axes[j]).value);
        scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
      }
      for (int64_t a : axes)
        out[static_cast<size_t>(a)] = Dim(static_cast<int64_t>(std::round(scale * static_cast<double>(x.dim(a).value))));
    } else {
      for (size_t j = 0; j < axes.size(); ++j)
        out[static_cast<size_t>(axes[j] < 0 ? axes[j] + x.rank() : axes[j])] = Dim(s[j]);
    }
  } else if (scales && scales->numElements() > 0) {
    if (static_cast<size_t>(scales->numElements()) != axes.size())
      return ctx.error("scales has " + std::to_string(scales->numElements()) + " entries for " + std::to_string(axes.size()) +
                       " axes");
    for (size_t j = 0; j < axes.size(); ++j) {
      int64_t a = axes[j] < 0 ? axes[j] + x.rank() : axes[j];
      const Dim &d = x.dim(a);
      out[static_cast<size_t>(a)] =
          d.isStatic() ? Dim(static_cast<int64_t>(std::floor(static_cast<double>(d.value) * scales->getDouble(static_cast<int64_t>(j)))))
                       : Dim::unknown();
    }
  } else if ((ctx.hasOperand(3) && !sizes) || (ctx.hasOperand(2) && !scales)) {
    ctx.setResultType(0, unknownDims(x.elem(), x.rank()));
    return Status::ok();
  } else {
    return ctx.error("one of scales or sizes must be given");
  }
  ctx.setResultType(0, TensorType(x.elem(), out));
  return Status::ok();
}

namespace {
Status depthSpace(InferContext &ctx, bool toSpace) {
  const TensorType &x = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t bs, ctx.attrs().getInt("blocksize"));
  if (bs <= 0)
    return ctx.error("blocksize must be positive");
  if (!x.isRanked()) {
    ctx.setResultType(0, unknownDims(x.elem(), 4));
    return Status::ok();
  }
  if (x.rank() != 4)
    return ctx.error("input rank " + std::to_string(x.rank()) + ", expected 4");
  std::optional<int64_t> bs2 = checkedMul(bs, bs);
  if (!bs2)
    return ctx.error("blocksize " + std::to_string(bs) + " squared overflows int64");
  bool overflow = false;
  auto scale = [&](const Dim &d, int64_t mul, int64_t div) {
    if (!d.isStatic())
      return Dim::unknown();
    std::optional<int64_t> v = checkedMul(d.value, mul);
    overflow = overflow || !v;
    return v ? Dim(*v / div) : Dim::unknown();
  };
  std::vector<Dim> out = x.shape();
  if (toSpace) {
    if (x.dim(1).isStatic() && x.dim(1).value % *bs2 != 0)
      return ctx.error("channels are not divisible by blocksize^2");
    out[1] = scale(x.dim(1), 1, *bs2);
    out[2] = scale(x.dim(2), bs, 1);
    out[3] = scale(x.dim(3), bs, 1);
  } else {
    for (int64_t d = 2; d < 4; ++d)
      if (x.dim(d).isStatic() && x.dim(d).value % bs != 0)
        return ctx.error("spatial dims are not divisible by blocksize");
    out[1] = scale(x.dim(1), *bs2, 1);
    out[2] = scale(x.dim(2), 1, bs);
    out[3] = scale(x.dim(3), 1, bs);
  }
  if (overflow)
    return ctx.error("blocksize " + std::to_string(bs) + " makes a dimension overflow int64");
  ctx.setResultType(0, TensorType(x.elem(), out));
  return Status::ok();
}
} // namespace

Status inferShapesDepthToSpace(InferContext &ctx) { return depthSpace(ctx, true); }
Status inferShapesSpaceToDepth(InferContext &ctx) { return depthSpace(ctx, false); }

} // namespace infc::ops
