// Reference kernels for gathers, scatters, Pad, Resize, DepthToSpace and SpaceToDepth.
#include "ir/interp/KernelUtil.h"

#include "ir/ops/ResizeGeometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace infc::interp {

namespace {

void copyElem(std::byte *dst, int64_t di, const std::byte *src, int64_t si, size_t es) {
  std::memcpy(dst + static_cast<size_t>(di) * es, src + static_cast<size_t>(si) * es, es);
}

Expected<int64_t> fixIndex(const EvalContext &c, int64_t idx, int64_t dim) {
  if (idx < -dim || idx >= dim)
    return c.error("index " + std::to_string(idx) + " is out of range for a dimension of size " + std::to_string(dim));
  return idx < 0 ? idx + dim : idx;
}

} // namespace

Status evalGather(EvalContext &c) {
  const Tensor &d = c.input(0), &idx = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, d.rank()));
  std::vector<int64_t> shape(d.shape().begin(), d.shape().begin() + axis);
  shape.insert(shape.end(), idx.shape().begin(), idx.shape().end());
  shape.insert(shape.end(), d.shape().begin() + axis + 1, d.shape().end());
  Tensor out(d.dtype(), shape);
  int64_t outer = 1, inner = 1, dim = d.dim(axis);
  for (int64_t k = 0; k < axis; ++k)
    outer *= d.dim(k);
  for (int64_t k = axis + 1; k < d.rank(); ++k)
    inner *= d.dim(k);
  size_t es = dtypeSize(d.dtype());
  int64_t n = idx.numElements();
  std::byte *o = out.mutableBytes();
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < n; ++j) {
      INFC_ASSIGN_OR_RETURN(int64_t ix, fixIndex(c, idx.getInt(j), dim));
      if (inner)
        std::memcpy(o + static_cast<size_t>((a * n + j) * inner) * es, d.bytes() + static_cast<size_t>((a * dim + ix) * inner) * es,
                    static_cast<size_t>(inner) * es);
    }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalGatherElements(EvalContext &c) {
  const Tensor &d = c.input(0), &idx = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, d.rank()));
  Tensor out(d.dtype(), idx.shape());
  std::vector<int64_t> st = d.strides();
  size_t es = dtypeSize(d.dtype());
  IndexWalker w(idx.shape(), {});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    INFC_ASSIGN_OR_RETURN(int64_t ix, fixIndex(c, idx.getInt(i), d.dim(axis)));
    int64_t off = 0;
    for (int64_t k = 0; k < d.rank(); ++k)
      off += (k == axis ? ix : w.index()[static_cast<size_t>(k)]) * st[static_cast<size_t>(k)];
    copyElem(out.mutableBytes(), i, d.bytes(), off, es);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalGatherND(EvalContext &c) {
  const Tensor &d = c.input(0), &idx = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t b, c.attrs().getInt("batch_dims", 0));
  int64_t last = idx.dim(idx.rank() - 1);
  std::vector<int64_t> shape(idx.shape().begin(), idx.shape().end() - 1);
  shape.insert(shape.end(), d.shape().begin() + b + last, d.shape().end());
  Tensor out(d.dtype(), shape);
  int64_t slice = 1, batch = 1;
  for (int64_t k = b + last; k < d.rank(); ++k)
    slice *= d.dim(k);
  for (int64_t k = 0; k < b; ++k)
    batch *= d.dim(k);
  std::vector<int64_t> st = d.strides();
  int64_t tuples = idx.numElements() / std::max<int64_t>(last, 1), perBatch = tuples / std::max<int64_t>(batch, 1);
  int64_t batchStride = b > 0 ? st[static_cast<size_t>(b - 1)] : 0;
  size_t es = dtypeSize(d.dtype());
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (t / std::max<int64_t>(perBatch, 1)) * batchStride;
    for (int64_t k = 0; k < last; ++k) {
      INFC_ASSIGN_OR_RETURN(int64_t ix, fixIndex(c, idx.getInt(t * last + k), d.dim(b + k)));
      off += ix * st[static_cast<size_t>(b + k)];
    }
    if (slice)
      std::memcpy(out.mutableBytes() + static_cast<size_t>(t * slice) * es, d.bytes() + static_cast<size_t>(off) * es,
                  static_cast<size_t>(slice) * es);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

namespace {
Status combine(const EvalContext &c, Tensor &out, int64_t at, const Tensor &upd, int64_t from, const std::string &red) {
  if (red == "none") {
    copyElem(out.mutableBytes(), at, upd.bytes(), from, dtypeSize(out.dtype()));
    return Status::ok();
  }
  double a = out.getDouble(at), v = upd.getDouble(from);
  double r = red == "add" ? a + v : red == "mul" ? a * v : red == "max" ? std::max(a, v) : red == "min" ? std::min(a, v) : NAN;
  if (std::isnan(r) && red != "add" && red != "mul" && red != "max" && red != "min")
    return c.error("unknown reduction '" + red + "'");
  if (isFloat(out.dtype()))
    out.setDouble(at, r);
  else
    out.setInt(at, static_cast<int64_t>(r));
  return Status::ok();
}
} // namespace

Status evalScatterElements(EvalContext &c) {
  const Tensor &d = c.input(0), &idx = c.input(1), &upd = c.input(2);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(std::string red, c.attrs().getString("reduction", "none"));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, d.rank()));
  if (idx.shape() != upd.shape())
    return c.error("indices and updates must have the same shape");
  Tensor out = d.clone();
  std::vector<int64_t> st = d.strides();
  IndexWalker w(idx.shape(), {});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    INFC_ASSIGN_OR_RETURN(int64_t ix, fixIndex(c, idx.getInt(i), d.dim(axis)));
    int64_t off = 0;
    for (int64_t k = 0; k < d.rank(); ++k)
      off += (k == axis ? ix : w.index()[static_cast<size_t>(k)]) * st[static_cast<size_t>(k)];
    INFC_RETURN_IF_ERROR(combine(c, out, off, upd, i, red));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalScatterND(EvalContext &c) {
  const Tensor &d = c.input(0), &idx = c.input(1), &upd = c.input(2);
  INFC_ASSIGN_OR_RETURN(std::string red, c.attrs().getString("reduction", "none"));
  int64_t last = idx.dim(idx.rank() - 1);
  int64_t slice = 1;
  for (int64_t k = last; k < d.rank(); ++k)
    slice *= d.dim(k);
  std::vector<int64_t> st = d.strides();
  Tensor out = d.clone();
  int64_t tuples = idx.numElements() / std::max<int64_t>(last, 1);
  if (upd.numElements() != tuples * slice)
    return c.error("updates have the wrong number of elements");
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t k = 0; k < last; ++k) {
      INFC_ASSIGN_OR_RETURN(int64_t ix, fixIndex(c, idx.getInt(t * last + k), d.dim(k)));
      off += ix * st[static_cast<size_t>(k)];
    }
    for (int64_t s = 0; s < slice; ++s)
      INFC_RETURN_IF_ERROR(combine(c, out, off + s, upd, t * slice + s, red));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalPad(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<int64_t> pads = toInts(c.input(1)), axes;
  INFC_ASSIGN_OR_RETURN(std::string mode, c.attrs().getString("mode", "constant"));
  if (c.hasInput(3))
    axes = toInts(c.input(3));
  else
    for (int64_t i = 0; i < x.rank(); ++i)
      axes.push_back(i);
  if (pads.size() != 2 * axes.size())
    return c.error("pads has the wrong length");
  std::vector<int64_t> begin(static_cast<size_t>(x.rank()), 0), end(static_cast<size_t>(x.rank()), 0);
  for (size_t j = 0; j < axes.size(); ++j) {
    INFC_ASSIGN_OR_RETURN(int64_t a, normalizeAxis(c, axes[j], x.rank()));
    begin[static_cast<size_t>(a)] = pads[j];
    end[static_cast<size_t>(a)] = pads[j + axes.size()];
  }
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.rank(); ++d)
    shape.push_back(x.dim(d) + begin[static_cast<size_t>(d)] + end[static_cast<size_t>(d)]);
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(x.dtype(), shape, "Pad result"));
  double value = c.hasInput(2) && c.input(2).numElements() ? c.input(2).getDouble(0) : 0.0;
  std::vector<int64_t> st = x.strides();
  size_t es = dtypeSize(x.dtype());
  IndexWalker w(shape, {});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    int64_t off = 0;
    bool inside = true;
    for (int64_t d = 0; d < x.rank(); ++d) {
      int64_t p = w.index()[static_cast<size_t>(d)] - begin[static_cast<size_t>(d)], n = x.dim(d);
      if (p < 0 || p >= n) {
        if (mode == "constant" || n == 0) {
          inside = false;
          break;
        }
        if (mode == "edge")
          p = p < 0 ? 0 : n - 1;
        else if (mode == "reflect") {
          if (n == 1)
            p = 0;
          else {
            int64_t period = 2 * (n - 1);
            p = ((p % period) + period) % period;
            if (p >= n)
              p = period - p;
          }
        } else if (mode == "wrap")
          p = ((p % n) + n) % n;
        else
          return c.error("unknown pad mode '" + mode + "'");
      }
      off += p * st[static_cast<size_t>(d)];
    }
    if (inside)
      copyElem(out.mutableBytes(), i, x.bytes(), off, es);
    else if (isFloat(x.dtype()))
      out.setDouble(i, value);
    else
      out.setInt(i, static_cast<int64_t>(value));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status evalResize(EvalContext &c) {
  const Tensor &x = c.input(0);
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (c.hasInput(1))
    for (int64_t i = 0; i < c.input(1).numElements(); ++i)
      roi.push_back(c.input(1).getDouble(i));
  if (c.hasInput(2))
    for (int64_t i = 0; i < c.input(2).numElements(); ++i)
      scales.push_back(c.input(2).getDouble(i));
  if (c.hasInput(3))
    sizes = toInts(c.input(3));
  Expected<ops::ResizePlan> plan = ops::planResize(c.attrs(), x.shape(), scales, sizes, roi);
  if (!plan.isOk())
    return plan.status().code() == StatusCode::Unsupported ? Status(StatusCode::Unsupported, c.op().describe() + ": " + plan.status().message())
                                                           : c.error(plan.status().message());
  const std::vector<int64_t> &outShape = plan->outShape;
  const auto &taps = plan->taps;
  const int64_t rank = x.rank();
  const float extrapolation = plan->extrapolation;
  using Taps = ops::ResizeTaps;
  INFC_ASSIGN_OR_RETURN(Tensor out, Tensor::create(x.dtype(), outShape, "Resize result"));
  std::vector<int64_t> st = x.strides();
  IndexWalker w(outShape, {});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    // Sum over the product of per-axis taps.
    double acc = 0;
    bool extrapolate = false;
    std::vector<const Taps *> per(static_cast<size_t>(rank));
    for (int64_t a = 0; a < rank; ++a) {
      per[static_cast<size_t>(a)] = &taps[static_cast<size_t>(a)][static_cast<size_t>(w.index()[static_cast<size_t>(a)])];
      if (per[static_cast<size_t>(a)]->empty())
        extrapolate = true;
    }
    if (extrapolate) {
      out.setDouble(i, extrapolation);
      continue;
    }
    std::vector<size_t> k(static_cast<size_t>(rank), 0);
    while (true) {
      double wgt = 1;
      int64_t off = 0;
      for (int64_t a = 0; a < rank; ++a) {
        const auto &p = (*per[static_cast<size_t>(a)])[k[static_cast<size_t>(a)]];
        wgt *= p.second;
        off += p.first * st[static_cast<size_t>(a)];
      }
      acc += wgt * x.getDouble(off);
      int64_t a = rank - 1;
      for (; a >= 0; --a) {
        if (++k[static_cast<size_t>(a)] < per[static_cast<size_t>(a)]->size())
          break;
        k[static_cast<size_t>(a)] = 0;
      }
      if (a < 0)
        break;
    }
    if (isFloat(x.dtype()))
      out.setDouble(i, acc);
    else
      out.setInt(i, static_cast<int64_t>(std::nearbyint(acc)));
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

namespace {
Status depthSpace(EvalContext &c, bool toSpace) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t bs, c.attrs().getInt("blocksize"));
  INFC_ASSIGN_OR_RETURN(std::string mode, c.attrs().getString("mode", "DCR"));
  if (x.rank() != 4)
    return c.error("input must be 4-D");
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  std::vector<int64_t> outShape = toSpace ? std::vector<int64_t>{N, C / (bs * bs), H * bs, W * bs}
                                          : std::vector<int64_t>{N, C * bs * bs, H / bs, W / bs};
  Tensor out(x.dtype(), outShape);
  size_t es = dtypeSize(x.dtype());
  IndexWalker w(outShape, {});
  for (int64_t i = 0; !w.done(); w.next(), ++i) {
    const auto &o = w.index();
    int64_t n = o[0], ch = o[1], h = o[2], wd = o[3], src;
    if (toSpace) {
      int64_t Co = outShape[1], bh = h % bs, bw = wd % bs, ic;
      if (mode == "DCR")
        ic = (bh * bs + bw) * Co + ch;
      else
        ic = ch * bs * bs + bh * bs + bw;
      src = ((n * C + ic) * H + h / bs) * W + wd / bs;
    } else {
      int64_t blk = ch / C, ic = ch % C, bh = blk / bs, bw = blk % bs;
      src = ((n * C + ic) * H + h * bs + bh) * W + wd * bs + bw;
    }
    copyElem(out.mutableBytes(), i, x.bytes(), src, es);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}
} // namespace

Status evalDepthToSpace(EvalContext &c) { return depthSpace(c, true); }
Status evalSpaceToDepth(EvalContext &c) { return depthSpace(c, false); }

} // namespace infc::interp
