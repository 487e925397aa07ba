#include "ir/interp/KernelUtil.h"

namespace infc::interp {

Expected<std::vector<int64_t>> broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return invalidArgument("cannot broadcast dimension " + std::to_string(da) + " with " + std::to_string(db));
  }
  return out;
}

std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &in, const std::vector<int64_t> &out) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) {
    size_t o = out.size() - in.size() + static_cast<size_t>(i);
    s[o] = in[static_cast<size_t>(i)] == 1 ? 0 : stride;
    stride *= in[static_cast<size_t>(i)];
  }
  return s;
}

IndexWalker::IndexWalker(std::vector<int64_t> shape, std::vector<std::vector<int64_t>> strideSets)
    : shape_(std::move(shape)), strides_(std::move(strideSets)), index_(shape_.size(), 0),
      offsets_(strides_.size(), 0) {
  for (int64_t d : shape_)
    if (d == 0)
      done_ = true;
}

void IndexWalker::next() {
  for (int64_t i = static_cast<int64_t>(shape_.size()) - 1; i >= 0; --i) {
    size_t u = static_cast<size_t>(i);
    if (++index_[u] < shape_[u]) {
      for (size_t s = 0; s < strides_.size(); ++s)
        offsets_[s] += strides_[s][u];
      return;
    }
    index_[u] = 0;
    for (size_t s = 0; s < strides_.size(); ++s)
      offsets_[s] -= strides_[s][u] * (shape_[u] - 1);
  }
  done_ = true;
}

Expected<int64_t> normalizeAxis(const EvalContext &ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return ctx.error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> toInts(const Tensor &t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    v[static_cast<size_t>(i)] = t.getInt(i);
  return v;
}

std::vector<double> toDoubles(const Tensor &t) {
  std::vector<double> v(static_cast<size_t>(t.numElements()));
  if (t.dtype() == DType::F32) {
    const float *p = t.data<float>();
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = p[i];
  } else {
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = t.getDouble(static_cast<int64_t>(i));
  }
  return v;
}

void storeDoubles(Tensor &t, const std::vector<double> &v) {
  if (t.dtype() == DType::F32) {
    float *p = t.mutableData<float>();
    for (size_t i = 0; i < v.size(); ++i)
      p[i] = static_cast<float>(v[i]);
  } else {
    for (size_t i = 0; i < v.size(); ++i)
      t.setDouble(static_cast<int64_t>(i), v[i]);
  }
}

} // namespace infc::interp
