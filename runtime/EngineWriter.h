// Assembles engine files: header + FlatBuffer + aligned weight blob. Deterministic: the same
// calls give the same bytes (no timestamps, no pointers, no hash-map order).
#pragma once

#include "runtime/EngineFormat.h"
#include "runtime/engine_generated.h"

#include <string>
#include <vector>

namespace infc::rt {

class EngineWriter {
public:
  flatbuffers::FlatBufferBuilder &builder() { return fbb_; }
  /// Appends a weight tensor's bytes at the next 256-byte boundary; returns its blob offset.
  uint64_t addWeight(const void *data, size_t bytes);
  uint64_t weightBytes() const { return weights_.size(); }
  /// Finishes the FlatBuffer with `root` and returns the whole file.
  std::string finish(flatbuffers::Offset<fb::Engine> root);

private:
  flatbuffers::FlatBufferBuilder fbb_{1 << 16};
  std::vector<uint8_t> weights_;
};

} // namespace infc::rt
