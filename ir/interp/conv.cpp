// Reference kernels for Conv (im2col + double GEMM), ConvTranspose (scatter), pooling and LRN.
#include "ir/interp/KernelUtil.h"

#include "ir/ops/ConvGeometry.h"

#include <cmath>
#include <limits>

namespace infc::interp {

namespace {

int64_t product(const std::vector<int64_t> &v) {
  int64_t p = 1;
  for (int64_t d : v)
    p *= d;
  return p;
}

std::vector<int64_t> spatial(const Tensor &t) { return std::vector<int64_t>(t.shape().begin() + 2, t.shape().end()); }

/// Input flat offset (within one channel) of output position `o` and kernel tap `k`, or -1 in padding.
int64_t tapOffset(const std::vector<int64_t> &o, const std::vector<int64_t> &k, const ops::WindowGeometry &g,
                  const std::vector<int64_t> &in) {
  int64_t off = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t p = o[i] * g.strides[i] - g.padsBegin[i] + k[i] * g.dilations[i];
    if (p < 0 || p >= in[i])
      return -1;
    off = off * in[i] + p;
  }
  return off;
}

Expected<ops::WindowGeometry> geometry(const EvalContext &c, const std::vector<int64_t> &kernel, const std::vector<int64_t> &in,
                                       bool transposed) {
  Expected<ops::WindowGeometry> g = ops::windowGeometry(c.attrs(), kernel, in, transposed);
  if (!g.isOk())
    return c.error(g.status().message());
  return g;
}

} // namespace

Status evalConv(EvalContext &c) {
  const Tensor &X = c.input(0), &W = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t group, c.attrs().getInt("group", 1));
  std::vector<int64_t> in = spatial(X), kernel = spatial(W);
  INFC_ASSIGN_OR_RETURN(ops::WindowGeometry g, geometry(c, kernel, in, false));
  int64_t N = X.dim(0), C = X.dim(1), M = W.dim(0), Cg = W.dim(1);
  if (C != Cg * group || M % group != 0)
    return c.error("channel counts do not match the weights and group");
  std::vector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i)
    out.push_back(ops::windowOutput(g, i, in[i], false));
  int64_t Otot = product(out), Ktot = product(kernel), Itot = product(in), Mg = M / group;
  std::vector<double> x = toDoubles(X), w = toDoubles(W), b;
  if (c.hasInput(2))
    b = toDoubles(c.input(2));
  std::vector<int64_t> yShape = {N, M};
  yShape.insert(yShape.end(), out.begin(), out.end());
  Tensor Y(X.dtype(), yShape);
  std::vector<double> y(static_cast<size_t>(N * M * Otot), 0.0);
  // Tap offsets per (tap, output position), shared by all channels.
  std::vector<int64_t> taps(static_cast<size_t>(Ktot * Otot));
  {
    IndexWalker kw(kernel, {});
    for (int64_t t = 0; !kw.done(); kw.next(), ++t) {
      IndexWalker ow(out, {});
      for (int64_t o = 0; !ow.done(); ow.next(), ++o)
        taps[static_cast<size_t>(t * Otot + o)] = tapOffset(ow.index(), kw.index(), g, in);
    }
  }
  std::vector<double> col(static_cast<size_t>(Cg * Ktot * Otot));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi) {
      for (int64_t cg = 0; cg < Cg; ++cg) {
        const double *xc = x.data() + (n * C + gi * Cg + cg) * Itot;
        for (int64_t t = 0; t < Ktot; ++t) {
          double *dst = col.data() + (cg * Ktot + t) * Otot;
          const int64_t *tp = taps.data() + t * Otot;
          for (int64_t o = 0; o < Otot; ++o)
            dst[o] = tp[o] < 0 ? 0.0 : xc[tp[o]];
        }
      }
      for (int64_t m = 0; m < Mg; ++m) {
        int64_t mo = gi * Mg + m;
        double *yrow = y.data() + (n * M + mo) * Otot;
        double bias = b.empty() ? 0.0 : b[static_cast<size_t>(mo)];
        for (int64_t o = 0; o < Otot; ++o)
          yrow[o] = bias;
        const double *wrow = w.data() + mo * Cg * Ktot;
        for (int64_t r = 0; r < Cg * Ktot; ++r) {
          double wv = wrow[r];
          if (wv == 0.0)
            continue;
          const double *cr = col.data() + r * Otot;
          for (int64_t o = 0; o < Otot; ++o)
            yrow[o] += wv * cr[o];
        }
      }
    }
  storeDoubles(Y, y);
  c.setOutput(0, std::move(Y));
  return Status::ok();
}

Status evalConvTranspose(EvalContext &c) {
  const Tensor &X = c.input(0), &W = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t group, c.attrs().getInt("group", 1));
  std::vector<int64_t> in = spatial(X), kernel = spatial(W);
  INFC_ASSIGN_OR_RETURN(ops::WindowGeometry g, geometry(c, kernel, in, true));
  int64_t N = X.dim(0), C = X.dim(1), Mg = W.dim(1), M = Mg * group, Cg = C / group;
  if (W.dim(0) != C || C % group != 0)
    return c.error("channel counts do not match the weights and group");
  std::vector<int64_t> out;
  const std::vector<int64_t> &yShapeTyped = c.op().result()->type().isStatic() ? c.op().result()->type().staticShape()
                                                                               : std::vector<int64_t>{};
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> outputShape, c.attrs().getInts("output_shape", std::vector<int64_t>{}));
  if (!outputShape.empty() && outputShape.size() < in.size())
    return c.error("output_shape has fewer values than spatial dims");
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t o = outputShape.empty() ? ops::windowOutput(g, i, in[i], true)
                                    : outputShape[outputShape.size() - in.size() + i];
    out.push_back(o);
  }
  if (!outputShape.empty()) {
    // Pads follow from output_shape (SAME_UPPER-style split unless auto_pad says lower).
    INFC_ASSIGN_OR_RETURN(std::string autoPad, c.attrs().getString("auto_pad", "NOTSET"));
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t total = g.strides[i] * (in[i] - 1) + g.outputPadding[i] + (kernel[i] - 1) * g.dilations[i] + 1 - out[i];
      total = std::max<int64_t>(0, total);
      g.padsBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.padsEnd[i] = total - g.padsBegin[i];
    }
  }
  (void)yShapeTyped;
  int64_t Otot = product(out), Ktot = product(kernel), Itot = product(in);
  std::vector<double> x = toDoubles(X), w = toDoubles(W), b;
  if (c.hasInput(2))
    b = toDoubles(c.input(2));
  std::vector<int64_t> yShape = {N, M};
  yShape.insert(yShape.end(), out.begin(), out.end());
  std::vector<double> y(static_cast<size_t>(N * M * Otot), 0.0);
  // Scatter: out = in * stride - padBegin + k * dilation.
  std::vector<int64_t> dst(static_cast<size_t>(Itot * Ktot));
  {
    IndexWalker iw(in, {});
    for (int64_t p = 0; !iw.done(); iw.next(), ++p) {
      IndexWalker kw(kernel, {});
      for (int64_t t = 0; !kw.done(); kw.next(), ++t) {
        int64_t off = 0;
        bool ok = true;
        for (size_t i = 0; i < in.size(); ++i) {
          int64_t q = iw.index()[i] * g.strides[i] - g.padsBegin[i] + kw.index()[i] * g.dilations[i];
          if (q < 0 || q >= out[i]) {
            ok = false;
            break;
          }
          off = off * out[i] + q;
        }
        dst[static_cast<size_t>(p * Ktot + t)] = ok ? off : -1;
      }
    }
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < group; ++gi)
      for (int64_t cg = 0; cg < Cg; ++cg) {
        int64_t ci = gi * Cg + cg;
        const double *xc = x.data() + (n * C + ci) * Itot;
        for (int64_t m = 0; m < Mg; ++m) {
          int64_t mo = gi * Mg + m;
          double *yc = y.data() + (n * M + mo) * Otot;
          const double *wk = w.data() + (ci * Mg + m) * Ktot;
          for (int64_t p = 0; p < Itot; ++p) {
            double xv = xc[p];
            const int64_t *d = dst.data() + p * Ktot;
            for (int64_t t = 0; t < Ktot; ++t)
              if (d[t] >= 0)
                yc[d[t]] += xv * wk[t];
          }
        }
      }
  if (!b.empty())
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t o = 0; o < Otot; ++o)
          y[static_cast<size_t>((n * M + m) * Otot + o)] += b[static_cast<size_t>(m)];
  Tensor Y(X.dtype(), yShape);
  storeDoubles(Y, y);
  c.setOutput(0, std::move(Y));
  return Status::ok();
}

namespace {

Status pool(EvalContext &c, bool isMax) {
  const Tensor &X = c.input(0);
  INFC_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, c.attrs().getInts("kernel_shape"));
  std::vector<int64_t> in = spatial(X);
  if (kernel.size() != in.size())
    return c.error("kernel_shape does not match the input's spatial dims");
  INFC_ASSIGN_OR_RETURN(ops::WindowGeometry g, geometry(c, kernel, in, false));
  INFC_ASSIGN_OR_RETURN(int64_t countPad, c.attrs().getInt("count_include_pad", 0));
  INFC_ASSIGN_OR_RETURN(int64_t storageOrder, c.attrs().getInt("storage_order", 0));
  std::vector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i)
    out.push_back(ops::windowOutput(g, i, in[i], false));
  int64_t N = X.dim(0), C = X.dim(1), Otot = product(out), Itot = product(in);
  std::vector<double> x = toDoubles(X);
  std::vector<int64_t> yShape = {N, C};
  yShape.insert(yShape.end(), out.begin(), out.end());
  std::vector<double> y(static_cast<size_t>(N * C * Otot));
  Tensor idx(DType::I64, yShape);
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const double *xc = x.data() + nc * Itot;
    IndexWalker ow(out, {});
    for (int64_t o = 0; !ow.done(); ow.next(), ++o) {
      double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
      int64_t count = 0, best = -1, bestPos = 0;
      IndexWalker kw(kernel, {});
      for (; !kw.done(); kw.next()) {
        bool inside = true, inPaddedArea = true;
        int64_t off = 0, colOff = 0, colStride = 1;
        for (size_t i = 0; i < in.size(); ++i) {
          int64_t p = ow.index()[i] * g.strides[i] - g.padsBegin[i] + kw.index()[i] * g.dilations[i];
          if (p < 0 || p >= in[i])
            inside = false;
          if (p < -g.padsBegin[i] || p >= in[i] + g.padsEnd[i])
            inPaddedArea = false;
          off = off * in[i] + p;
          colOff += p * colStride;
          colStride *= in[i];
        }
        if (!inside) {
          if (!isMax && countPad && inPaddedArea)
            ++count;
          continue;
        }
        double v = xc[off];
        ++count;
        if (isMax) {
          if (v > acc || best < 0) {
            acc = v;
            best = off;
            bestPos = colOff;
          }
        } else {
          acc += v;
        }
      }
      if (!isMax)
        acc = count ? acc / static_cast<double>(count) : 0.0;
      y[static_cast<size_t>(nc * Otot + o)] = acc;
      if (isMax)
        idx.setInt(nc * Otot + o, nc * Itot + (storageOrder ? bestPos : best));
    }
  }
  Tensor Y(X.dtype(), yShape);
  storeDoubles(Y, y);
  c.setOutput(0, std::move(Y));
  if (c.numOutputs() > 1)
    c.setOutput(1, std::move(idx));
  return Status::ok();
}

Status globalPool(EvalContext &c, bool isMax) {
  const Tensor &X = c.input(0);
  int64_t N = X.dim(0), C = X.dim(1), Itot = product(spatial(X));
  std::vector<double> x = toDoubles(X), y(static_cast<size_t>(N * C));
  for (int64_t nc = 0; nc < N * C; ++nc) {
    double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < Itot; ++i) {
      double v = x[static_cast<size_t>(nc * Itot + i)];
      acc = isMax ? std::max(acc, v) : acc + v;
    }
    y[static_cast<size_t>(nc)] = isMax ? acc : acc / static_cast<double>(Itot);
  }
  std::vector<int64_t> shape = {N, C};
  for (int64_t d = 2; d < X.rank(); ++d)
    shape.push_back(1);
  Tensor Y(X.dtype(), shape);
  storeDoubles(Y, y);
  c.setOutput(0, std::move(Y));
  return Status::ok();
}

} // namespace

Status evalAveragePool(EvalContext &c) { return pool(c, false); }
Status evalMaxPool(EvalContext &c) { return pool(c, true); }
Status evalGlobalAveragePool(EvalContext &c) { return globalPool(c, false); }
Status evalGlobalMaxPool(EvalContext &c) { return globalPool(c, true); }

Status evalLRN(EvalContext &c) {
  const Tensor &X = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t size, c.attrs().getInt("size"));
  INFC_ASSIGN_OR_RETURN(float alpha, c.attrs().getFloat("alpha", 0.0001f));
  INFC_ASSIGN_OR_RETURN(float beta, c.attrs().getFloat("beta", 0.75f));
  INFC_ASSIGN_OR_RETURN(float bias, c.attrs().getFloat("bias", 1.0f));
  int64_t N = X.dim(0), C = X.dim(1), inner = product(spatial(X));
  std::vector<double> x = toDoubles(X), y(x.size());
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, ch - lo); k <= std::min(C - 1, ch + hi); ++k) {
          double v = x[static_cast<size_t>((n * C + k) * inner + i)];
          sq += v * v;
        }
        size_t at = static_cast<size_t>((n * C + ch) * inner + i);
        y[at] = x[at] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
      }
  Tensor Y(X.dtype(), X.shape());
  storeDoubles(Y, y);
  c.setOutput(0, std::move(Y));
  return Status::ok();
}

} // namespace infc::interp
