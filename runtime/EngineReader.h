// Loading and verifying engine files. Everything is checked before use: header, checksums, the
// FlatBuffers verifier, then semantic checks (offsets and sizes in range, references valid).
// No CUDA here, so `infc inspect` and the tests run on any host.
#pragma once

#include "runtime/EngineFormat.h"
#include "runtime/engine_generated.h"

#include <memory>
#include <string>
#include <vector>

namespace infc::rt {

/// Bytes per element for an infc dtype number; 0 for unknown.
size_t dtypeBytes(int32_t dtype);

/// A verified engine held in memory.
class EngineView {
public:
  /// Verifies `bytes` (takes ownership). On failure returns nullptr and sets `error` to one
  /// sentence, e.g. "checksum mismatch in the weight blob (corrupted file)".
  static std::unique_ptr<EngineView> fromBytes(std::string bytes, std::string &error);
  /// Runs every check fromBytes runs on `bytes` without taking them: "" when they pass. The builder
  /// runs it on what it is about to write, so it never writes an engine its reader rejects.
  static std::string verify(const std::string &bytes);
  /// Reads and verifies a file; errors are prefixed with the path.
  static std::unique_ptr<EngineView> fromFile(const std::string &path, std::string &error);

  const fb::Engine &engine() const { return *engine_; }
  const EngineHeader &header() const { return header_; }
  const uint8_t *weights() const { return reinterpret_cast<const uint8_t *>(bytes_.data()) + header_.weightsOffset; }
  uint64_t weightsSize() const { return header_.weightsSize; }
  const std::string &bytes() const { return bytes_; }

private:
  std::string bytes_;
  EngineHeader header_{};
  const fb::Engine *engine_ = nullptr;
};

/// Semantic checks of a FlatBuffers-verified engine. Returns "" or the first problem.
std::string checkEngineSemantics(const fb::Engine &engine, uint64_t weightsSize);

/// A dim-fit engine's dim at input dim value x: floor((x + offset) / divisor).
inline int64_t dimAtomValue(const fb::DimAtom &a, int64_t x) {
  int64_t v = x + a.offset(), s = a.divisor();
  return v / s - ((v % s != 0 && v < 0) ? 1 : 0);
}

/// "" when an engine built with `info` can run on a GPU of compute capability major.minor named
/// `gpuName`; otherwise the user-facing error ("engine built for sm_90 (...), this GPU is sm_89
/// (...): rebuild it"). Cubins and tactics are per compute capability, so only an exact match runs.
std::string checkDeviceMatch(const fb::BuildInfo &info, int major, int minor, const std::string &gpuName);

} // namespace infc::rt
