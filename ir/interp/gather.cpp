// Reference kernels for gathers, scatters, Pad, Resize, DepthToSpace and SpaceToDepth.
#include "ir/interp/KernelUtil.h"

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

namespace {
/// Taps (input index, weight) for one output coordinate along one axis.
using Taps = std::vector<std::pair<int64_t, double>>;

double cubicWeight(double x, double a) {
  x = std::fabs(x);
  if (x <= 1)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}
} // namespace

Status evalResize(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(std::string mode, c.attrs().getString("mode", "nearest"));
  INFC_ASSIGN_OR_RETURN(std::string ctm, c.attrs().getString("coordinate_transformation_mode", "half_pixel"));
  INFC_ASSIGN_OR_RETURN(std::string nearestMode, c.attrs().getString("nearest_mode", "round_prefer_floor"));
  INFC_ASSIGN_OR_RETURN(float cubicA, c.attrs().getFloat("cubic_coeff_a", -0.75f));
  INFC_ASSIGN_OR_RETURN(int64_t excludeOutside, c.attrs().getInt("exclude_outside", 0));
  INFC_ASSIGN_OR_RETURN(float extrapolation, c.attrs().getFloat("extrapolation_value", 0.0f));
  INFC_ASSIGN_OR_RETURN(int64_t antialias, c.attrs().getInt("antialias", 0));
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, c.attrs().getInts("axes", std::vector<int64_t>{}));
  INFC_ASSIGN_OR_RETURN(std::string policy, c.attrs().getString("keep_aspect_ratio_policy", "stretch"));
  if (antialias)
    return Status(StatusCode::Unsupported, c.op().describe() + ": Resize with antialias is not supported");
  int64_t rank = x.rank();
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  std::vector<double> scale(static_cast<size_t>(rank), 1.0);
  std::vector<int64_t> outShape = x.shape();
  bool haveSizes = c.hasInput(3) && c.input(3).numElements() > 0;
  if (haveSizes) {
    std::vector<int64_t> sizes = toInts(c.input(3));
    if (sizes.size() != axes.size())
      return c.error("sizes does not match axes");
    if (policy != "stretch") {
      double s = policy == "not_larger" ? 1e300 : 0;
      for (size_t j = 0; j < axes.size(); ++j) {
        double r = static_cast<double>(sizes[j]) / static_cast<double>(x.dim(axes[j]));
        s = policy == "not_larger" ? std::min(s, r) : std::max(s, r);
      }
      for (int64_t a : axes) {
        scale[static_cast<size_t>(a)] = s;
        outShape[static_cast<size_t>(a)] = static_cast<int64_t>(std::round(s * static_cast<double>(x.dim(a))));
      }
    } else {
      for (size_t j = 0; j < axes.size(); ++j) {
        int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
        outShape[static_cast<size_t>(a)] = sizes[j];
        scale[static_cast<size_t>(a)] = static_cast<double>(sizes[j]) / static_cast<double>(x.dim(a));
      }
    }
  } else if (c.hasInput(2) && c.input(2).numElements() > 0) {
    const Tensor &sc = c.input(2);
    if (static_cast<size_t>(sc.numElements()) != axes.size())
      return c.error("scales does not match axes");
    for (size_t j = 0; j < axes.size(); ++j) {
      int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
      scale[static_cast<size_t>(a)] = sc.getDouble(static_cast<int64_t>(j));
      outShape[static_cast<size_t>(a)] = static_cast<int64_t>(std::floor(static_cast<double>(x.dim(a)) * scale[static_cast<size_t>(a)]));
    }
  } else {
    return c.error("one of scales or sizes must be given");
  }
  std::vector<double> roiStart(static_cast<size_t>(rank), 0.0), roiEnd(static_cast<size_t>(rank), 1.0);
  if (ctm == "tf_crop_and_resize" && c.hasInput(1) && c.input(1).numElements() > 0) {
    const Tensor &roi = c.input(1);
    size_t n = axes.size();
    for (size_t j = 0; j < n; ++j) {
      int64_t a = axes[j] < 0 ? axes[j] + rank : axes[j];
      roiStart[static_cast<size_t>(a)] = roi.getDouble(static_cast<int64_t>(j));
      roiEnd[static_cast<size_t>(a)] = roi.getDouble(static_cast<int64_t>(j + n));
    }
  }
  // Per-axis taps; an empty tap list marks extrapolation.
  std::vector<std::vector<Taps>> taps(static_cast<size_t>(rank));
  for (int64_t a = 0; a < rank; ++a) {
    int64_t in = x.dim(a), out = outShape[static_cast<size_t>(a)];
    double s = scale[static_cast<size_t>(a)];
    for (int64_t o = 0; o < out; ++o) {
      double xo;
      if (ctm == "half_pixel")
        xo = (o + 0.5) / s - 0.5;
      else if (ctm == "half_pixel_symmetric") {
        double adj = static_cast<double>(out) / (s * static_cast<double>(in));
        double center = static_cast<double>(in) / 2;
        double offset = center * (1 - adj);
        xo = offset + (o + 0.5) / s - 0.5;
      } else if (ctm == "pytorch_half_pixel")
        xo = out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
      else if (ctm == "align_corners") {
        // The resized length is scale * in (not floored), as the ONNX reference computes it.
        double len = s * static_cast<double>(in);
        xo = len == 1 ? 0.0 : o * static_cast<double>(in - 1) / (len - 1);
      } else if (ctm == "tf_half_pixel_for_nn")
        xo = (o + 0.5) / s;
      else if (ctm == "asymmetric")
        xo = o / s;
      else if (ctm == "tf_crop_and_resize") {
        double st = roiStart[static_cast<size_t>(a)], en = roiEnd[static_cast<size_t>(a)];
        xo = out > 1 ? st * (in - 1) + o * (en - st) * (in - 1) / static_cast<double>(out - 1) : 0.5 * (st + en) * (in - 1);
      } else
        return c.error("unknown coordinate_transformation_mode '" + ctm + "'");
      Taps t;
      if (ctm == "tf_crop_and_resize" && (xo < 0 || xo > in - 1)) {
        taps[static_cast<size_t>(a)].push_back(t);
        continue;
      }
      if (mode == "nearest") {
        int64_t i;
        if (nearestMode == "round_prefer_floor")
          i = (xo - std::floor(xo) == 0.5) ? static_cast<int64_t>(std::floor(xo)) : static_cast<int64_t>(std::round(xo));
        else if (nearestMode == "round_prefer_ceil")
          i = static_cast<int64_t>(std::round(xo));
        else if (nearestMode == "floor")
          i = static_cast<int64_t>(std::floor(xo));
        else if (nearestMode == "ceil")
          i = static_cast<int64_t>(std::ceil(xo));
        else
          return c.error("unknown nearest_mode '" + nearestMode + "'");
        t.push_back({std::clamp<int64_t>(i, 0, in - 1), 1.0});
      } else if (mode == "linear") {
        double xc = std::clamp(xo, 0.0, static_cast<double>(in - 1));
        int64_t x0 = static_cast<int64_t>(std::floor(xc)), x1 = std::min(x0 + 1, in - 1);
        double f = xc - static_cast<double>(x0);
        t.push_back({x0, 1 - f});
        t.push_back({x1, f});
      } else if (mode == "cubic") {
        int64_t x0 = static_cast<int64_t>(std::floor(xo));
        double f = xo - static_cast<double>(x0), sum = 0;
        for (int64_t k = -1; k <= 2; ++k) {
          double w = cubicWeight(static_cast<double>(k) - f, cubicA);
          int64_t i = x0 + k;
          if (i < 0 || i >= in) {
            if (excludeOutside)
              continue;
            i = std::clamp<int64_t>(i, 0, in - 1);
          }
          t.push_back({i, w});
          sum += w;
        }
        if (excludeOutside && sum != 0)
          for (auto &p : t)
            p.second /= sum;
      } else {
        return c.error("unknown mode '" + mode + "'");
      }
      taps[static_cast<size_t>(a)].push_back(t);
    }
  }
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
