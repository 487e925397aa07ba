// Test helpers that forge engine files: the FlatBuffer of an engine edited in place, and the
// header's checksums recomputed afterwards (as a forger, or a buggy writer, would), so that the
// structural checks behind the checksums are what must catch the damage. Shared by the unit, GPU
// and fuzz tests.
#pragma once

#include "runtime/EngineFormat.h"
#include "runtime/engine_generated.h"

#include <cstring>
#include <string>

namespace infc::testing {

/// The header of engine file `bytes` (at least a header's size).
inline rt::EngineHeader engineHeader(const std::string &bytes) {
  rt::EngineHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

/// The FlatBuffer of engine file `bytes`, to edit in place.
inline fb::Engine *mutableEngine(std::string &bytes) {
  return fb::GetMutableEngine(bytes.data() + engineHeader(bytes).fbOffset);
}

/// Recomputes every checksum of engine file `bytes`; sections that no longer fit in the file (a
/// forged size) keep their old checksums, and a file shorter than a header is left as it is.
inline void reseal(std::string &bytes) {
  if (bytes.size() < sizeof(rt::EngineHeader))
    return;
  rt::EngineHeader h = engineHeader(bytes);
  if (h.fbOffset <= bytes.size() && h.fbSize <= bytes.size() - h.fbOffset)
    h.fbCrc = rt::crc32c(bytes.data() + h.fbOffset, h.fbSize);
  if (h.weightsOffset <= bytes.size() && h.weightsSize <= bytes.size() - h.weightsOffset)
    h.weightsCrc = rt::crc32c(bytes.data() + h.weightsOffset, h.weightsSize);
  h.headerCrc = 0;
  h.headerCrc = rt::crc32c(&h, sizeof h);
  std::memcpy(bytes.data(), &h, sizeof h);
}

} // namespace infc::testing
