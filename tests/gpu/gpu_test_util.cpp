#include "gpu_test_util.h"

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

static Status apiCheck(infc_status s) {
  return s == INFC_OK ? Status::ok() : Status(StatusCode::DeviceError, infc_last_error());
}

Expected<std::vector<Tensor>> buildAndRun(const Module &module, const std::vector<Tensor> &inputs, bool fp16) {
  CUdevice dev;
  rt::cudaDriver().cuDeviceGet(&dev, 0);
  int major = 0, minor = 0;
  rt::cudaDriver().cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  rt::cudaDriver().cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  char name[256] = {0};
  rt::cudaDriver().cuDeviceGetName(name, sizeof name, dev);
  codegen::EngineBuildOptions opts;
  opts.lowering.smMajor = major;
  opts.lowering.smMinor = minor;
  opts.lowering.fp16 = fp16;
  opts.gpuName = name;
  INFC_ASSIGN_OR_RETURN(codegen::EngineBuildResult built, codegen::buildEngine(module, opts, "test"));
  infc_engine *engine = nullptr;
  INFC_RETURN_IF_ERROR(apiCheck(infc_engine_load_bytes(built.bytes.data(), built.bytes.size(), &engine)));
  infc_context *ctx = nullptr;
  Status st = apiCheck(infc_context_create(engine, &ctx));
  std::vector<Tensor> outs;
  const Graph &g = *module.mainGraph();
  for (size_t i = 0; st.isOk() && i < inputs.size(); ++i) {
    void *p = nullptr;
    st = apiCheck(infc_context_tensor_address(ctx, g.body().argument(i)->name().c_str(), &p));
    if (st.isOk() && rt::cudaDriver().cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(p), inputs[i].bytes(), inputs[i].byteSize()) != CUDA_SUCCESS)
      st = Status(StatusCode::DeviceError, "copying input");
  }
  if (st.isOk())
    st = apiCheck(infc_context_enqueue(ctx, nullptr));
  if (st.isOk() && rt::cudaDriver().cuCtxSynchronize() != CUDA_SUCCESS)
    st = Status(StatusCode::DeviceError, "engine execution failed");
  for (size_t o = 0; st.isOk() && o < g.outputs().size(); ++o) {
    const Value *v = g.outputs()[o].value;
    Tensor t(v->type().elem(), v->type().staticShape());
    void *p = nullptr;
    st = apiCheck(infc_context_tensor_address(ctx, g.outputs()[o].name.c_str(), &p));
    if (st.isOk() && rt::cudaDriver().cuMemcpyDtoH(t.mutableBytes(), reinterpret_cast<CUdeviceptr>(p), t.byteSize()) != CUDA_SUCCESS)
      st = Status(StatusCode::DeviceError, "copying output");
    outs.push_back(std::move(t));
  }
  infc_context_free(ctx);
  infc_engine_free(engine);
  if (!st.isOk())
    return st;
  return outs;
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
