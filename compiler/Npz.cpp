#include "compiler/Npz.h"

#include "compiler/FileUtil.h"
#include "compiler/Npy.h"

namespace infc {

namespace {

uint64_t le(const std::string &d, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(d[at + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

constexpr uint32_t kEndOfCentralDir = 0x06054b50, kZip64EndLocator = 0x07064b50, kZip64End = 0x06064b50;
constexpr uint32_t kCentralEntry = 0x02014b50, kLocalHeader = 0x04034b50;

} // namespace

Expected<std::vector<std::pair<std::string, Tensor>>> readNpz(const std::string &path) {
  INFC_ASSIGN_OR_RETURN(std::string d, readFile(path));
  return parseNpz(d, path);
}

Expected<std::vector<std::pair<std::string, Tensor>>> parseNpz(const std::string &d, const std::string &path) {
  auto bad = [&](const std::string &why) { return invalidArgument(path + ": not a readable .npz file (" + why + ")"); };
  // The end-of-central-directory record: the last 22+ bytes (a comment may follow it).
  if (d.size() < 22)
    return bad("too short");
  size_t eocd = std::string::npos;
  for (size_t i = d.size() - 22;; --i) {
    if (le(d, i, 4) == kEndOfCentralDir) {
      eocd = i;
      break;
    }
    if (i == 0 || d.size() - i > 22 + 65535)
      break;
  }
  if (eocd == std::string::npos)
    return bad("no ZIP end record; truncated?");
  uint64_t entries = le(d, eocd + 10, 2), cdSize = le(d, eocd + 12, 4), cdOffset = le(d, eocd + 16, 4);
  if (entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
    if (eocd < 20 || le(d, eocd - 20, 4) != kZip64EndLocator)
      return bad("ZIP64 end record missing");
    uint64_t z = le(d, eocd - 20 + 8, 8);
    if (z > d.size() || d.size() - z < 56 || le(d, z, 4) != kZip64End)
      return bad("bad ZIP64 end record");
    entries = le(d, z + 32, 8);
    cdSize = le(d, z + 40, 8);
    cdOffset = le(d, z + 48, 8);
  }
  if (cdOffset > d.size() || cdSize > d.size() - cdOffset)
    return bad("central directory outside the file; truncated?");
  std::vector<std::pair<std::string, Tensor>> out;
  size_t p = cdOffset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (p > d.size() || d.size() - p < 46 || le(d, p, 4) != kCentralEntry)
      return bad("bad central directory entry");
    uint64_t method = le(d, p + 10, 2), compSize = le(d, p + 20, 4), size = le(d, p + 24, 4);
    uint64_t nameLen = le(d, p + 28, 2), extraLen = le(d, p + 30, 2), commentLen = le(d, p + 32, 2);
    uint64_t local = le(d, p + 42, 4);
    if (d.size() - p - 46 < nameLen + extraLen + commentLen)
      return bad("bad central directory entry");
    std::string name = d.substr(p + 46, nameLen);
    // ZIP64 sizes and offset: in the extra field, in this order, for the fields that are 0xFFFFFFFF.
    size_t x = p + 46 + nameLen, xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      uint64_t id = le(d, x, 2), len = le(d, x + 2, 2);
      if (x + 4 + len > xEnd)
        return bad("bad extra field of '" + name + "'");
      if (id == 1) {
        size_t q = x + 4, qEnd = q + len;
        for (uint64_t *f : {&size, &compSize, &local})
          if (*f == 0xFFFFFFFF) {
            if (q + 8 > qEnd)
              return bad("bad ZIP64 field of '" + name + "'");
            *f = le(d, q, 8);
            q += 8;
          }
      }
      x += 4 + len;
    }
    p = xEnd + commentLen;
    if (method != 0)
      return unsupported(path + ": array '" + name + "' is compressed (np.savez_compressed); write the file with np.savez");
    if (local > d.size() || d.size() - local < 30 || le(d, local, 4) != kLocalHeader)
      return bad("bad local header of '" + name + "'");
    uint64_t dataAt = local + 30 + le(d, local + 26, 2) + le(d, local + 28, 2);
    if (dataAt > d.size() || compSize > d.size() - dataAt || compSize != size)
      return bad("member '" + name + "' runs past the end of the file; truncated?");
    std::string array = name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 ? name.substr(0, name.size() - 4) : name;
    INFC_ASSIGN_OR_RETURN(Tensor t, parseNpy(d.substr(dataAt, compSize), path + ": array '" + array + "'"));
    out.emplace_back(array, std::move(t));
  }
  return out;
}

} // namespace infc
