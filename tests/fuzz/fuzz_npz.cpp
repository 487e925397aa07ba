// libFuzzer target: bytes as an .npz calibration batch (ZIP and ZIP64 records, then each member
// as .npy). Errors are expected; crashes, hangs and sanitizer reports are bugs.
#include "compiler/Npz.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)infc::parseNpz(std::string(reinterpret_cast<const char *>(data), size), "fuzz.npz");
  return 0;
}
