#include "ir/onnx/TensorProto.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace infc {

namespace {

/// Opens `location` inside `baseDir`: relative, no `..`, no symlink anywhere on the way.
Expected<std::string> readExternal(const std::string &baseDir, const std::string &location, int64_t offset,
                                   int64_t length, size_t need, const std::string &what) {
  if (baseDir.empty())
    return invalidArgument(what + ": external data is not allowed here");
  if (location.empty())
    return invalidArgument(what + ": external data has no location");
  if (location[0] == '/')
    return invalidArgument(what + ": external data location '" + location + "' is an absolute path");
  if (location.back() == '/')
    return invalidArgument(what + ": external data location '" + location + "' names a folder");
  std::string path = baseDir;
  size_t start = 0;
  while (start <= location.size()) {
    size_t slash = location.find('/', start);
    std::string part = location.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..")
      return invalidArgument(what + ": external data location '" + location + "' escapes the model's folder");
    if (!part.empty() && part != ".") {
      path += "/" + part;
      struct stat st;
      if (lstat(path.c_str(), &st) != 0)
        return invalidArgument(what + ": external data file '" + location + "' does not exist");
      if (S_ISLNK(st.st_mode))
        return invalidArgument(what + ": external data location '" + location + "' goes through a symbolic link");
    }
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  // Non-blocking, so a FIFO planted as external data cannot hang the import; then every check on
  // the open descriptor, never on the path again.
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return invalidArgument(what + ": cannot open external data '" + location + "': " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return invalidArgument(what + ": external data '" + location + "' is not a regular file");
  }
  // A second hard link inside the model's folder can name any file of the same file system
  // (/etc/passwd): external data must be the file's only name.
  if (st.st_nlink != 1) {
    close(fd);
    return invalidArgument(what + ": external data '" + location + "' has " + std::to_string(st.st_nlink) +
                           " hard links; it must be the file's only name");
  }
  int64_t fileSize = st.st_size;
  if (offset < 0 || offset > fileSize) {
    close(fd);
    return invalidArgument(what + ": external data offset " + std::to_string(offset) + " is past the end of '" +
                           location + "' (" + std::to_string(fileSize) + " bytes)");
  }
  int64_t len = length < 0 ? fileSize - offset : length;
  if (len > fileSize - offset) {
    close(fd);
    return invalidArgument(what + ": external data range [" + std::to_string(offset) + ", " + std::to_string(offset + len) +
                           ") is past the end of '" + location + "' (" + std::to_string(fileSize) + " bytes)");
  }
  if (static_cast<size_t>(len) != need) {
    close(fd);
    return invalidArgument(what + ": external data has " + std::to_string(len) + " bytes, the tensor needs " +
                           std::to_string(need));
  }
  std::string data(static_cast<size_t>(len), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t r = pread(fd, data.data() + got, data.size() - got, offset + static_cast<off_t>(got));
    if (r <= 0) {
      close(fd);
      return invalidArgument(what + ": reading external data '" + location + "' failed");
    }
    got += static_cast<size_t>(r);
  }
  close(fd);
  return data;
}

} // namespace

Expected<Tensor> tensorFromProto(const onnx::TensorProto &p, const std::string &baseDir, const std::string &what) {
  if (p.data_type() == onnx::TensorProto::STRING)
    return unsupported(what + ": string tensors are not supported");
  std::optional<DType> dt = dtypeFromOnnx(p.data_type());
  if (!dt)
    return unsupported(what + ": tensor element type " + std::to_string(p.data_type()) + " is not supported");
  std::vector<int64_t> shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape)
    if (d < 0)
      return invalidArgument(what + ": negative dimension " + std::to_string(d));
  // Validate the data against the declared size before allocating anything: a few bytes of
  // model must not be able to claim gigabytes of memory.
  INFC_ASSIGN_OR_RETURN(int64_t declared, checkedByteSize(*dt, shape, what));
  if (p.data_location() != onnx::TensorProto::EXTERNAL) {
    if (p.has_raw_data() && p.raw_data().size() != static_cast<size_t>(declared))
      return invalidArgument(what + ": raw_data has " + std::to_string(p.raw_data().size()) + " bytes, shape and type need " +
                             std::to_string(declared));
    int64_t values = int64_t(p.float_data_size()) + p.int32_data_size() + p.int64_data_size() + p.double_data_size() +
                     p.uint64_data_size();
    int64_t elems = declared / static_cast<int64_t>(dtypeSize(*dt) ? dtypeSize(*dt) : 1);
    if (!p.has_raw_data() && values < elems)
      return invalidArgument(what + ": has " + std::to_string(values) + " values, its shape needs " + std::to_string(elems));
  }
  INFC_ASSIGN_OR_RETURN(Tensor t, Tensor::create(*dt, shape, what));
  size_t need = t.byteSize();
  int64_t n = t.numElements();

  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : p.external_data()) {
      if (kv.key() == "location") {
        location = kv.value();
        continue;
      }
      if (kv.key() != "offset" && kv.key() != "length")
        continue;
      // A decimal count of bytes, nothing else: no sign, no overflow, no trailing text.
      errno = 0;
      char *end = nullptr;
      long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || errno != 0 || *end != '\0' || v < 0)
        return invalidArgument(what + ": external data " + kv.key() + " '" + kv.value() + "' is not a byte count");
      (kv.key() == "offset" ? offset : length) = v;
    }
    INFC_ASSIGN_OR_RETURN(std::string bytes, readExternal(baseDir, location, offset, length, need, what));
    if (need)
      std::memcpy(t.mutableBytes(), bytes.data(), need);
    return t;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != need)
      return invalidArgument(what + ": raw_data has " + std::to_string(p.raw_data().size()) + " bytes, shape and type need " +
                             std::to_string(need));
    if (need)
      std::memcpy(t.mutableBytes(), p.raw_data().data(), need);
    return t;
  }
  auto mismatch = [&](int64_t have) {
    return invalidArgument(what + ": has " + std::to_string(have) + " values, its shape needs " + std::to_string(n));
  };
  switch (*dt) {
  case DType::F32:
    if (p.float_data_size() != n)
      return mismatch(p.float_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.mutableData<float>()[i] = p.float_data(static_cast<int>(i));
    break;
  case DType::F64:
    if (p.double_data_size() != n)
      return mismatch(p.double_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.mutableData<double>()[i] = p.double_data(static_cast<int>(i));
    break;
  case DType::I64:
    if (p.int64_data_size() != n)
      return mismatch(p.int64_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.mutableData<int64_t>()[i] = p.int64_data(static_cast<int>(i));
    break;
  case DType::U32: case DType::U64:
    if (p.uint64_data_size() != n)
      return mismatch(p.uint64_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, static_cast<int64_t>(p.uint64_data(static_cast<int>(i))));
    break;
  default: {
    // int32_data carries i32, i16, i8, u16, u8, bool and the raw bits of f16/bf16/f8.
    if (p.int32_data_size() != n)
      return mismatch(p.int32_data_size());
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = p.int32_data(static_cast<int>(i));
      switch (*dt) {
      case DType::F16: case DType::BF16: t.mutableData<uint16_t>()[i] = static_cast<uint16_t>(v); break;
      case DType::F8E4M3: case DType::F8E5M2: t.mutableData<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      default: t.setInt(i, v); break;
      }
    }
  }
  }
  return t;
}

} // namespace infc
