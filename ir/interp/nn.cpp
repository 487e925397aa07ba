// Reference kernels for normalizations, Dropout (inference), Gemm, MatMul and Einsum.
// Dot products and statistics accumulate in double.
#include "ir/interp/KernelUtil.h"

#include "ir/ops/EinsumSpec.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace infc::interp {

namespace {

/// C[m][n] (+)= sum_k A[m][k] * B[k][n] for row-major double matrices with leading dims.
void gemmD(int64_t M, int64_t N, int64_t K, const double *A, int64_t lda, bool ta, const double *B, int64_t ldb, bool tb,
           double *C) {
  std::vector<double> bcol;
  for (int64_t m = 0; m < M; ++m) {
    double *crow = C + m * N;
    for (int64_t k = 0; k < K; ++k) {
      double a = ta ? A[k * lda + m] : A[m * lda + k];
      if (a == 0.0)
        continue;
      if (!tb) {
        const double *brow = B + k * ldb;
        for (int64_t n = 0; n < N; ++n)
          crow[n] += a * brow[n];
      } else {
        for (int64_t n = 0; n < N; ++n)
          crow[n] += a * B[n * ldb + k];
      }
    }
  }
}

} // namespace

Status evalBatchNormalization(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(float eps, c.attrs().getFloat("epsilon", 1e-5f));
  std::vector<double> xs = toDoubles(x), sc = toDoubles(c.input(1)), b = toDoubles(c.input(2)), mean = toDoubles(c.input(3)),
                      var = toDoubles(c.input(4));
  int64_t C = x.dim(1), inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.dim(d);
  if (static_cast<int64_t>(sc.size()) != C || static_cast<int64_t>(mean.size()) != C)
    return c.error("per-channel parameters do not match " + std::to_string(C) + " channels");
  std::vector<double> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    size_t ch = static_cast<size_t>((static_cast<int64_t>(i) / inner) % C);
    out[i] = (xs[i] - mean[ch]) / std::sqrt(var[ch] + eps) * sc[ch] + b[ch];
  }
  Tensor o(x.dtype(), x.shape());
  storeDoubles(o, out);
  c.setOutput(0, std::move(o));
  return Status::ok();
}

Status evalInstanceNormalization(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(float eps, c.attrs().getFloat("epsilon", 1e-5f));
  std::vector<double> xs = toDoubles(x), sc = toDoubles(c.input(1)), b = toDoubles(c.input(2));
  int64_t N = x.dim(0), C = x.dim(1), inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.dim(d);
  std::vector<double> out(xs.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch) {
      size_t base = static_cast<size_t>((n * C + ch) * inner);
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i)
        mean += xs[base + static_cast<size_t>(i)];
      mean /= static_cast<double>(inner);
      for (int64_t i = 0; i < inner; ++i) {
        double d = xs[base + static_cast<size_t>(i)] - mean;
        var += d * d;
      }
      var /= static_cast<double>(inner);
      double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < inner; ++i)
        out[base + static_cast<size_t>(i)] = (xs[base + static_cast<size_t>(i)] - mean) * inv * sc[static_cast<size_t>(ch)] +
                                             b[static_cast<size_t>(ch)];
    }
  Tensor o(x.dtype(), x.shape());
  storeDoubles(o, out);
  c.setOutput(0, std::move(o));
  return Status::ok();
}

Status evalGroupNormalization(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(float eps, c.attrs().getFloat("epsilon", 1e-5f));
  INFC_ASSIGN_OR_RETURN(int64_t G, c.attrs().getInt("num_groups"));
  std::vector<double> xs = toDoubles(x), sc = toDoubles(c.input(1)), b = toDoubles(c.input(2));
  int64_t N = x.dim(0), C = x.dim(1), inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.dim(d);
  if (G <= 0 || C % G != 0)
    return c.error("channels do not divide into num_groups");
  bool perGroup = static_cast<int64_t>(sc.size()) == G && G != C; // opset-18 form
  int64_t cpg = C / G, gsize = cpg * inner;
  std::vector<double> out(xs.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      size_t base = static_cast<size_t>((n * C + g * cpg) * inner);
      double mean = 0, var = 0;
      for (int64_t i = 0; i < gsize; ++i)
        mean += xs[base + static_cast<size_t>(i)];
      mean /= static_cast<double>(gsize);
      for (int64_t i = 0; i < gsize; ++i) {
        double d = xs[base + static_cast<size_t>(i)] - mean;
        var += d * d;
      }
      var /= static_cast<double>(gsize);
      double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < gsize; ++i) {
        size_t ch = static_cast<size_t>(perGroup ? g : g * cpg + i / inner);
        out[base + static_cast<size_t>(i)] = (xs[base + static_cast<size_t>(i)] - mean) * inv * sc[ch] + b[ch];
      }
    }
  Tensor o(x.dtype(), x.shape());
  storeDoubles(o, out);
  c.setOutput(0, std::move(o));
  return Status::ok();
}

Status evalLayerNormalization(EvalContext &c) {
  const Tensor &x = c.input(0);
  INFC_ASSIGN_OR_RETURN(int64_t axis, c.attrs().getInt("axis", -1));
  INFC_ASSIGN_OR_RETURN(float eps, c.attrs().getFloat("epsilon", 1e-5f));
  INFC_ASSIGN_OR_RETURN(axis, normalizeAxis(c, axis, x.rank()));
  int64_t rows = 1, L = 1;
  for (int64_t d = 0; d < x.rank(); ++d)
    (d < axis ? rows : L) *= x.dim(d);
  std::vector<double> xs = toDoubles(x);
  // Scale and bias broadcast over the normalized dims (numpy rules, right-aligned).
  std::vector<int64_t> normShape(x.shape().begin() + axis, x.shape().end());
  auto expandParam = [&](const Tensor &p) -> Expected<std::vector<double>> {
    Expected<std::vector<int64_t>> bs = broadcastShapes(p.shape(), normShape);
    if (!bs.isOk() || *bs != normShape)
      return c.error("scale/bias of shape does not broadcast to the normalized dims");
    std::vector<double> v(static_cast<size_t>(L));
    IndexWalker w(normShape, {broadcastStrides(p.shape(), normShape)});
    for (int64_t i = 0; !w.done(); w.next(), ++i)
      v[static_cast<size_t>(i)] = p.getDouble(w.offset(0));
    return v;
  };
  INFC_ASSIGN_OR_RETURN(std::vector<double> sc, expandParam(c.input(1)));
  std::vector<double> b(static_cast<size_t>(L), 0.0);
  if (c.hasInput(2)) {
    INFC_ASSIGN_OR_RETURN(b, expandParam(c.input(2)));
  }
  std::vector<double> out(xs.size()), means(static_cast<size_t>(rows)), invs(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    size_t base = static_cast<size_t>(r * L);
    double mean = 0, var = 0;
    for (int64_t i = 0; i < L; ++i)
      mean += xs[base + static_cast<size_t>(i)];
    mean /= static_cast<double>(L);
    for (int64_t i = 0; i < L; ++i) {
      double d = xs[base + static_cast<size_t>(i)] - mean;
      var += d * d;
    }
    var /= static_cast<double>(L);
    double inv = 1.0 / std::sqrt(var + eps);
    means[static_cast<size_t>(r)] = mean;
    invs[static_cast<size_t>(r)] = inv;
    for (int64_t i = 0; i < L; ++i)
      out[base + static_cast<size_t>(i)] = (xs[base + static_cast<size_t>(i)] - mean) * inv * sc[static_cast<size_t>(i)] +
                                           b[static_cast<size_t>(i)];
  }
  Tensor o(x.dtype(), x.shape());
  storeDoubles(o, out);
  c.setOutput(0, std::move(o));
  std::vector<int64_t> statShape = x.shape();
  for (int64_t d = axis; d < x.rank(); ++d)
    statShape[static_cast<size_t>(d)] = 1;
  for (size_t r = 1; r < c.numOutputs(); ++r) {
    Tensor s(c.op().result(r)->type().elem(), statShape);
    storeDoubles(s, r == 1 ? means : invs);
    c.setOutput(r, std::move(s));
  }
  return Status::ok();
}

Status evalDropout(EvalContext &c) {
  if (c.hasInput(2) && c.input(2).numElements() == 1 && c.input(2).getInt(0) != 0)
    return Status(StatusCode::Unsupported, c.op().describe() + ": Dropout in training mode (training op) is not supported");
  c.setOutput(0, c.input(0));
  if (c.numOutputs() > 1) {
    Tensor mask(DType::Bool, c.input(0).shape());
    for (int64_t i = 0; i < mask.numElements(); ++i)
      mask.setInt(i, 1);
    c.setOutput(1, std::move(mask));
  }
  return Status::ok();
}

Status evalGemm(EvalContext &c) {
  const Tensor &A = c.input(0), &B = c.input(1);
  INFC_ASSIGN_OR_RETURN(int64_t ta, c.attrs().getInt("transA", 0));
  INFC_ASSIGN_OR_RETURN(int64_t tb, c.attrs().getInt("transB", 0));
  INFC_ASSIGN_OR_RETURN(float alpha, c.attrs().getFloat("alpha", 1.0f));
  INFC_ASSIGN_OR_RETURN(float beta, c.attrs().getFloat("beta", 1.0f));
  if (A.rank() != 2 || B.rank() != 2)
    return c.error("A and B must be 2-D");
  int64_t M = ta ? A.dim(1) : A.dim(0), K = ta ? A.dim(0) : A.dim(1), N = tb ? B.dim(0) : B.dim(1);
  if ((tb ? B.dim(1) : B.dim(0)) != K)
    return c.error("inner dimensions differ");
  std::vector<double> a = toDoubles(A), b = toDoubles(B), out(static_cast<size_t>(M * N), 0.0);
  gemmD(M, N, K, a.data(), A.dim(1), ta, b.data(), B.dim(1), tb, out.data());
  for (double &v : out)
    v *= alpha;
  if (c.hasInput(2)) {
    const Tensor &C = c.input(2);
    std::vector<int64_t> os = {M, N};
    Expected<std::vector<int64_t>> bs = broadcastShapes(C.shape(), os);
    if (!bs.isOk() || *bs != os)
      return c.error("C does not broadcast to the result");
    IndexWalker w(os, {broadcastStrides(C.shape(), os)});
    for (int64_t i = 0; !w.done(); w.next(), ++i)
      out[static_cast<size_t>(i)] += beta * C.getDouble(w.offset(0));
  }
  Tensor o(A.dtype(), {M, N});
  storeDoubles(o, out);
  c.setOutput(0, std::move(o));
  return Status::ok();
}

Status evalMatMul(EvalContext &c) {
  const Tensor &A = c.input(0), &B = c.input(1);
  std::vector<int64_t> sa = A.shape(), sb = B.shape();
  bool aVec = sa.size() == 1, bVec = sb.size() == 1;
  if (aVec)
    sa.insert(sa.begin(), 1);
  if (bVec)
    sb.push_back(1);
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  if (sb[sb.size() - 2] != K)
    return c.error("inner dimensions differ (" + std::to_string(K) + " vs " + std::to_string(sb[sb.size() - 2]) + ")");
  std::vector<int64_t> ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  Expected<std::vector<int64_t>> batch = broadcastShapes(ba, bb);
  if (!batch.isOk())
    return c.error(batch.status().message());
  std::vector<int64_t> outShape = *batch;
  if (!aVec)
    outShape.push_back(M);
  if (!bVec)
    outShape.push_back(N);
  Tensor o(A.dtype(), outShape);
  bool integer = !isFloat(A.dtype());
  std::vector<double> a = toDoubles(A), b = toDoubles(B);
  std::vector<int64_t> bshape = *batch;
  // Batch strides in matrices (0 where broadcast).
  auto matStrides = [&](const std::vector<int64_t> &bdims) {
    std::vector<int64_t> s = broadcastStrides(bdims, bshape);
    return s;
  };
  IndexWalker w(bshape, {matStrides(ba), matStrides(bb)});
  std::vector<double> acc(static_cast<size_t>(M * N));
  int64_t outMat = 0;
  for (; !w.done(); w.next(), ++outMat) {
    std::fill(acc.begin(), acc.end(), 0.0);
    gemmD(M, N, K, a.data() + w.offset(0) * M * K, K, false, b.data() + w.offset(1) * K * N, N, false, acc.data());
    for (int64_t i = 0; i < M * N; ++i) {
      if (integer)
        o.setInt(outMat * M * N + i, static_cast<int64_t>(acc[static_cast<size_t>(i)]));
      else
        o.setDouble(outMat * M * N + i, acc[static_cast<size_t>(i)]);
    }
  }
  c.setOutput(0, std::move(o));
  return Status::ok();
}

Status evalEinsum(EvalContext &c) {
  INFC_ASSIGN_OR_RETURN(std::string eq, c.attrs().getString("equation"));
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < c.numInputs(); ++i)
    ranks.push_back(c.input(i).rank());
  Expected<ops::EinsumSpec> spec = ops::parseEinsum(eq, ranks);
  if (!spec.isOk())
    return c.error(spec.status().message());
  // Label sizes (1 broadcasts against larger ellipsis dims).
  std::map<int, int64_t> size;
  for (size_t i = 0; i < c.numInputs(); ++i)
    for (size_t k = 0; k < spec->inputs[i].size(); ++k) {
      int l = spec->inputs[i][k];
      int64_t d = c.input(i).dim(static_cast<int64_t>(k));
      auto it = size.find(l);
      if (it == size.end() || it->second == 1)
        size[l] = d;
      else if (d != it->second && d != 1)
        return c.error("label size mismatch in einsum '" + eq + "'");
    }
  std::vector<int> all;
  for (const auto &[l, s] : size)
    all.push_back(l);
  std::vector<int64_t> allShape;
  for (int l : all)
    allShape.push_back(size[l]);
  std::vector<int64_t> outShape;
  for (int l : spec->output)
    outShape.push_back(size[l]);
  Tensor o(c.input(0).dtype(), outShape);
  std::vector<double> out(static_cast<size_t>(o.numElements()), 0.0);
  // Strides of each operand and the output over the full label space.
  auto stridesFor = [&](const std::vector<int> &labels, const std::vector<int64_t> &shape) {
    std::vector<int64_t> st(all.size(), 0);
    int64_t s = 1;
    for (size_t k = labels.size(); k-- > 0;) {
      size_t pos = static_cast<size_t>(std::find(all.begin(), all.end(), labels[k]) - all.begin());
      if (shape[k] != 1)
        st[pos] += s;
      s *= shape[k];
    }
    return st;
  };
  std::vector<std::vector<int64_t>> sets;
  std::vector<std::vector<double>> data;
  for (size_t i = 0; i < c.numInputs(); ++i) {
    sets.push_back(stridesFor(spec->inputs[i], c.input(i).shape()));
    data.push_back(toDoubles(c.input(i)));
  }
  sets.push_back(stridesFor(spec->output, outShape));
  IndexWalker w(allShape, sets);
  for (; !w.done(); w.next()) {
    double p = 1;
    for (size_t i = 0; i < data.size(); ++i)
      p *= data[i][static_cast<size_t>(w.offset(i))];
    out[static_cast<size_t>(w.offset(data.size()))] += p;
  }
  if (isFloat(o.dtype()))
    storeDoubles(o, out);
  else
    for (size_t i = 0; i < out.size(); ++i)
      o.setInt(static_cast<int64_t>(i), static_cast<int64_t>(out[i]));
  c.setOutput(0, std::move(o));
  return Status::ok();
}

} // namespace infc::interp
