#include "runtime/CudaDriver.h"

#include <dlfcn.h>

namespace infc::rt {

const CudaDriver &cudaDriver() {
  static const CudaDriver driver = [] {
    CudaDriver d;
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      d.error = "no CUDA driver (libcuda.so.1 not found)";
      return d;
    }
    using GetProc = CUresult (*)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);
    auto getProc = reinterpret_cast<GetProc>(dlsym(lib, "cuGetProcAddress_v2"));
    if (!getProc) {
      d.error = "the CUDA driver is too old (no cuGetProcAddress_v2)";
      return d;
    }
    // cuGetProcAddress maps API names to the versions this header was written against. CUDA 13
    // gave cuCtxSynchronize a context parameter (cuCtxSynchronize_v2) while cuda.h keeps the
    // old `cuCtxSynchronize(void)` name: ask for the version whose signature we call.
#define INFC_LOAD_CU(name)                                                                                             \
  {                                                                                                                    \
    void *p = nullptr;                                                                                                 \
    CUdriverProcAddressQueryResult q;                                                                                  \
    int version = std::string(#name) == "cuCtxSynchronize" ? 12000 : CUDA_VERSION;                                    \
    if (getProc(#name, &p, version, CU_GET_PROC_ADDRESS_DEFAULT, &q) != CUDA_SUCCESS || !p) {                          \
      d.error = std::string("the CUDA driver lacks ") + #name + " (driver older than CUDA " +                         \
                std::to_string(CUDA_VERSION / 1000) + "." + std::to_string(CUDA_VERSION % 1000 / 10) + "?)";          \
      return d;                                                                                                        \
    }                                                                                                                  \
    d.name = reinterpret_cast<decltype(d.name)>(p);                                                                    \
  }
    INFC_CUDA_DRIVER_FUNCS(INFC_LOAD_CU)
#undef INFC_LOAD_CU
    d.loaded = true;
    return d;
  }();
  return driver;
}

std::string cuCheck(CUresult r, const std::string &what) {
  if (r == CUDA_SUCCESS)
    return "";
  const char *name = nullptr, *desc = nullptr;
  if (!cudaDriver().loaded)
    return what + ": " + cudaDriver().error;
  cudaDriver().cuGetErrorName(r, &name);
  cudaDriver().cuGetErrorString(r, &desc);
  return what + ": " + (name ? name : "CUDA error") + ": " + (desc ? desc : "");
}

} // namespace infc::rt
