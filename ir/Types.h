// Tensor types with constant, unknown (`?`) or named symbolic dims ("batch").
#pragma once

#include "ir/DType.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace infc {

/// One dimension: a constant >= 0, or dynamic. A dynamic dim may carry a symbol name; two dims
/// with the same symbol in one graph are equal at run time.
struct Dim {
  int64_t value = -1;  ///< >= 0 when static
  std::string symbol;  ///< empty and value < 0: unknown ("?")

  Dim() = default;
  Dim(int64_t v) : value(v) {} // NOLINT: implicit from constants keeps shape code readable
  static Dim unknown() { return Dim(); }
  static Dim named(std::string s) {
    Dim d;
    d.symbol = std::move(s);
    return d;
  }
  bool isStatic() const { return value >= 0; }
  bool operator==(const Dim &o) const { return value == o.value && symbol == o.symbol; }
  bool operator!=(const Dim &o) const { return !(*this == o); }
};

/// Element type plus shape. An unranked type (`tensor<*xf32>`) has no shape at all.
class TensorType {
public:
  TensorType() = default;
  TensorType(DType elem, std::vector<Dim> shape) : elem_(elem), shape_(std::move(shape)), ranked_(true) {}
  static TensorType unranked(DType elem) {
    TensorType t;
    t.elem_ = elem;
    t.ranked_ = false;
    return t;
  }
  static TensorType fromStatic(DType elem, const std::vector<int64_t> &shape);

  DType elem() const { return elem_; }
  void setElem(DType e) { elem_ = e; }
  bool isRanked() const { return ranked_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  const std::vector<Dim> &shape() const { return shape_; }
  const Dim &dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  /// Ranked and every dim constant.
  bool isStatic() const;
  /// Constant dims; only valid when isStatic().
  std::vector<int64_t> staticShape() const;
  /// Number of elements when static, else nullopt (also nullopt on overflow).
  std::optional<int64_t> numElements() const;

  bool operator==(const TensorType &o) const {
    return elem_ == o.elem_ && ranked_ == o.ranked_ && shape_ == o.shape_;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }

  /// IR spelling: `tensor<?x"batch"x3xf32>`, `tensor<f32>` (scalar), `tensor<*xf32>`.
  std::string str() const;

private:
  DType elem_ = DType::Undefined;
  std::vector<Dim> shape_;
  bool ranked_ = false;
};

} // namespace infc
