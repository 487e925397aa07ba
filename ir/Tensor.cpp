#include "ir/Tensor.h"

#include <cmath>
#include <cstring>

namespace infc {

Expected<int64_t> checkedNumElements(std::span<const int64_t> shape, const std::string &what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return invalidArgument(what + ": negative dimension " + std::to_string(d));
    if (__builtin_mul_overflow(n, d, &n))
      return outOfRange(what + ": element count overflows int64");
  }
  return n;
}

Expected<int64_t> checkedByteSize(DType t, std::span<const int64_t> shape, const std::string &what) {
  INFC_ASSIGN_OR_RETURN(int64_t n, checkedNumElements(shape, what));
  int64_t bytes;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(dtypeSize(t)), &bytes))
    return outOfRange(what + ": byte size overflows int64");
  return bytes;
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  numElements_ = 1;
  for (int64_t d : shape_)
    numElements_ *= d;
  storage_ = std::make_shared<std::vector<std::byte>>(byteSize());
}

Expected<Tensor> Tensor::create(DType dtype, std::vector<int64_t> shape, const std::string &what) {
  if (dtypeSize(dtype) == 0)
    return unsupported(what + ": element type " + std::string(dtypeName(dtype)) + " has no storage");
  INFC_ASSIGN_OR_RETURN(int64_t bytes, checkedByteSize(dtype, shape, what));
  if (bytes > kMaxHostTensorBytes)
    return outOfRange(what + ": tensor of " + std::to_string(bytes) + " bytes exceeds the limit");
  return Tensor(dtype, std::move(shape));
}

Expected<Tensor> Tensor::fromBytes(DType dtype, std::vector<int64_t> shape, const void *data,
                                   size_t bytes, const std::string &what) {
  // Sizes compared before allocating: a truncated file declaring a huge shape allocates nothing.
  INFC_ASSIGN_OR_RETURN(int64_t need, checkedByteSize(dtype, shape, what));
  if (static_cast<uint64_t>(need) != bytes)
    return invalidArgument(what + ": data has " + std::to_string(bytes) + " bytes, shape needs " + std::to_string(need));
  INFC_ASSIGN_OR_RETURN(Tensor t, create(dtype, std::move(shape), what));
  if (bytes)
    std::memcpy(t.mutableBytes(), data, bytes);
  return t;
}

Tensor Tensor::scalarF32(float v) {
  Tensor t(DType::F32, {});
  *t.mutableData<float>() = v;
  return t;
}
Tensor Tensor::scalarI64(int64_t v) {
  Tensor t(DType::I64, {});
  *t.mutableData<int64_t>() = v;
  return t;
}
Tensor Tensor::fromI64(const std::vector<int64_t> &v) {
  Tensor t(DType::I64, {static_cast<int64_t>(v.size())});
  if (!v.empty())
    std::memcpy(t.mutableBytes(), v.data(), v.size() * 8);
  return t;
}
Tensor Tensor::fromF32(const std::vector<float> &v, std::vector<int64_t> shape) {
  Tensor t(DType::F32, std::move(shape));
  if (!v.empty())
    std::memcpy(t.mutableBytes(), v.data(), v.size() * 4);
  return t;
}

std::byte *Tensor::mutableBytes() {
  if (!storage_)
    return nullptr;
  if (storage_.use_count() > 1)
    storage_ = std::make_shared<std::vector<std::byte>>(*storage_);
  return storage_->data();
}

double Tensor::getDouble(int64_t i) const {
  const std::byte *p = bytes();
  switch (dtype_) {
  case DType::F32: return reinterpret_cast<const float *>(p)[i];
  case DType::F64: return reinterpret_cast<const double *>(p)[i];
  case DType::F16: return halfToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  case DType::BF16: return bf16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  case DType::F8E4M3: return f8e4m3ToFloat(reinterpret_cast<const uint8_t *>(p)[i]);
  case DType::F8E5M2: return f8e5m2ToFloat(reinterpret_cast<const uint8_t *>(p)[i]);
  case DType::I8: return reinterpret_cast<const int8_t *>(p)[i];
  case DType::U8: return reinterpret_cast<const uint8_t *>(p)[i];
  case DType::I16: return reinterpret_cast<const int16_t *>(p)[i];
  case DType::U16: return reinterpret_cast<const uint16_t *>(p)[i];
  case DType::I32: return reinterpret_cast<const int32_t *>(p)[i];
  case DType::U32: return reinterpret_cast<const uint32_t *>(p)[i];
  case DType::I64: return static_cast<double>(reinterpret_cast<const int64_t *>(p)[i]);
  case DType::U64: return static_cast<double>(reinterpret_cast<const uint64_t *>(p)[i]);
  case DType::Bool: return reinterpret_cast<const uint8_t *>(p)[i] ? 1.0 : 0.0;
  default: return 0.0;
  }
}

int64_t Tensor::getInt(int64_t i) const {
  const std::byte *p = bytes();
  switch (dtype_) {
  case DType::I8: return reinterpret_cast<const int8_t *>(p)[i];
  case DType::U8: return reinterpret_cast<const uint8_t *>(p)[i];
  case DType::I16: return reinterpret_cast<const int16_t *>(p)[i];
  case DType::U16: return reinterpret_cast<const uint16_t *>(p)[i];
  case DType::I32: return reinterpret_cast<const int32_t *>(p)[i];
  case DType::U32: return reinterpret_cast<const uint32_t *>(p)[i];
  case DType::I64: return reinterpret_cast<const int64_t *>(p)[i];
  case DType::U64: return static_cast<int64_t>(reinterpret_cast<const uint64_t *>(p)[i]);
  case DType::Bool: return reinterpret_cast<const uint8_t *>(p)[i] ? 1 : 0;
  default: {
    double d = getDouble(i);
    if (std::isnan(d))
      return 0;
    if (d >= 9.2233720368547758e18)
      return INT64_MAX;
    if (d <= -9.2233720368547758e18)
      return INT64_MIN;
    return static_cast<int64_t>(d);
  }
  }
}

template <typename T> static T saturatingFromDouble(double v) {
  if (std::isnan(v))
    return T(0);
  if (v >= static_cast<double>(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest()))
    return std::numeric_limits<T>::lowest();
  return static_cast<T>(v);
}

void Tensor::setDouble(int64_t i, double v) {
  std::byte *p = mutableBytes();
  switch (dtype_) {
  case DType::F32: reinterpret_cast<float *>(p)[i] = static_cast<float>(v); break;
  case DType::F64: reinterpret_cast<double *>(p)[i] = v; break;
  case DType::F16: reinterpret_cast<uint16_t *>(p)[i] = floatToHalf(static_cast<float>(v)); break;
  case DType::BF16: reinterpret_cast<uint16_t *>(p)[i] = floatToBf16(static_cast<float>(v)); break;
  case DType::F8E4M3: reinterpret_cast<uint8_t *>(p)[i] = floatToF8e4m3(static_cast<float>(v)); break;
  case DType::F8E5M2: reinterpret_cast<uint8_t *>(p)[i] = floatToF8e5m2(static_cast<float>(v)); break;
  case DType::Bool: reinterpret_cast<uint8_t *>(p)[i] = v != 0.0; break;
  case DType::I8: reinterpret_cast<int8_t *>(p)[i] = saturatingFromDouble<int8_t>(v); break;
  case DType::U8: reinterpret_cast<uint8_t *>(p)[i] = saturatingFromDouble<uint8_t>(v); break;
  case DType::I16: reinterpret_cast<int16_t *>(p)[i] = saturatingFromDouble<int16_t>(v); break;
  case DType::U16: reinterpret_cast<uint16_t *>(p)[i] = saturatingFromDouble<uint16_t>(v); break;
  case DType::I32: reinterpret_cast<int32_t *>(p)[i] = saturatingFromDouble<int32_t>(v); break;
  case DType::U32: reinterpret_cast<uint32_t *>(p)[i] = saturatingFromDouble<uint32_t>(v); break;
  case DType::I64: reinterpret_cast<int64_t *>(p)[i] = saturatingFromDouble<int64_t>(v); break;
  case DType::U64: reinterpret_cast<uint64_t *>(p)[i] = saturatingFromDouble<uint64_t>(v); break;
  default: break;
  }
}

void Tensor::setInt(int64_t i, int64_t v) {
  std::byte *p = mutableBytes();
  switch (dtype_) {
  case DType::I8: reinterpret_cast<int8_t *>(p)[i] = static_cast<int8_t>(v); break;
  case DType::U8: reinterpret_cast<uint8_t *>(p)[i] = static_cast<uint8_t>(v); break;
  case DType::I16: reinterpret_cast<int16_t *>(p)[i] = static_cast<int16_t>(v); break;
  case DType::U16: reinterpret_cast<uint16_t *>(p)[i] = static_cast<uint16_t>(v); break;
  case DType::I32: reinterpret_cast<int32_t *>(p)[i] = static_cast<int32_t>(v); break;
  case DType::U32: reinterpret_cast<uint32_t *>(p)[i] = static_cast<uint32_t>(v); break;
  case DType::I64: reinterpret_cast<int64_t *>(p)[i] = v; break;
  case DType::U64: reinterpret_cast<uint64_t *>(p)[i] = static_cast<uint64_t>(v); break;
  case DType::Bool: reinterpret_cast<uint8_t *>(p)[i] = v != 0; break;
  default: setDouble(i, static_cast<double>(v)); break;
  }
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::paddedLastAxis(int64_t size) const {
  std::vector<int64_t> shape = shape_;
  int64_t last = shape.empty() ? 1 : shape.back();
  if (shape.empty())
    shape.push_back(1);
  shape.back() = size;
  Tensor out(dtype_, shape);
  size_t rowBytes = static_cast<size_t>(last) * dtypeSize(dtype_), outRowBytes = static_cast<size_t>(size) * dtypeSize(dtype_);
  int64_t rows = last == 0 ? 0 : numElements_ / last;
  std::byte *dst = out.mutableBytes();
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<size_t>(r) * outRowBytes, bytes() + static_cast<size_t>(r) * rowBytes, rowBytes);
  return out;
}

Tensor Tensor::transposed(const std::vector<int64_t> &perm) const {
  std::vector<int64_t> shape, st = strides(), srcStrides;
  for (int64_t p : perm) {
    shape.push_back(shape_[static_cast<size_t>(p)]);
    srcStrides.push_back(st[static_cast<size_t>(p)]);
  }
  Tensor out(dtype_, shape);
  size_t es = dtypeSize(dtype_);
  std::vector<int64_t> idx(shape.size(), 0);
  int64_t src = 0; // source element of idx, kept up to date as idx advances in row-major order
  for (int64_t i = 0; i < out.numElements(); ++i) {
    std::memcpy(out.mutableBytes() + static_cast<size_t>(i) * es, bytes() + static_cast<size_t>(src) * es, es);
    for (size_t d = shape.size(); d-- > 0;) {
      src += srcStrides[d];
      if (++idx[d] < shape[d])
        break;
      src -= srcStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor t = *this;
  if (storage_)
    t.storage_ = std::make_shared<std::vector<std::byte>>(*storage_);
  return t;
}

Tensor Tensor::castTo(DType to) const {
  if (to == dtype_)
    return *this;
  Tensor out(to, shape_);
  bool intPath = (isInteger(dtype_) || dtype_ == DType::Bool) && (isInteger(to) || to == DType::Bool);
  for (int64_t i = 0; i < numElements_; ++i) {
    if (intPath)
      out.setInt(i, getInt(i));
    else if (isFloat(dtype_) && (isInteger(to)))
      out.setInt(i, getInt(i)); // truncation toward zero, saturating at int64 then wrapping
    else
      out.setDouble(i, getDouble(i));
  }
  return out;
}

std::vector<int64_t> Tensor::strides() const {
  std::vector<int64_t> s(shape_.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape_.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape_[i + 1];
  return s;
}

bool Tensor::identical(const Tensor &other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_)
    return false;
  if (byteSize() == 0)
    return true;
  return std::memcmp(bytes(), other.bytes(), byteSize()) == 0;
}

} // namespace infc
