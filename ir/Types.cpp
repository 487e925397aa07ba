#include "ir/Types.h"

namespace infc {

TensorType TensorType::fromStatic(DType elem, const std::vector<int64_t> &shape) {
  std::vector<Dim> dims;
  dims.reserve(shape.size());
  for (int64_t d : shape)
    dims.emplace_back(d);
  return TensorType(elem, std::move(dims));
}

bool TensorType::isStatic() const {
  if (!ranked_)
    return false;
  for (const Dim &d : shape_)
    if (!d.isStatic())
      return false;
  return true;
}

std::vector<int64_t> TensorType::staticShape() const {
  std::vector<int64_t> s;
  s.reserve(shape_.size());
  for (const Dim &d : shape_)
    s.push_back(d.value);
  return s;
}

std::optional<int64_t> TensorType::numElements() const {
  if (!isStatic())
    return std::nullopt;
  int64_t n = 1;
  for (const Dim &d : shape_)
    if (__builtin_mul_overflow(n, d.value, &n))
      return std::nullopt;
  return n;
}

static void appendQuoted(std::string &out, const std::string &s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char *hex = "0123456789abcdef";
      out += "\\x";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string TensorType::str() const {
  std::string s = "tensor<";
  if (!ranked_) {
    s += "*x";
  } else {
    for (const Dim &d : shape_) {
      if (d.isStatic())
        s += std::to_string(d.value);
      else if (!d.symbol.empty())
        appendQuoted(s, d.symbol);
      else
        s += '?';
      s += 'x';
    }
  }
  s += dtypeName(elem_);
  s += '>';
  return s;
}

} // namespace infc
