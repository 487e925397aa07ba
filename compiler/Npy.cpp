#include "compiler/Npy.h"

#include "compiler/FileUtil.h"

#include <cstring>

namespace infc {

namespace {

const char *descrOf(DType t) {
  switch (t) {
  case DType::F32: return "<f4";
  case DType::F64: return "<f8";
  case DType::F16: return "<f2";
  case DType::I8: return "|i1";
  case DType::U8: return "|u1";
  case DType::I16: return "<i2";
  case DType::U16: return "<u2";
  case DType::I32: return "<i4";
  case DType::U32: return "<u4";
  case DType::I64: return "<i8";
  case DType::U64: return "<u8";
  case DType::Bool: return "|b1";
  default: return nullptr;
  }
}

std::optional<DType> dtypeOfDescr(const std::string &d) {
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::I8, DType::U8, DType::I16, DType::U16, DType::I32,
                  DType::U32, DType::I64, DType::U64, DType::Bool})
    if (d == descrOf(t))
      return t;
  return std::nullopt;
}

/// Value of `'key': value` in the header dict (string, bool or tuple text).
std::string field(const std::string &header, const std::string &key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return "";
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return "";
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    return "";
  if (header[start] == '\'') {
    size_t end = header.find('\'', start + 1);
    return end == std::string::npos ? "" : header.substr(start + 1, end - start - 1);
  }
  if (header[start] == '(') {
    size_t end = header.find(')', start);
    return end == std::string::npos ? "" : header.substr(start, end - start + 1);
  }
  size_t end = header.find_first_of(",}", start);
  return header.substr(start, end - start);
}

} // namespace

Expected<Tensor> readNpy(const std::string &path) {
  INFC_ASSIGN_OR_RETURN(std::string data, readFile(path));
  return parseNpy(data, path);
}

Expected<Tensor> parseNpy(const std::string &data, const std::string &path) {
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    return invalidArgument(path + ": not a .npy file");
  uint8_t major = static_cast<uint8_t>(data[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<uint8_t>(data[8]) | (static_cast<size_t>(static_cast<uint8_t>(data[9])) << 8);
    headerStart = 10;
  } else if ((major == 2 || major == 3) && data.size() >= 12) {
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= static_cast<size_t>(static_cast<uint8_t>(data[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return invalidArgument(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (headerStart + headerLen > data.size())
    return invalidArgument(path + ": truncated .npy header");
  std::string header = data.substr(headerStart, headerLen);
  std::optional<DType> t = dtypeOfDescr(field(header, "descr"));
  if (!t)
    return unsupported(path + ": unsupported .npy dtype '" + field(header, "descr") + "'");
  if (field(header, "fortran_order") != "False")
    return unsupported(path + ": Fortran-order .npy arrays are not supported");
  std::string shapeText = field(header, "shape");
  if (shapeText.size() < 2)
    return invalidArgument(path + ": bad .npy shape");
  std::vector<int64_t> shape;
  std::string inner = shapeText.substr(1, shapeText.size() - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t comma = inner.find(',', pos);
    std::string item = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t a = item.find_first_not_of(' ');
    if (a != std::string::npos) {
      char *end = nullptr;
      long long v = std::strtoll(item.c_str() + a, &end, 10);
      if (v < 0)
        return invalidArgument(path + ": negative .npy dimension");
      shape.push_back(v);
    }
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  size_t dataStart = headerStart + headerLen;
  return Tensor::fromBytes(*t, shape, data.data() + dataStart, data.size() - dataStart, path);
}

std::string npyBytes(const Tensor &t) {
  DType dt = t.dtype();
  Tensor src = t;
  if (!descrOf(dt)) // bf16 / f8 have no numpy dtype: widen to f32
    src = t.castTo(DType::F32), dt = DType::F32;
  std::string shape = "(";
  for (int64_t d : src.shape())
    shape += std::to_string(d) + (src.rank() == 1 ? ",)" : ", ");
  if (src.rank() != 1) {
    if (src.rank() > 1)
      shape.resize(shape.size() - 2);
    shape += ")";
  }
  std::string header = "{'descr': '" + std::string(descrOf(dt)) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(1);
  out += static_cast<char>(0);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char *>(src.bytes()), src.byteSize());
  return out;
}

} // namespace infc
