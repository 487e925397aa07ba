// The fixed engine-file header and its checks. No CUDA here: the format is verified on any host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace infc::rt {

constexpr char kEngineMagic[8] = {'I', 'N', 'F', 'C', 'P', 'L', 'A', 'N'};
constexpr uint32_t kEngineFormatVersion = 1;
constexpr uint32_t kByteOrderMark = 0x01020304u;
/// Weight blob and FlatBuffer alignment inside the file (so the blob can be mmapped and uploaded
/// without copies, and each weight tensor starts on a 256-byte boundary).
constexpr uint64_t kEngineAlignment = 256;

/// 64 bytes, little endian, at offset 0.
struct EngineHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t byteOrder;
  uint32_t headerBytes;
  uint32_t headerCrc;      ///< CRC-32C of the header with this field zero
  uint64_t fbOffset;
  uint64_t fbSize;
  uint64_t weightsOffset;
  uint64_t weightsSize;
  uint32_t fbCrc;          ///< CRC-32C of the FlatBuffer bytes
  uint32_t weightsCrc;     ///< CRC-32C of the weight blob
};
static_assert(sizeof(EngineHeader) == 64, "engine header must be 64 bytes");

/// CRC-32C (Castagnoli), incremental: pass the previous value to continue.
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

/// Checks the header against a file of `fileSize` bytes. Returns "" when valid, else one
/// sentence saying what is wrong ("not an infc engine (bad magic)", "truncated: ...").
std::string checkHeader(const void *data, size_t fileSize, EngineHeader *out);

/// Rounds up to kEngineAlignment.
inline uint64_t alignUp(uint64_t v, uint64_t a = kEngineAlignment) { return (v + a - 1) / a * a; }

} // namespace infc::rt
