#include "ir/ops/ShapeUtil.h"

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

} // namespace infc::ops
