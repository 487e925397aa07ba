#include "runtime/EngineWriter.h"

#include <cstring>

namespace infc::rt {

uint64_t EngineWriter::addWeight(const void *data, size_t bytes) {
  uint64_t off = alignUp(weights_.size());
  weights_.resize(off + bytes, 0);
  if (bytes)
    std::memcpy(weights_.data() + off, data, bytes);
  return off;
}

std::string EngineWriter::finish(flatbuffers::Offset<fb::Engine> root) {
  fb::FinishEngineBuffer(fbb_, root);
  EngineHeader h{};
  std::memcpy(h.magic, kEngineMagic, sizeof h.magic);
  h.formatVersion = kEngineFormatVersion;
  h.byteOrder = kByteOrderMark;
  h.headerBytes = sizeof(EngineHeader);
  h.fbOffset = alignUp(sizeof(EngineHeader));
  h.fbSize = fbb_.GetSize();
  h.weightsOffset = alignUp(h.fbOffset + h.fbSize);
  h.weightsSize = alignUp(weights_.size());
  std::vector<uint8_t> padded = weights_;
  padded.resize(h.weightsSize, 0);
  h.fbCrc = crc32c(fbb_.GetBufferPointer(), h.fbSize);
  h.weightsCrc = crc32c(padded.data(), padded.size());
  h.headerCrc = 0;
  h.headerCrc = crc32c(&h, sizeof h);

  std::string out(h.weightsOffset + h.weightsSize, '\0');
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + h.fbOffset, fbb_.GetBufferPointer(), h.fbSize);
  if (!padded.empty())
    std::memcpy(out.data() + h.weightsOffset, padded.data(), padded.size());
  return out;
}

} // namespace infc::rt
