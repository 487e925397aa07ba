#include "gpu_test_util.h"

#include "compiler/Run.h"
#include "runtime/CudaDriver.h"

#include <cmath>

namespace infc::gputest {

bool haveGpu() {
  static int state = -1;
  if (state < 0) {
    int count = 0;
    state = rt::cudaDriver().loaded && rt::cudaDriver().cuInit(0) == CUDA_SUCCESS && rt::cudaDriver().cuDeviceGetCount(&count) == CUDA_SUCCESS && count > 0;
  }
  return state == 1;
}

Expected<std::vector<Tensor>> buildAndRun(const Module &module, const std::vector<Tensor> &inputs, bool fp16) {
  return runModuleOnGpu(module, inputs, fp16);
}

double toleranceRatio(const Tensor &got, const Tensor &want, double rtol, double atol) {
  if (got.shape() != want.shape())
    return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double g = got.getDouble(i), w = want.getDouble(i);
    if (std::isnan(g) && std::isnan(w))
      continue;
    if (std::isinf(w) && g == w)
      continue;
    double r = std::fabs(g - w) / (atol + rtol * std::fabs(w));
    if (!(r <= worst))
      worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

} // namespace infc::gputest
