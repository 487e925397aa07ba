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
///
/// The compile runs in a process of its own, `infc-nvrtc` next to the running executable, when
/// there is one (INFC_NVRTC_IN_PROCESS=1 turns that off): NVRTC's machine code for the same source
/// and options was found to depend on the state of the process it runs in (MobileNetV2's GPU
/// build and its CPU-only build differed in three kernels, docs/ci.md), and engines must be
/// byte-identical wherever they are built. A crash inside NVRTC then fails the build, not infc.
Expected<CubinResult> compileToCubin(const std::string &source, const std::string &name, int smMajor, int smMinor);

/// The same compile in this process (what `infc-nvrtc` runs).
Expected<CubinResult> compileToCubinInProcess(const std::string &source, const std::string &name, int smMajor,
                                              int smMinor);

/// `infc-nvrtc`'s side of the exchange: reads a request from `in`, compiles it in process, writes
/// the answer to `out`. Returns the process exit status (0 unless the request is malformed).
int serveNvrtcRequest(int in, int out);

/// NVRTC version as major*1000 + minor*10, or 0 if unavailable.
int nvrtcVersion();

} // namespace infc::codegen
