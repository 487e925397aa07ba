// Shape inference for data-movement and shape ops. Shape-like operands (shapes, axes, starts,
// repeats...) are read when constant; otherwise the rank is inferred with `?` dims.
#include "ir/ops/ShapeUtil.h"

#include <algorithm>
#include <cmath>

namespace infc::ops {

namespace {

std::optional<std::vector<int64_t>> constInts(const InferContext &ctx, size_t i) {
  const Tensor *t = ctx.constantOperand(i);
  if (!t)
    return std::nullopt;
  return tensorToInts(*t);
}

int64_t dimProduct(const std::vector<Dim> &dims, size_t from, size_t to, bool &known) {
  int64_t p = 1;
  known = true;
  for (size_t i = from; i < to; ++i) {
    if (!dims[i].isStatic()) {
      known = false;
      return -1;
    }
    p *= dims[i].value;
  }
  return p;
}

/// Axis list normalized to [0, rank), sorted, duplicates rejected.
Expected<std::vector<int64_t>> normalizeAxes(const InferContext &ctx, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t &a : axes) {
    INFC_ASSIGN_OR_RETURN(a, normalizeAxis(ctx, a, rank));
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return ctx.error("axes contain duplicates");
  return axes;
}

} // namespace

Status inferShapesConstant(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(Tensor v, ctx.attrs().getTensor("value"));
  ctx.setResultType(0, TensorType::fromStatic(v.dtype(), v.shape()));
  return Status::ok();
}

Status inferShapesIdentity(InferContext &ctx) {
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesConstantOfShape(InferContext &ctx) {
  DType dt = DType::F32;
  if (ctx.attrs().has("value")) {
    INFC_ASSIGN_OR_RETURN(Tensor v, ctx.attrs().getTensor("value"));
    if (v.numElements() != 1)
      return ctx.error("value must have one element");
    dt = v.dtype();
  }
  if (auto shape = constInts(ctx, 0)) {
    for (int64_t d : *shape)
      if (d < 0)
        return ctx.error("negative dimension " + std::to_string(d));
    if (!checkedNumElements(*shape, "shape").isOk())
      return ctx.error("shape's element count overflows");
    ctx.setResultType(0, TensorType::fromStatic(dt, *shape));
    return Status::ok();
  }
  const TensorType &s = ctx.operandType(0);
  if (s.isRanked() && s.rank() == 1 && s.dim(0).isStatic())
    ctx.setResultType(0, unknownDims(dt, s.dim(0).value));
  else
    ctx.setResultType(0, TensorType::unranked(dt));
  return Status::ok();
}

Status inferShapesShape(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  if (!t.isRanked()) {
    ctx.setResultType(0, unknownDims(DType::I64, 1));
    return Status::ok();
  }
  int64_t r = t.rank();
  INFC_ASSIGN_OR_RETURN(int64_t start, ctx.attrs().getInt("start", 0));
  INFC_ASSIGN_OR_RETURN(int64_t end, ctx.attrs().getInt("end", r));
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += r;
    return std::max<int64_t>(0, std::min(v, r));
  };
  ctx.setResultType(0, TensorType::fromStatic(DType::I64, {std::max<int64_t>(0, clamp(end) - clamp(start))}));
  return Status::ok();
}

Status inferShapesSize(InferContext &ctx) {
  ctx.setResultType(0, TensorType(DType::I64, {}));
  return Status::ok();
}

Status inferShapesFlatten(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", 1));
  if (!t.isRanked()) {
    ctx.setResultType(0, unknownDims(t.elem(), 2));
    return Status::ok();
  }
  if (axis < -t.rank() || axis > t.rank())
    return ctx.error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(t.rank()));
  if (axis < 0)
    axis += t.rank();
  bool k1, k2;
  int64_t a = dimProduct(t.shape(), 0, static_cast<size_t>(axis), k1);
  int64_t b = dimProduct(t.shape(), static_cast<size_t>(axis), t.shape().size(), k2);
  ctx.setResultType(0, TensorType(t.elem(), {k1 ? Dim(a) : Dim::unknown(), k2 ? Dim(b) : Dim::unknown()}));
  return Status::ok();
}

Status inferShapesReshape(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t allowZero, ctx.attrs().getInt("allowzero", 0));
  auto shape = constInts(ctx, 1);
  if (!shape) {
    const TensorType &s = ctx.operandType(1);
    if (s.isRanked() && s.rank() == 1 && s.dim(0).isStatic())
      ctx.setResultType(0, unknownDims(t.elem(), s.dim(0).value));
    else
      ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  std::vector<Dim> out;
  int64_t inferIdx = -1;
  for (size_t i = 0; i < shape->size(); ++i) {
    int64_t d = (*shape)[i];
    if (d == -1) {
      if (inferIdx >= 0)
        return ctx.error("shape has more than one -1");
      inferIdx = static_cast<int64_t>(i);
      out.push_back(Dim::unknown());
    } else if (d == 0 && !allowZero) {
      if (!t.isRanked() || static_cast<int64_t>(i) >= t.rank()) {
        if (t.isRanked())
          return ctx.error("shape copies dim " + std::to_string(i) + " (0) but the input has rank " + std::to_string(t.rank()));
        out.push_back(Dim::unknown());
      } else {
        out.push_back(t.dim(static_cast<int64_t>(i)));
      }
    } else if (d < 0) {
      return ctx.error("invalid shape dimension " + std::to_string(d));
    } else {
      out.push_back(Dim(d));
    }
  }
  if (inferIdx >= 0 && t.isStatic()) {
    int64_t total = *t.numElements(), known = 1;
    bool allKnown = true;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int64_t>(i) != inferIdx) {
        if (!out[i].isStatic())
          allKnown = false;
        else
          known *= out[i].value;
      }
    if (allKnown) {
      if (known == 0 || total % known != 0)
        return ctx.error("cannot reshape " + t.str() + " with a -1 dimension");
      out[static_cast<size_t>(inferIdx)] = Dim(total / known);
    }
  }
  TensorType result(t.elem(), out);
  if (t.isStatic() && result.isStatic() && *t.numElements() != *result.numElements())
    return ctx.error("cannot reshape " + t.str() + " into " + result.str());
  ctx.setResultType(0, result);
  return Status::ok();
}

Status inferShapesTranspose(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ctx.attrs().getInts("perm", std::vector<int64_t>{}));
  if (!t.isRanked()) {
    ctx.setResultType(0, perm.empty() ? TensorType::unranked(t.elem()) : unknownDims(t.elem(), static_cast<int64_t>(perm.size())));
    return Status::ok();
  }
  if (perm.empty())
    for (int64_t i = t.rank() - 1; i >= 0; --i)
      perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != t.rank())
    return ctx.error("perm has " + std::to_string(perm.size()) + " entries, the input has rank " + std::to_string(t.rank()));
  std::vector<bool> seen(perm.size(), false);
  std::vector<Dim> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= t.rank() || seen[static_cast<size_t>(p)])
      return ctx.error("perm is not a permutation");
    seen[static_cast<size_t>(p)] = true;
    out.push_back(t.dim(p));
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  return Status::ok();
}

Status inferShapesSqueeze(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  if (!t.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  std::vector<int64_t> axes;
  if (ctx.hasOperand(1)) {
    auto a = constInts(ctx, 1);
    if (!a) {
      ctx.setResultType(0, TensorType::unranked(t.elem()));
      return Status::ok();
    }
    INFC_ASSIGN_OR_RETURN(axes, normalizeAxes(ctx, *a, t.rank()));
  } else {
    for (int64_t i = 0; i < t.rank(); ++i) {
      if (!t.dim(i).isStatic()) {
        ctx.setResultType(0, TensorType::unranked(t.elem()));
        return Status::ok();
      }
      if (t.dim(i).value == 1)
        axes.push_back(i);
    }
  }
  std::vector<Dim> out;
  for (int64_t i = 0; i < t.rank(); ++i) {
    bool squeeze = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (squeeze && t.dim(i).isStatic() && t.dim(i).value != 1)
      return ctx.error("cannot squeeze dimension " + std::to_string(i) + " of size " + std::to_string(t.dim(i).value));
    if (!squeeze)
      out.push_back(t.dim(i));
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  return Status::ok();
}

Status inferShapesUnsqueeze(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  auto a = constInts(ctx, 1);
  if (!t.isRanked() || !a) {
    if (t.isRanked() && ctx.operandType(1).isRanked() && ctx.operandType(1).rank() == 1 && ctx.operandType(1).dim(0).isStatic())
      ctx.setResultType(0, unknownDims(t.elem(), t.rank() + ctx.operandType(1).dim(0).value));
    else
      ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  int64_t outRank = t.rank() + static_cast<int64_t>(a->size());
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalizeAxes(ctx, *a, outRank));
  std::vector<Dim> out;
  size_t src = 0;
  for (int64_t i = 0; i < outRank; ++i) {
    if (std::binary_search(axes.begin(), axes.end(), i))
      out.push_back(Dim(1));
    else
      out.push_back(t.dim(static_cast<int64_t>(src++)));
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  return Status::ok();
}

Status inferShapesConcat(InferContext &ctx) {
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis"));
  DType dt = ctx.operandType(0).elem();
  const TensorType *ranked = nullptr;
  for (size_t i = 0; i < ctx.numOperands(); ++i) {
    if (ctx.operandType(i).elem() != dt)
      return ctx.error("inputs have different element types");
    if (ctx.operandType(i).isRanked())
      ranked = &ctx.operandType(i);
  }
  if (!ranked) {
    ctx.setResultType(0, TensorType::unranked(dt));
    return Status::ok();
  }
  int64_t rank = ranked->rank();
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, rank));
  std::vector<Dim> out = ranked->shape();
  int64_t total = 0;
  bool known = true;
  for (size_t i = 0; i < ctx.numOperands(); ++i) {
    const TensorType &t = ctx.operandType(i);
    if (!t.isRanked()) {
      known = false;
      continue;
    }
    if (t.rank() != rank)
      return ctx.error("inputs have different ranks (" + std::to_string(t.rank()) + " and " + std::to_string(rank) + ")");
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      const Dim &a = out[static_cast<size_t>(d)], &b = t.dim(d);
      if (a.isStatic() && b.isStatic() && a.value != b.value)
        return ctx.error("inputs disagree on dimension " + std::to_string(d) + " (" + std::to_string(a.value) + " vs " +
                         std::to_string(b.value) + ")");
      if (!a.isStatic() && b.isStatic())
        out[static_cast<size_t>(d)] = b;
    }
    if (t.dim(axis).isStatic())
      total += t.dim(axis).value;
    else
      known = false;
  }
  out[static_cast<size_t>(axis)] = known ? Dim(total) : Dim::unknown();
  ctx.setResultType(0, TensorType(dt, out));
  return Status::ok();
}

Status inferShapesExpand(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  auto shape = constInts(ctx, 1);
  if (!shape || !t.isRanked()) {
    const TensorType &s = ctx.operandType(1);
    if (s.isRanked() && s.rank() == 1 && s.dim(0).isStatic() && t.isRanked())
      ctx.setResultType(0, unknownDims(t.elem(), std::max(t.rank(), s.dim(0).value)));
    else
      ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  std::vector<Dim> target;
  for (int64_t d : *shape)
    target.push_back(Dim(d));
  Expected<std::vector<Dim>> out = broadcastDims(t.shape(), target);
  if (!out.isOk())
    return ctx.error(out.status().message());
  ctx.setResultType(0, TensorType(t.elem(), *out));
  return Status::ok();
}

Status inferShapesTile(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  auto reps = constInts(ctx, 1);
  if (!t.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  if (!reps) {
    ctx.setResultType(0, unknownDims(t.elem(), t.rank()));
    return Status::ok();
  }
  if (static_cast<int64_t>(reps->size()) != t.rank())
    return ctx.error("repeats has " + std::to_string(reps->size()) + " entries, the input has rank " + std::to_string(t.rank()));
  std::vector<Dim> out;
  for (int64_t i = 0; i < t.rank(); ++i) {
    int64_t r = (*reps)[static_cast<size_t>(i)];
    if (r < 0)
      return ctx.error("negative repeat");
    if (!t.dim(i).isStatic()) {
      out.push_back(r == 1 ? t.dim(i) : Dim::unknown());
      continue;
    }
    std::optional<int64_t> n = checkedMul(t.dim(i).value, r);
    if (!n)
      return ctx.error("repeats " + std::to_string(r) + " of dim " + std::to_string(i) + " overflow int64");
    out.push_back(Dim(*n));
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  return Status::ok();
}

Status inferShapesSplit(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", 0));
  size_t n = ctx.numResults();
  if (!t.isRanked()) {
    for (size_t i = 0; i < n; ++i)
      ctx.setResultType(i, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, t.rank()));
  std::vector<Dim> sizes(n, Dim::unknown());
  const Dim &d = t.dim(axis);
  if (ctx.hasOperand(1)) {
    auto split = constInts(ctx, 1);
    if (split) {
      if (split->size() != n)
        return ctx.error("split has " + std::to_string(split->size()) + " entries for " + std::to_string(n) + " outputs");
      int64_t sum = 0;
      for (size_t i = 0; i < n; ++i) {
        if ((*split)[i] < 0)
          return ctx.error("negative split size");
        sizes[i] = Dim((*split)[i]);
        sum += (*split)[i];
      }
      if (d.isStatic() && sum != d.value)
        return ctx.error("split sizes sum to " + std::to_string(sum) + ", the axis has " + std::to_string(d.value));
    }
  } else if (d.isStatic()) {
    int64_t parts = static_cast<int64_t>(n);
    int64_t chunk = (d.value + parts - 1) / parts;
    for (size_t i = 0; i < n; ++i) {
      int64_t start = chunk * static_cast<int64_t>(i);
      sizes[i] = Dim(std::max<int64_t>(0, std::min(chunk, d.value - start)));
    }
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<Dim> dims = t.shape();
    dims[static_cast<size_t>(axis)] = sizes[i];
    ctx.setResultType(i, TensorType(t.elem(), dims));
  }
  return Status::ok();
}

Status inferShapesSlice(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  if (!t.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(t.elem()));
    return Status::ok();
  }
  auto starts = constInts(ctx, 1), ends = constInts(ctx, 2);
  std::optional<std::vector<int64_t>> axes, steps;
  if (ctx.hasOperand(3))
    axes = constInts(ctx, 3);
  if (ctx.hasOperand(4))
    steps = constInts(ctx, 4);
  if (!starts || !ends || (ctx.hasOperand(3) && !axes) || (ctx.hasOperand(4) && !steps)) {
    ctx.setResultType(0, unknownDims(t.elem(), t.rank()));
    return Status::ok();
  }
  if (starts->size() != ends->size())
    return ctx.error("starts and ends have different lengths");
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < starts->size(); ++i)
      axes->push_back(static_cast<int64_t>(i));
  }
  if (!steps)
    steps = std::vector<int64_t>(starts->size(), 1);
  if (axes->size() != starts->size() || steps->size() != starts->size())
    return ctx.error("axes/steps lengths differ from starts");
  std::vector<Dim> out = t.shape();
  std::vector<bool> seen(static_cast<size_t>(t.rank()), false);
  for (size_t j = 0; j < axes->size(); ++j) {
    INFC_ASSIGN_OR_RETURN(int64_t ax, normalizeAxis(ctx, (*axes)[j], t.rank()));
    if (seen[static_cast<size_t>(ax)])
      return ctx.error("axes contain duplicates");
    seen[static_cast<size_t>(ax)] = true;
    int64_t step = (*steps)[j];
    if (step == 0)
      return ctx.error("step 0");
    const Dim &d = t.dim(ax);
    if (!d.isStatic()) {
      out[static_cast<size_t>(ax)] = Dim::unknown();
      continue;
    }
    int64_t dim = d.value, s = (*starts)[j], e = (*ends)[j];
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t len;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      len = e - s;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      len = s - e;
    }
    out[static_cast<size_t>(ax)] = Dim(stridedCount(len, step));
  }
  ctx.setResultType(0, TensorType(t.elem(), out));
  return Status::ok();
}

Status inferShapesRange(InferContext &ctx) {
  DType dt = ctx.operandType(0).elem();
  const Tensor *s = ctx.constantOperand(0), *l = ctx.constantOperand(1), *d = ctx.constantOperand(2);
  if (s && l && d && s->numElements() == 1 && l->numElements() == 1 && d->numElements() == 1) {
    Expected<int64_t> n = rangeCount(*s, *l, *d);
    if (!n.isOk())
      return ctx.error(n.status().message());
    ctx.setResultType(0, TensorType::fromStatic(dt, {*n}));
  } else {
    ctx.setResultType(0, unknownDims(dt, 1));
  }
  return Status::ok();
}

Status inferShapesEyeLike(InferContext &ctx) {
  DType dt = ctx.operandType(0).elem();
  INFC_ASSIGN_OR_RETURN(int64_t dtype, ctx.attrs().getInt("dtype", 0));
  if (dtype) {
    std::optional<DType> d = dtypeFromOnnx(static_cast<int32_t>(dtype));
    if (!d)
      return ctx.error("unsupported dtype " + std::to_string(dtype));
    dt = *d;
  }
  const TensorType &t = ctx.operandType(0);
  if (t.isRanked() && t.rank() != 2)
    return ctx.error("input must be 2-D, got rank " + std::to_string(t.rank()));
  ctx.setResultType(0, t.isRanked() ? TensorType(dt, t.shape()) : unknownDims(dt, 2));
  return Status::ok();
}

Status inferShapesTrilu(InferContext &ctx) {
  const TensorType &t = ctx.operandType(0);
  if (t.isRanked() && t.rank() < 2)
    return ctx.error("input must have rank >= 2");
  setSameAs(ctx, 0, 0);
  return Status::ok();
}

Status inferShapesOneHot(InferContext &ctx) {
  const TensorType &idx = ctx.operandType(0);
  DType dt = ctx.operandType(2).elem();
  INFC_ASSIGN_OR_RETURN(int64_t axis, ctx.attrs().getInt("axis", -1));
  if (!idx.isRanked()) {
    ctx.setResultType(0, TensorType::unranked(dt));
    return Status::ok();
  }
  int64_t outRank = idx.rank() + 1;
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(ctx, axis, outRank));
  Dim depth = Dim::unknown();
  if (const Tensor *d = ctx.constantOperand(1)) {
    if (d->numElements() != 1)
      return ctx.error("depth must be a scalar");
    depth = Dim(static_cast<int64_t>(d->getDouble(0)));
  }
  std::vector<Dim> out = idx.shape();
  out.insert(out.begin() + axis, depth);
  ctx.setResultType(0, TensorType(dt, out));
  return Status::ok();
}

} // namespace infc::ops
