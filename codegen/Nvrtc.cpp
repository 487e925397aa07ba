#include "codegen/Nvrtc.h"

#include <nvrtc.h>

namespace infc::codegen {

static Status nvrtcError(nvrtcResult r, const std::string &what) {
  return internalError(what + ": " + nvrtcGetErrorString(r));
}

Expected<CubinResult> compileToCubin(const std::string &source, const std::string &name, int smMajor, int smMinor) {
  nvrtcProgram prog;
  if (nvrtcResult r = nvrtcCreateProgram(&prog, source.c_str(), name.c_str(), 0, nullptr, nullptr); r != NVRTC_SUCCESS)
    return nvrtcError(r, "nvrtcCreateProgram");
  std::string arch = "--gpu-architecture=sm_" + std::to_string(smMajor) + std::to_string(smMinor);
  // No fast-math: kernels must match the reference interpreter within tight tolerances. No
  // -lineinfo: its line table records the working directory, so the same build from two folders
  // gave different engine bytes.
  const char *opts[] = {arch.c_str(), "--std=c++17", "-default-device", "--fmad=true"};
  nvrtcResult compiled = nvrtcCompileProgram(prog, static_cast<int>(sizeof opts / sizeof opts[0]), opts);
  CubinResult out;
  size_t logSize = 0;
  nvrtcGetProgramLogSize(prog, &logSize);
  if (logSize > 1) {
    out.log.resize(logSize);
    nvrtcGetProgramLog(prog, out.log.data());
    out.log.resize(logSize - 1);
  }
  if (compiled != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&prog);
    return internalError("NVRTC failed to compile generated kernels '" + name + "' for " + arch + ":\n" + out.log);
  }
  size_t size = 0;
  if (nvrtcResult r = nvrtcGetCUBINSize(prog, &size); r != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&prog);
    return nvrtcError(r, "nvrtcGetCUBINSize");
  }
  out.cubin.resize(size);
  nvrtcResult got = nvrtcGetCUBIN(prog, out.cubin.data());
  nvrtcDestroyProgram(&prog);
  if (got != NVRTC_SUCCESS)
    return nvrtcError(got, "nvrtcGetCUBIN");
  return out;
}

int nvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return 0;
  return major * 1000 + minor * 10;
}

} // namespace infc::codegen
