// The CUDA driver API, loaded with dlopen at first use. Linking libcuda directly would make every
// infc binary fail to start on machines without a GPU driver (CI, build hosts compiling engines
// for a --target); loading it lazily turns "no driver" into an ordinary error.
#pragma once

#include <cuda.h>

#include <string>

namespace infc::rt {

#define INFC_CUDA_DRIVER_FUNCS(X)                                                                                      \
  X(cuInit) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute) X(cuDeviceTotalMem)          \
  X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent) X(cuCtxGetDevice) X(cuCtxSynchronize)    \
  X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemsetD8)  \
  X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuFuncSetAttribute) X(cuLaunchKernel)                 \
  X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize) X(cuEventCreate) X(cuEventRecord)                        \
  X(cuEventElapsedTime) X(cuEventDestroy) X(cuEventSynchronize) X(cuGetErrorName) X(cuGetErrorString)                 \
  X(cuDriverGetVersion) X(cuStreamBeginCapture) X(cuStreamEndCapture) X(cuGraphInstantiateWithFlags) X(cuGraphLaunch)  \
  X(cuGraphExecDestroy) X(cuGraphDestroy) X(cuCtxGetCurrent) X(cuMemHostAlloc) X(cuMemFreeHost)

/// Function pointers into libcuda. `loaded` is false (and `error` says why) without a driver.
struct CudaDriver {
  bool loaded = false;
  std::string error;
#define INFC_DECLARE_CU(name) decltype(&::name) name = nullptr;
  INFC_CUDA_DRIVER_FUNCS(INFC_DECLARE_CU)
#undef INFC_DECLARE_CU
};

/// Loads libcuda.so.1 once (thread-safe).
const CudaDriver &cudaDriver();

/// "" on success, else "<what>: <CUDA error name>: <description>" (or why there is no driver).
std::string cuCheck(CUresult r, const std::string &what);

} // namespace infc::rt
