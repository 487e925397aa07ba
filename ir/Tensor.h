// Host tensor: dtype, static shape, shared immutable-by-convention storage.
// Weights live in these and are shared, never copied per pass.
#pragma once

#include "ir/DType.h"
#include "ir/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace infc {

/// Product of dims with overflow and negativity checks. Error names `what`.
Expected<int64_t> checkedNumElements(std::span<const int64_t> shape, const std::string &what);
/// numElements * dtypeSize with overflow check.
Expected<int64_t> checkedByteSize(DType t, std::span<const int64_t> shape, const std::string &what);

/// Largest tensor infc will allocate on the host (guards against absurd shapes in models).
constexpr int64_t kMaxHostTensorBytes = int64_t(1) << 36; // 64 GiB

class Tensor {
public:
  Tensor() = default;
  /// Allocates zero-filled storage. Caller must have validated the shape (see `create`).
  Tensor(DType dtype, std::vector<int64_t> shape);
  /// Validating constructor for shapes that come from user input.
  static Expected<Tensor> create(DType dtype, std::vector<int64_t> shape, const std::string &what);
  /// Wraps bytes (copied) as a tensor; size must match.
  static Expected<Tensor> fromBytes(DType dtype, std::vector<int64_t> shape, const void *data,
                                    size_t bytes, const std::string &what);
  /// Scalar and 1-D helpers for tests and folding.
  static Tensor scalarF32(float v);
  static Tensor scalarI64(int64_t v);
  static Tensor fromI64(const std::vector<int64_t> &v);
  static Tensor fromF32(const std::vector<float> &v, std::vector<int64_t> shape);

  bool valid() const { return dtype_ != DType::Undefined; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numElements() const { return numElements_; }
  size_t byteSize() const { return static_cast<size_t>(numElements_) * dtypeSize(dtype_); }

  const std::byte *bytes() const { return storage_ ? storage_->data() : nullptr; }
  /// Mutable access. Copies the storage first if another Tensor shares it (copy on write).
  std::byte *mutableBytes();
  template <typename T> const T *data() const { return reinterpret_cast<const T *>(bytes()); }
  template <typename T> T *mutableData() { return reinterpret_cast<T *>(mutableBytes()); }

  /// Element i converted to double / int64 (any dtype; bool as 0/1).
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// Stores v converted to this tensor's dtype (rounding/saturation as a C cast for ints).
  void setDouble(int64_t i, double v);
  void setInt(int64_t i, int64_t v);

  /// Same storage, new shape (element count must match).
  Tensor reshaped(std::vector<int64_t> shape) const;
  /// Deep copy.
  Tensor clone() const;
  /// A new tensor with the dims permuted: result dim d is this tensor's dim perm[d]. `perm`
  /// must be a permutation of 0..rank-1 (callers check).
  Tensor transposed(const std::vector<int64_t> &perm) const;
  /// A new tensor with the last axis extended to `size` (>= its length), the new elements zero.
  Tensor paddedLastAxis(int64_t size) const;
  /// Converts to another dtype elementwise (float->int truncates toward zero, as ONNX Cast).
  Tensor castTo(DType to) const;
  /// Row-major strides in elements.
  std::vector<int64_t> strides() const;
  /// Bitwise equality of dtype, shape and bytes.
  bool identical(const Tensor &other) const;

private:
  DType dtype_ = DType::Undefined;
  std::vector<int64_t> shape_;
  int64_t numElements_ = 0;
  std::shared_ptr<std::vector<std::byte>> storage_;
};

} // namespace infc
