// Reference kernels for data-movement and shape ops. They move raw elements (any dtype).
#include "ir/interp/KernelUtil.h"
#include "ir/ops/ShapeUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace infc::interp {

namespace {

/// The op's inferred static result type, when the inference knew it (for shape checks).
Tensor newLike(const Tensor &src, std::vector<int64_t> shape) { return Tensor(src.dtype(), std::move(shape)); }

void copyElem(std::byte *dst, int64_t di, const std::byte *src, int64_t si, size_t esize) {
  std::memcpy(dst + static_cast<size_t>(di) * esize, src + static_cast<size_t>(si) * esize, esize);
}

Expected<std::vector<int64_t>> normAxes(const EvalContext &c, std::vector<int64_t> axes, int64_t rank) {
  for (int64_t &a : axes) {
    INFC_ASSIGN_OR_RETURN(a, normalizeAxis(c, a, rank));
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

} // namespace

Status evalConstant(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(Tensor v, c.attrs().getTensor("value"));
  c.setOutput(0, v);
  return Status::ok();
}

Status evalIdentity(EvalContext &c) {
  c.setOutput(0, c.input(0));
  return Status::ok();
}

Status evalConstantOfShape(EvalContext &c) {
  std::vector<int64_t> shape = toInts(c.input(0));
  Tensor value = Tensor::scalarF32(0.0f);
  if (c.attrs().has("value")) {
    INFC_ASSIGN_OR_RETURN(value, c.attrs().getTensor("value"));
  }
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(value.dtype(), shape, "ConstantOfShape result"));
  size_t es = dtypeSize(value.dtype());
  std::byte *o = out.mutableBytes();
  for (int64_t i = 0; i < out.numElements(); ++i)
    std::memcpy(o + static_cast<size_t>(i) * es, value.bytes(), es);
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalShape(EvalContext &c) {
  int64_t r = c.input(0).rank();
  INFC_ASSIGN_OR_RETURN(int64_t start, c.attrs().getInt("start", 0));
  INFC_ASSIGN_OR_RETURN(int64_t end, c.attrs().getInt("end", r));
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += r;
    return std::max<int64_t>(0, std::min(v, r));
  };
  std::vector<int64_t> dims;
  for (int64_t i = clamp(start); i < clamp(end); ++i)
    dims.push_back(c.input(0).dim(i));
  c.setOutput(0, Tensor::fromI64(dims));
  return Status::ok();
}

Status evalSize(EvalContext &c) {
  c.setOutput(0, Tensor::scalarI64(c.input(0).numElements()));
  return Status::ok();
}

Status evalFlatten(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 1));
  if (axis < 0)
    axis += x.rank();
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < x.rank(); ++i)
    (i < axis ? a : b) *= x.dim(i);
  c.setOutput(0, x.reshaped({a, b}));
  return Status::ok();
}

Status evalReshape(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> shape = toInts(c.input(1));
  INFC_ASSIGN_OR_RETURN(int64_t allowZero, c.attrs().getInt("allowzero", 0));
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (static_cast<int64_t>(i) >= x.rank())
        return c.error("shape copies a dimension the input does not have");
      shape[i] = x.dim(static_cast<int64_t>(i));
    }
    if (shape[i] == -1) {
      if (infer >= 0)
        return c.error("shape has more than one -1");
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      return c.error("invalid shape dimension " + std::to_string(shape[i]));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numElements() % known != 0)
      return c.error("cannot infer the -1 dimension");
    shape[static_cast<size_t>(infer)] = x.numElements() / known;
  }
  INFC_ASSIGN_OR_RETURN(int64_t n, checkedNumElements(shape, "reshape target"));
  if (n != x.numElements())
    return c.error("cannot reshape " + std::to_string(x.numElements()) + " elements into " + std::to_string(n));
  c.setOutput(0, x.reshaped(shape));
  return Status::ok();
}

Status evalTranspose(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> perm, c.attrs().getInts("perm", std::vector<int64_t>{}));
  if (perm.empty())
    for (int64_t i = x.rank() - 1; i >= 0; --i)
      perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != x.rank())
    return c.error("perm does not match the input rank");
  Tensor out = x.transposed(perm);
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalSqueeze(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> axes;
  if (c.hasInput(1)) {
    INFC_ASSIGN_OR_RETURN(axes, normAxes(c, toInts(c.input(1)), x.rank()));
  } else {
    for (int64_t i = 0; i < x.rank(); ++i)
      if (x.dim(i) == 1)
        axes.push_back(i);
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < x.rank(); ++i) {
    bool sq = std::binary_search(axes.begin(), axes.end(), i);
    if (sq && x.dim(i) != 1)
      return c.error("cannot squeeze a dimension of size " + std::to_string(x.dim(i)));
    if (!sq)
      shape.push_back(x.dim(i));
  }
  c.setOutput(0, x.reshaped(shape));
  return Status::ok();
}

Status evalUnsqueeze(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> raw = toInts(c.input(1));
  int64_t outRank = x.rank() + static_cast<int64_t>(raw.size());
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normAxes(c, raw, outRank));
  std::vector<int64_t> shape;
  int64_t src = 0;
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(std::binary_search(axes.begin(), axes.end(), i) ? 1 : x.dim(src++));
  c.setOutput(0, x.reshaped(shape));
  return Status::ok();
}

Status evalConcat(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis"));
  const Tensor &first = c.input(0);
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, first.rank()));
  std::vector<int64_t> shape = first.shape();
  shape[static_cast<size_t>(axis)] = 0;
  for (size_t i = 0; i < c.numInputs(); ++i) {
    const Tensor &t = c.input(i);
    if (t.rank() != first.rank())
      return c.error("inputs have different ranks");
    for (int64_t d = 0; d < t.rank(); ++d)
      if (d != axis && t.dim(d) != first.dim(d))
        return c.error("inputs disagree on dimension " + std::to_string(d));
    shape[static_cast<size_t>(axis)] += t.dim(axis);
  }
  Tensor out = newLike(first, shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < first.rank(); ++d)
    inner *= shape[static_cast<size_t>(d)];
  size_t es = dtypeSize(first.dtype());
  std::byte *o = out.mutableBytes();
  int64_t outRow = shape[static_cast<size_t>(axis)] * inner, offset = 0;
  for (size_t i = 0; i < c.numInputs(); ++i) {
    const Tensor &t = c.input(i);
    int64_t row = t.dim(axis) * inner;
    for (int64_t k = 0; k < outer; ++k)
      if (row)
        std::memcpy(o + static_cast<size_t>(k * outRow + offset) * es, t.bytes() + static_cast<size_t>(k * row) * es,
                    static_cast<size_t>(row) * es);
    offset += row;
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalExpand(EvalContext &c) {
  const Tensor &x = c.input(0);
  Expected<std::vector<int64_t>> shape = broadcastShapes(x.shape(), toInts(c.input(1)));
  if (!shape.isOk())
    return c.error(shape.status().message());
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(x.dtype(), *shape, "Expand result"));
  IndexWalker w(*shape, {broadcastStrides(x.shape(), *shape)});
  size_t es = dtypeSize(x.dtype());
  std::byte *o = out.mutableBytes();
  for (int64_t i = 0; !w.done(); w.next(), ++i)
    copyElem(o, i, x.bytes(), w.offset(0), es);
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalTile(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> reps = toInts(c.input(1));
  if (static_cast<int64_t>(reps.size()) != x.rank())
    return c.error("repeats does not match the input rank");
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < x.rank(); ++i)
    shape.push_back(x.dim(i) * reps[static_cast<size_t>(i)]);
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(x.dtype(), shape, "Tile result"));
  std::vector<int64_t> st = x.strides();
  size_t es = dtypeSize(x.dtype());
  std::byte *o = out.mutableBytes();
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t r = i, off = 0;
    for (int64_t d = x.rank() - 1; d >= 0; --d) {
      int64_t k = r % shape[static_cast<size_t>(d)];
      r /= shape[static_cast<size_t>(d)];
      off += (k % x.dim(d)) * st[static_cast<size_t>(d)];
    }
    copyElem(o, i, x.bytes(), off, es);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalSplit(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  size_t n = c.numOutputs();
  std::vector<int64_t> sizes;
  int64_t dim = x.dim(axis);
  if (c.hasInput(1)) {
    sizes = toInts(c.input(1));
    if (sizes.size() != n)
      return c.error("split has " + std::to_string(sizes.size()) + " entries for " + std::to_string(n) + " outputs");
  } else {
    int64_t chunk = (dim + static_cast<int64_t>(n) - 1) / static_cast<int64_t>(n);
    for (size_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * static_cast<int64_t>(i))));
  }
  int64_t sum = 0;
  for (int64_t s : sizes)
    sum += s;
  if (sum != dim)
    return c.error("split sizes sum to " + std::to_string(sum) + ", the axis has " + std::to_string(dim));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  size_t es = dtypeSize(x.dtype());
  int64_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<int64_t> shape = x.shape();
    shape[static_cast<size_t>(axis)] = sizes[i];
    Tensor out = newLike(x, shape);
    int64_t row = sizes[i] * inner;
    std::byte *o = out.mutableBytes();
    for (int64_t k = 0; k < outer; ++k)
      if (row)
        std::memcpy(o + static_cast<size_t>(k * row) * es, x.bytes() + static_cast<size_t>(k * dim * inner + offset) * es,
                    static_cast<size_t>(row) * es);
    offset += row;
    c.setOutput(i, std::move(out));
  }
  return Status::ok();
}

Status evalSlice(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> starts = toInts(c.input(1)), ends = toInts(c.input(2));
  std::vector<int64_t> axes, steps;
  if (c.hasInput(3))
    axes = toInts(c.input(3));
  else
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (c.hasInput(4))
    steps = toInts(c.input(4));
  else
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return c.error("starts, ends, axes and steps have different lengths");
  std::vector<int64_t> start(static_cast<size_t>(x.rank()), 0), step(static_cast<size_t>(x.rank()), 1), shape = x.shape();
  for (size_t j = 0; j < axes.size(); ++j) {
    INFC_ASSIGN_OR_RETURN(int64_t ax, normalizeAxis(c, axes[j], x.rank()));
    int64_t dim = x.dim(ax), s = starts[j], e = ends[j], st = steps[j];
    if (st == 0)
      return c.error("step 0");
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t len;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      len = ops::stridedCount(e - s, st);
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      len = ops::stridedCount(s - e, st);
    }
    start[static_cast<size_t>(ax)] = s;
    // With one element or none the step is never applied: 1 keeps the stride products bounded.
    step[static_cast<size_t>(ax)] = len > 1 ? st : 1;
    shape[static_cast<size_t>(ax)] = len;
  }
  Tensor out = newLike(x, shape);
  std::vector<int64_t> st = x.strides(), wst(st.size());
  int64_t base = 0;
  for (size_t d = 0; d < st.size(); ++d) {
    base += start[d] * st[d];
    wst[d] = step[d] * st[d];
  }
  IndexWalker w(shape, {wst});
  size_t es = dtypeSize(x.dtype());
  std::byte *o = out.mutableBytes();
  for (int64_t i = 0; !w.done(); w.next(), ++i)
    copyElem(o, i, x.bytes(), base + w.offset(0), es);
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalRange(EvalContext &c) {
  const Tensor &s = c.input(0), &l = c.input(1), &d = c.input(2);
  DType dt = s.dtype();
  Expected<int64_t> count = ops::rangeCount(s, l, d);
  if (!count.isOk())
    return c.error(count.status().message());
  int64_t n = *count;
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(dt, {n}, "Range result"));
  double start = s.getDouble(0), delta = d.getDouble(0);
  for (int64_t i = 0; i < n; ++i) {
    if (isFloat(dt))
      out.setDouble(i, start + static_cast<double>(i) * delta);
    else // exact modulo 2^64; every element lies between start and limit, so it fits
      out.setInt(i, static_cast<int64_t>(static_cast<uint64_t>(s.getInt(0)) +
                                         static_cast<uint64_t>(i) * static_cast<uint64_t>(d.getInt(0))));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalEyeLike(EvalContext &c) {
  const Tensor &x = c.input(0);
  DType dt = c.op().result()->type().elem();
  INFC_ASSIGN_OR_RETURN(int64_t k, c.attrs().getInt("k", 0));
  if (x.rank() != 2)
    return c.error("input must be 2-D");
  Tensor out(dt, x.shape());
  for (int64_t i = 0; i < x.dim(0); ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < x.dim(1))
      out.setInt(i * x.dim(1) + j, 1);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalTrilu(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t upper, c.attrs().getInt("upper", 1));
  int64_t k = c.hasInput(1) ? c.input(1).getInt(0) : 0;
  Tensor out = x.clone();
  int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  size_t es = dtypeSize(x.dtype());
  std::byte *o = out.mutableBytes();
  int64_t mats = rows * cols ? x.numElements() / (rows * cols) : 0;
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        bool keep = upper ? (j - i >= k) : (j - i <= k);
        if (!keep)
          std::memset(o + static_cast<size_t>((m * rows + i) * cols + j) * es, 0, es);
      }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalOneHot(EvalContext &c) {
  const Tensor &idx = c.input(0), &values = c.input(2);
  int64_t depth = static_cast<int64_t>(c.input(1).getDouble(0));
  if (depth < 0)
    return c.error("negative depth");
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", -1));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, idx.rank() + 1));
  if (values.numElements() != 2)
    return c.error("values must have two elements");
  std::vector<int64_t> shape = idx.shape();
  shape.insert(shape.begin() + axis, depth);
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(values.dtype(), shape, "OneHot result"));
  size_t es = dtypeSize(values.dtype());
  std::byte *o = out.mutableBytes();
  for (int64_t i = 0; i < out.numElements(); ++i)
    copyElem(o, i, values.bytes(), 0, es);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      int64_t v = static_cast<int64_t>(idx.getDouble(a * inner + b));
      if (v < 0)
        v += depth;
      if (v < 0 || v >= depth)
        continue;
      copyElem(o, (a * depth + v) * inner + b, values.bytes(), 1, es);
    }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

} // namespace infc::interp
