// NVRTC: CUDA C source -> cubin for a target compute capability. Works without a GPU.
#pragma once

#include "ir/Status.h"

#include <string>
#include <vector>

namespace infc::codegen {

struct CubinResult {
  std::string cubin;
  std::string log;
};

/// Compiles `source` (named `name` in diagnostics) for sm_<smMajor><smMinor>. Errors carry the
/// NVRTC log (our bug if it ever happens: generated code must compile).
Expected<CubinResult> compileToCubin(const std::string &source, const std::string &name, int smMajor, int smMinor);

/// NVRTC version as major*1000 + minor*10, or 0 if unavailable.
int nvrtcVersion();

} // namespace infc::codegen
