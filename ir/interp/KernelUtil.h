// Helpers shared by reference kernels.
#pragma once

#include "ir/OpHooks.h"

#include <cstdint>
#include <vector>

namespace infc::interp {

/// Static numpy broadcast of shapes; error on mismatch.
Expected<std::vector<int64_t>> broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b);

/// Element strides of `in` viewed with shape `out` (0 where broadcast). `in` right-aligned.
std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &in, const std::vector<int64_t> &out);

/// Iterates over all multi-indices of `shape` in row-major order, keeping one flat offset per
/// registered stride set up to date (cheap broadcast indexing without div/mod per element).
class IndexWalker {
public:
  IndexWalker(std::vector<int64_t> shape, std::vector<std::vector<int64_t>> strideSets);
  bool done() const { return done_; }
  void next();
  int64_t offset(size_t set) const { return offsets_[set]; }
  const std::vector<int64_t> &index() const { return index_; }

private:
  std::vector<int64_t> shape_;
  std::vector<std::vector<int64_t>> strides_;
  std::vector<int64_t> index_;
  std::vector<int64_t> offsets_;
  bool done_ = false;
};

/// Normalizes axis in [-rank, rank) or returns an error from ctx.
Expected<int64_t> normalizeAxis(const EvalContext &ctx, int64_t axis, int64_t rank);

/// Reads any integer tensor as int64 values.
std::vector<int64_t> toInts(const Tensor &t);

/// All elements as doubles (typed fast path for f32): kernels accumulate in double.
std::vector<double> toDoubles(const Tensor &t);
/// Stores doubles into `t` (rounding once to its dtype).
void storeDoubles(Tensor &t, const std::vector<double> &v);

} // namespace infc::interp

/// Calls BODY with `T` bound to the C++ type of a float dtype (f32/f64; f16/bf16 are computed
/// through float by the caller converting first) -- helper for typed fast paths.
#define INFC_DISPATCH_F32_F64(dtype, T, ...)                                                       \
  do {                                                                                             \
    if ((dtype) == ::infc::DType::F32) {                                                           \
      using T = float;                                                                             \
      __VA_ARGS__;                                                                                 \
    } else if ((dtype) == ::infc::DType::F64) {                                                    \
      using T = double;                                                                            \
      __VA_ARGS__;                                                                                 \
    }                                                                                              \
  } while (0)
