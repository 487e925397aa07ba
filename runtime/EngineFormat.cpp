#include "runtime/EngineFormat.h"

#include <algorithm>
#include <cstring>

namespace infc::rt {

static const uint32_t *crcTable() {
  static uint32_t table[256];
  static bool init = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)init;
  return table;
}

uint32_t crc32c(const void *data, size_t size, uint32_t crc) {
  const uint32_t *t = crcTable();
  const auto *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static bool rangeOk(uint64_t off, uint64_t size, uint64_t fileSize) {
  return off <= fileSize && size <= fileSize - off;
}

std::string checkHeader(const void *data, size_t fileSize, EngineHeader *out) {
  // A file shorter than the magic that starts like one is a truncated engine, not a foreign file.
  if (fileSize == 0)
    return "truncated: the file is empty";
  if (std::memcmp(data, kEngineMagic, std::min(fileSize, sizeof(kEngineMagic))) != 0)
    return "not an infc engine (bad magic)";
  if (fileSize < sizeof(kEngineMagic))
    return "truncated: " + std::to_string(fileSize) + " bytes, shorter than the 64-byte header";
  if (fileSize < sizeof(EngineHeader))
    return "truncated: " + std::to_string(fileSize) + " bytes, shorter than the 64-byte header";
  EngineHeader h;
  std::memcpy(&h, data, sizeof h);
  if (h.byteOrder != kByteOrderMark)
    return "engine written with a different byte order";
  if (h.formatVersion != kEngineFormatVersion)
    return "engine format version " + std::to_string(h.formatVersion) + ", this runtime reads version " +
           std::to_string(kEngineFormatVersion) + ": rebuild the engine";
  if (h.headerBytes != sizeof(EngineHeader))
    return "header size " + std::to_string(h.headerBytes) + " is not 64";
  EngineHeader zeroed = h;
  zeroed.headerCrc = 0;
  if (crc32c(&zeroed, sizeof zeroed) != h.headerCrc)
    return "header checksum mismatch (corrupted file)";
  if (!rangeOk(h.fbOffset, h.fbSize, fileSize) || !rangeOk(h.weightsOffset, h.weightsSize, fileSize))
    return "truncated: sections end past the " + std::to_string(fileSize) + "-byte file";
  if (h.fbOffset < sizeof(EngineHeader) || h.fbOffset % 8 != 0 || h.weightsOffset % kEngineAlignment != 0)
    return "section offsets are misaligned or overlap the header";
  if (h.fbOffset < h.weightsOffset + h.weightsSize && h.weightsOffset < h.fbOffset + h.fbSize && h.weightsSize && h.fbSize)
    return "sections overlap";
  // The file ends where the last section (rounded up to the alignment) ends: bytes appended to
  // an engine are an error, not zeros to scan.
  uint64_t end = alignUp(std::max(h.fbOffset + h.fbSize, h.weightsOffset + h.weightsSize));
  if (fileSize > end)
    return std::to_string(fileSize - end) + " bytes after the engine's last section (corrupted or appended to)";
  // The writer zero-fills the alignment padding, and no checksum covers it: require zeros so
  // that every single-bit change anywhere in the file is detected.
  const auto *bytes = static_cast<const uint8_t *>(data);
  for (uint64_t i = sizeof(EngineHeader); i < fileSize; ++i) {
    if (i >= h.fbOffset && i < h.fbOffset + h.fbSize) {
      i = h.fbOffset + h.fbSize - 1;
      continue;
    }
    if (i >= h.weightsOffset && i < h.weightsOffset + h.weightsSize) {
      i = h.weightsOffset + h.weightsSize - 1;
      continue;
    }
    if (bytes[i] != 0)
      return "non-zero byte at offset " + std::to_string(i) + " outside the engine's sections (corrupted file)";
  }
  if (out)
    *out = h;
  return "";
}

} // namespace infc::rt
