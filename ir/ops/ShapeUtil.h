// Helpers shared by shape-inference hooks.
#pragma once

#include "ir/OpHooks.h"

#include <optional>
#include <vector>

namespace infc::ops {

/// Numpy-style multidirectional broadcast of two ranked shapes. Unknown dims broadcast against a
/// static dim > 1 to that dim; equal symbols stay symbols. Static mismatch is an error.
Expected<std::vector<Dim>> broadcastDims(const std::vector<Dim> &a, const std::vector<Dim> &b);

/// Maps axis in [-rank, rank) to [0, rank); error otherwise.
/// a * b and a + b + c of dims, or nullopt when int64 would overflow (shape arithmetic on
/// attribute and constant values from a model must never wrap).
std::optional<int64_t> checkedMul(int64_t a, int64_t b);
std::optional<int64_t> checkedAdd(int64_t a, int64_t b, int64_t c = 0);
/// Elements a strided slice takes from `span` (> 0: positions in range) with step `step` (!= 0):
/// ceil(span / |step|), without overflow for steps of INT64_MAX or INT64_MIN.
int64_t stridedCount(int64_t span, int64_t step);

Expected<int64_t> normalizeAxis(const InferContext &ctx, int64_t axis, int64_t rank);

/// Reads an integer tensor (any integer dtype) as int64 values.
std::vector<int64_t> tensorToInts(const Tensor &t);

/// Sets result `i` to the same type as operand `j` (optionally with another dtype).
void setSameAs(InferContext &ctx, size_t result, size_t operand, std::optional<DType> dtype = std::nullopt);

/// A ranked type with `rank` unknown dims.
TensorType unknownDims(DType elem, int64_t rank);

/// The element count of Range(start, limit, delta) (one-element tensors), computed without
/// overflow or undefined conversions: integers exactly (128-bit), floats only when finite and the
/// count is below 2^53. A zero delta, a non-finite bound or an absurd count is an error.
Expected<int64_t> rangeCount(const Tensor &start, const Tensor &limit, const Tensor &delta);

/// Requires operand i to be ranked; error names the op otherwise. Unranked operands make most
/// hooks fall back to an unranked result rather than fail: use this only where rank is essential.
Status requireRank(const InferContext &ctx, size_t operand, int64_t rank);

} // namespace infc::ops
