#include "ir/ops/ShapeUtil.h"

#include <algorithm>
#include <cmath>

namespace infc::ops {

Expected<std::vector<Dim>> broadcastDims(const std::vector<Dim> &a, const std::vector<Dim> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim *da = i < rank - a.size() ? nullptr : &a[i - (rank - a.size())];
    const Dim *db = i < rank - b.size() ? nullptr : &b[i - (rank - b.size())];
    if (!da) { out[i] = *db; continue; }
    if (!db) { out[i] = *da; continue; }
    if (*da == *db) { out[i] = *da; continue; }
    if (da->isStatic() && da->value == 1) { out[i] = *db; continue; }
    if (db->isStatic() && db->value == 1) { out[i] = *da; continue; }
    if (da->isStatic() && db->isStatic())
      return invalidArgument("cannot broadcast dimension " + std::to_string(da->value) + " with " +
                             std::to_string(db->value));
    // One static (> 1) and one dynamic: the dynamic one must be 1 or equal at run time.
    if (da->isStatic()) { out[i] = *da; continue; }
    if (db->isStatic()) { out[i] = *db; continue; }
    out[i] = Dim::unknown();
  }
  return out;
}

Expected<int64_t> normalizeAxis(const InferContext &ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return ctx.error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> tensorToInts(const Tensor &t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numElements()));
  for (int64_t i = 0; i < t.numElements(); ++i)
    v[static_cast<size_t>(i)] = t.getInt(i);
  return v;
}

void setSameAs(InferContext &ctx, size_t result, size_t operand, std::optional<DType> dtype) {
  TensorType t = ctx.operandType(operand);
  if (dtype)
    t.setElem(*dtype);
  ctx.setResultType(result, std::move(t));
}

TensorType unknownDims(DType elem, int64_t rank) {
  return TensorType(elem, std::vector<Dim>(static_cast<size_t>(rank), Dim::unknown()));
}

Status requireRank(const InferContext &ctx, size_t operand, int64_t rank) {
  const TensorType &t = ctx.operandType(operand);
  if (!t.isRanked())
    return ctx.error("operand " + std::to_string(operand) + " must have a known rank");
  if (t.rank() != rank)
    return ctx.error("operand " + std::to_string(operand) + " has rank " + std::to_string(t.rank()) +
                     ", expected " + std::to_string(rank));
  return Status::ok();
}

Expected<int64_t> rangeCount(const Tensor &start, const Tensor &limit, const Tensor &delta) {
  if (start.numElements() != 1 || limit.numElements() != 1 || delta.numElements() != 1)
    return invalidArgument("start, limit and delta must be scalars");
  if (isFloat(start.dtype())) {
    double s = start.getDouble(0), l = limit.getDouble(0), d = delta.getDouble(0);
    if (!std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d))
      return invalidArgument("start, limit and delta must be finite");
    if (d == 0)
      return invalidArgument("delta is 0");
    double n = std::max(0.0, std::ceil((l - s) / d));
    if (!(n < 9007199254740992.0)) // 2^53: beyond it the count is not even exact
      return invalidArgument("Range would have " + std::to_string(n) + " elements");
    return static_cast<int64_t>(n);
  }
  __int128 s = start.getInt(0), l = limit.getInt(0), d = delta.getInt(0);
  if (d == 0)
    return invalidArgument("delta is 0");
  __int128 span = l - s;
  __int128 n = span / d + ((span % d != 0 && ((span > 0) == (d > 0))) ? 1 : 0);
  if (n < 0)
    n = 0;
  if (n > (__int128(1) << 62))
    return invalidArgument("Range would have more than 2^62 elements");
  return static_cast<int64_t>(n);
}

std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

std::optional<int64_t> checkedAdd(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::nullopt;
  return r;
}

int64_t stridedCount(int64_t span, int64_t step) {
  if (span <= 0)
    return 0;
  uint64_t absStep = step > 0 ? static_cast<uint64_t>(step) : static_cast<uint64_t>(-(step + 1)) + 1;
  return static_cast<int64_t>((static_cast<uint64_t>(span) - 1) / absStep + 1);
}

} // namespace infc::ops

