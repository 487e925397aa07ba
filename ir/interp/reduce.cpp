// Reference kernels for reductions (double accumulation), softmax family, Arg*, TopK, CumSum.
#include "ir/interp/KernelUtil.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace infc::interp {

namespace {

/// Splits `shape` around `axes`: iterates over kept positions and reduced positions.
struct ReducePlan {
  std::vector<int64_t> outShape;   ///< with keepdims applied
  std::vector<int64_t> keptShape, keptStrides, redShape, redStrides;
};

Expected<ReducePlan> planReduce(const EvalContext &c, const Tensor &x, std::vector<int64_t> axes, bool keep) {
  for (int64_t &a : axes) {
    INFC_ASSIGN_OR_RETURN(a, normalizeAxis(c, a, x.rank()));
  }
  ReducePlan p;
  std::vector<int64_t> st = x.strides();
  for (int64_t d = 0; d < x.rank(); ++d) {
    bool r = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (r) {
      p.redShape.push_back(x.dim(d));
      p.redStrides.push_back(st[static_cast<size_t>(d)]);
      if (keep)
        p.outShape.push_back(1);
    } else {
      p.keptShape.push_back(x.dim(d));
      p.keptStrides.push_back(st[static_cast<size_t>(d)]);
      p.outShape.push_back(x.dim(d));
    }
  }
  return p;
}

enum class Red { L1, L2, LogSum, LogSumExp, Max, Mean, Min, Prod, Sum, SumSquare };

Status reduce(EvalContext &c, Red kind) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t keep, c.attrs().getInt("keepdims", 1));
  INFC_ASSIGN_OR_RETURN(int64_t noop, c.attrs().getInt("noop_with_empty_axes", 0));
  std::vector<int64_t> axes;
  if (c.hasInput(1))
    axes = toInts(c.input(1));
  if (axes.empty()) {
    if (noop) {
      c.setOutput(0, x);
      return Status::ok();
    }
    for (int64_t i = 0; i < x.rank(); ++i)
      axes.push_back(i);
  }
  INFC_ASSIGN_OR_RETURN(ReducePlan p, planReduce(c, x, axes, keep != 0));
  Tensor out(x.dtype(), p.outShape);
  bool fl = isFloat(x.dtype());
  int64_t count = 1;
  for (int64_t d : p.redShape)
    count *= d;
  IndexWalker kw(p.keptShape, {p.keptStrides});
  for (int64_t o = 0; !kw.done(); kw.next(), ++o) {
    double acc;
    switch (kind) {
    case Red::Max: acc = -std::numeric_limits<double>::infinity(); break;
    case Red::Min: acc = std::numeric_limits<double>::infinity(); break;
    case Red::Prod: acc = 1; break;
    default: acc = 0; break;
    }
    int64_t iacc = kind == Red::Max ? std::numeric_limits<int64_t>::min()
                   : kind == Red::Min ? std::numeric_limits<int64_t>::max()
                   : kind == Red::Prod ? 1 : 0;
    double mx = -std::numeric_limits<double>::infinity();
    if (kind == Red::LogSumExp) {
      IndexWalker rw(p.redShape, {p.redStrides});
      for (; !rw.done(); rw.next())
        mx = std::max(mx, x.getDouble(kw.offset(0) + rw.offset(0)));
      if (std::isinf(mx))
        mx = 0;
    }
    IndexWalker rw(p.redShape, {p.redStrides});
    for (; !rw.done(); rw.next()) {
      int64_t off = kw.offset(0) + rw.offset(0);
      if (!fl && (kind == Red::Max || kind == Red::Min || kind == Red::Sum || kind == Red::Prod ||
                  kind == Red::Mean || kind == Red::L1 || kind == Red::SumSquare)) {
        int64_t v = x.getInt(off);
        switch (kind) {
        case Red::Max: iacc = std::max(iacc, v); break;
        case Red::Min: iacc = std::min(iacc, v); break;
        case Red::Prod: iacc *= v; break;
        case Red::L1: iacc += v < 0 ? -v : v; break;
        case Red::SumSquare: iacc += v * v; break;
        default: iacc += v; break;
        }
        continue;
      }
      double v = x.getDouble(off);
      switch (kind) {
      case Red::L1: acc += std::fabs(v); break;
      case Red::L2: case Red::SumSquare: acc += v * v; break;
      case Red::LogSum: case Red::Sum: case Red::Mean: acc += v; break;
      case Red::LogSumExp: acc += std::exp(v - mx); break;
      case Red::Max: acc = (std::isnan(v) || v > acc) ? v : acc; break;
      case Red::Min: acc = (std::isnan(v) || v < acc) ? v : acc; break;
      case Red::Prod: acc *= v; break;
      }
    }
    if (!fl && kind != Red::L2 && kind != Red::LogSum && kind != Red::LogSumExp) {
      if (kind == Red::Mean)
        iacc = count ? iacc / count : 0;
      out.setInt(o, iacc);
      continue;
    }
    switch (kind) {
    case Red::L2: acc = std::sqrt(acc); break;
    case Red::LogSum: acc = std::log(acc); break;
    case Red::LogSumExp: acc = std::log(acc) + mx; break;
    case Red::Mean: acc = count ? acc / static_cast<double>(count) : std::nan(""); break;
    default: break;
    }
    out.setDouble(o, acc);
  }
  c.setOutput(0, std::move(out));
  return Status::ok();
}

/// Iterates rows along `axis`: calls f(base offset, stride, length) for each row.
template <typename F> void forEachRow(const std::vector<int64_t> &shape, int64_t axis, F f) {
  int64_t outer = 1, inner = 1, len = shape[static_cast<size_t>(axis)];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      f(o * len * inner + i, inner, len);
}

enum class SoftKind { Softmax, LogSoftmax, Hardmax };

Status softmaxLike(EvalContext &c, SoftKind kind) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", -1));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  Tensor out(x.dtype(), x.shape());
  std::vector<double> row;
  forEachRow(x.shape(), axis, [&](int64_t base, int64_t stride, int64_t len) {
    row.resize(static_cast<size_t>(len));
    double mx = -std::numeric_limits<double>::infinity();
    int64_t arg = 0;
    for (int64_t j = 0; j < len; ++j) {
      row[static_cast<size_t>(j)] = x.getDouble(base + j * stride);
      if (row[static_cast<size_t>(j)] > mx) {
        mx = row[static_cast<size_t>(j)];
        arg = j;
      }
    }
    if (kind == SoftKind::Hardmax) {
      for (int64_t j = 0; j < len; ++j)
        out.setDouble(base + j * stride, j == arg ? 1.0 : 0.0);
      return;
    }
    double sum = 0;
    for (double v : row)
      sum += std::exp(v - mx);
    for (int64_t j = 0; j < len; ++j) {
      double v = row[static_cast<size_t>(j)] - mx;
      out.setDouble(base + j * stride, kind == SoftKind::Softmax ? std::exp(v) / sum : v - std::log(sum));
    }
  });
  c.setOutput(0, std::move(out));
  return Status::ok();
}

Status argReduce(EvalContext &c, bool isMax) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", 0));
  INFC_ASSIGN_OR_RETURN(int64_t keep, c.attrs().getInt("keepdims", 1));
  INFC_ASSIGN_OR_RETURN(int64_t last, c.attrs().getInt("select_last_index", 0));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  if (x.dim(axis) == 0)
    return c.error("arg-reduction over axis " + std::to_string(axis) + ", which is empty");
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.rank(); ++d)
    if (d != axis)
      shape.push_back(x.dim(d));
    else if (keep)
      shape.push_back(1);
  Tensor out(DType::I64, shape);
  int64_t o = 0;
  forEachRow(x.shape(), axis, [&](int64_t base, int64_t stride, int64_t len) {
    int64_t best = 0;
    double bv = x.getDouble(base);
    for (int64_t j = 1; j < len; ++j) {
      double v = x.getDouble(base + j * stride);
      bool better = isMax ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
      if (better) {
        bv = v;
        best = j;
      }
    }
    out.setInt(o++, best);
  });
  c.setOutput(0, std::move(out));
  return Status::ok();
}

} // namespace

Status evalReduceL1(EvalContext &c) { return reduce(c, Red::L1); }
Status evalReduceL2(EvalContext &c) { return reduce(c, Red::L2); }
Status evalReduceLogSum(EvalContext &c) { return reduce(c, Red::LogSum); }
Status evalReduceLogSumExp(EvalContext &c) { return reduce(c, Red::LogSumExp); }
Status evalReduceMax(EvalContext &c) { return reduce(c, Red::Max); }
Status evalReduceMean(EvalContext &c) { return reduce(c, Red::Mean); }
Status evalReduceMin(EvalContext &c) { return reduce(c, Red::Min); }
Status evalReduceProd(EvalContext &c) { return reduce(c, Red::Prod); }
Status evalReduceSum(EvalContext &c) { return reduce(c, Red::Sum); }
Status evalReduceSumSquare(EvalContext &c) { return reduce(c, Red::SumSquare); }
Status evalSoftmax(EvalContext &c) { return softmaxLike(c, SoftKind::Softmax); }
Status evalLogSoftmax(EvalContext &c) { return softmaxLike(c, SoftKind::LogSoftmax); }
Status evalHardmax(EvalContext &c) { return softmaxLike(c, SoftKind::Hardmax); }
Status evalArgMax(EvalContext &c) { return argReduce(c, true); }
Status evalArgMin(EvalContext &c) { return argReduce(c, false); }

Status evalTopK(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", -1));
  INFC_ASSIGN_OR_RETURN(int64_t largest, c.attrs().getInt("largest", 1));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  int64_t k = c.input(1).getInt(0);
  if (k < 0 || k > x.dim(axis))
    return c.error("k = " + std::to_string(k) + " is out of range");
  std::vector<int64_t> shape = x.shape();
  shape[static_cast<size_t>(axis)] = k;
  Tensor values(x.dtype(), shape), indices(DType::I64, shape);
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  std::vector<int64_t> order;
  forEachRow(x.shape(), axis, [&](int64_t base, int64_t stride, int64_t len) {
    order.resize(static_cast<size_t>(len));
    std::iota(order.begin(), order.end(), 0);
    // Ties keep the lower index first (stable on index).
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      double va = x.getDouble(base + a * stride), vb = x.getDouble(base + b * stride);
      return largest ? va > vb : va < vb;
    });
    int64_t outBase = (base / (len * inner)) * k * inner + base % inner;
    for (int64_t j = 0; j < k; ++j) {
      int64_t src = order[static_cast<size_t>(j)];
      if (isFloat(x.dtype()))
        values.setDouble(outBase + j * stride, x.getDouble(base + src * stride));
      else
        values.setInt(outBase + j * stride, x.getInt(base + src * stride));
      indices.setInt(outBase + j * stride, src);
    }
  });
  c.setOutput(0, std::move(values));
  c.setOutput(1, std::move(indices));
  return Status::ok();
}

Status evalCumSum(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, normalizeAxis(c, c.input(1).getInt(0), x.rank()));
  INFC_ASSIGN_OR_RETURN(int64_t exclusive, c.attrs().getInt("exclusive", 0));
  INFC_ASSIGN_OR_RETURN(int64_t reverse, c.attrs().getInt("reverse", 0));
  Tensor out(x.dtype(), x.shape());
  bool fl = isFloat(x.dtype());
  forEachRow(x.shape(), axis, [&](int64_t base, int64_t stride, int64_t len) {
    double acc = 0;
    int64_t iacc = 0;
    for (int64_t s = 0; s < len; ++s) {
      int64_t j = reverse ? len - 1 - s : s;
      int64_t off = base + j * stride;
      if (exclusive) {
        fl ? out.setDouble(off, acc) : out.setInt(off, iacc);
      }
      if (fl)
        acc += x.getDouble(off);
      else
        iacc += x.getInt(off);
      if (!exclusive) {
        fl ? out.setDouble(off, acc) : out.setInt(off, iacc);
      }
    }
  });
  c.setOutput(0, std::move(out));
  return Status::ok();
}

} // namespace infc::interp
