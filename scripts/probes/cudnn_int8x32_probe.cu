// A probe, not part of the build: cuDNN's legacy convolution API on ResNet-50's shapes at batch
// 256, INT8 in the vectorized NC/32HW32 layout (CUDNN_DATA_INT8x32, CUDNN_TENSOR_NCHW_VECT_C,
// the layout cuDNN's IMMA kernels take) and INT8 NHWC, against FP16 NHWC, each through
// cudnnConvolutionBiasActivationForward (scale, bias, ReLU: the fused requantization infc's INT8
// convolutions need). The backend graphs infc builds for INT8 NHWC ran no faster than FP16 on the
// H200 (docs/int8.md); this asks whether the vectorized layout reaches the tensor cores.
// Build here, run on the GPU machine:
//   nvcc -O2 -arch=sm_90 -o /tmp/x32probe scripts/probes/cudnn_int8x32_probe.cu -lcudnn && /tmp/x32probe
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CK(x)                                                                                                          \
  do {                                                                                                                 \
    cudaError_t e_ = (x);                                                                                              \
    if (e_) {                                                                                                          \
      printf("CUDA %s at %d\n", cudaGetErrorString(e_), __LINE__);                                                     \
      exit(1);                                                                                                         \
    }                                                                                                                  \
  } while (0)

struct Shape {
  const char *name;
  int n, c, h, w, k, r, stride;
};

struct Config {
  const char *name;
  cudnnDataType_t xType, wType, yType, convType, biasType;
  cudnnTensorFormat_t format;
  int vect; ///< channels per vector (32 for INT8x32, 1 otherwise)
};

/// Median time of the fastest algorithm cuDNN lists for `cfg` on `s`, or -1 with why in `info`.
double timeConv(cudnnHandle_t h, const Shape &s, const Config &cfg, void *x, void *w, void *y, void *z, void *bias,
                void *ws, size_t wsBytes, std::string &info) {
  int p = s.r / 2, ho = (s.h + 2 * p - s.r) / s.stride + 1, wo = (s.w + 2 * p - s.r) / s.stride + 1;
  cudnnTensorDescriptor_t xd, yd, bd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  cudnnActivationDescriptor_t ad;
  cudnnCreateTensorDescriptor(&xd);
  cudnnCreateTensorDescriptor(&yd);
  cudnnCreateTensorDescriptor(&bd);
  cudnnCreateFilterDescriptor(&wd);
  cudnnCreateConvolutionDescriptor(&cd);
  cudnnCreateActivationDescriptor(&ad);
  auto fail = [&](const char *what, cudnnStatus_t st) {
    info = std::string(what) + ": " + cudnnGetErrorString(st);
    return -1.0;
  };
  cudnnStatus_t st;
  if ((st = cudnnSetTensor4dDescriptor(xd, cfg.format, cfg.xType, s.n, s.c, s.h, s.w)))
    return fail("x descriptor", st);
  if ((st = cudnnSetTensor4dDescriptor(yd, cfg.format, cfg.yType, s.n, s.k, ho, wo)))
    return fail("y descriptor", st);
  if ((st = cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, cfg.biasType, 1, s.k, 1, 1)))
    return fail("bias descriptor", st);
  if ((st = cudnnSetFilter4dDescriptor(wd, cfg.wType, cfg.format, s.k, s.c, s.r, s.r)))
    return fail("w descriptor", st);
  if ((st = cudnnSetConvolution2dDescriptor(cd, p, p, s.stride, s.stride, 1, 1, CUDNN_CROSS_CORRELATION, cfg.convType)))
    return fail("conv descriptor", st);
  cudnnSetConvolutionMathType(cd, CUDNN_TENSOR_OP_MATH);
  cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0);
  int count = 0;
  cudnnConvolutionFwdAlgoPerf_t perf[16];
  if ((st = cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 16, &count, perf)))
    return fail("algorithms", st);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  double best = -1;
  int bestAlgo = -1, tried = 0;
  float alpha1 = 0.01f, alpha2 = 0.0f;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > wsBytes)
      continue;
    auto run = [&] {
      return cudnnConvolutionBiasActivationForward(h, &alpha1, xd, x, wd, w, cd, perf[i].algo, ws, wsBytes, &alpha2, yd, z,
                                                   bd, bias, ad, yd, y);
    };
    if ((st = run())) {
      info += std::string(" algo") + std::to_string(perf[i].algo) + ":" + cudnnGetErrorString(st);
      continue;
    }
    ++tried;
    for (int r = 0; r < 3; ++r)
      run();
    std::vector<float> t;
    for (int r = 0; r < 11; ++r) {
      cudaEventRecord(e0);
      run();
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      float ms;
      cudaEventElapsedTime(&ms, e0, e1);
      t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    if (best < 0 || t[5] < best) {
      best = t[5];
      bestAlgo = perf[i].algo;
    }
  }
  if (cudaDeviceSynchronize() != cudaSuccess)
    info += " (a CUDA error)";
  info += " algos=" + std::to_string(count) + " ran=" + std::to_string(tried) + " best=" + std::to_string(bestAlgo);
  cudnnDestroyTensorDescriptor(xd);
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyTensorDescriptor(bd);
  cudnnDestroyFilterDescriptor(wd);
  cudnnDestroyConvolutionDescriptor(cd);
  cudnnDestroyActivationDescriptor(ad);
  return best;
}

int main() {
  cudnnHandle_t h;
  cudnnCreate(&h);
  printf("cuDNN %zu\n", cudnnGetVersion());
  size_t big = size_t(1) << 31;
  void *x, *w, *y, *z, *bias, *ws;
  CK(cudaMalloc(&x, big));
  CK(cudaMalloc(&w, 64 << 20));
  CK(cudaMalloc(&y, big));
  CK(cudaMalloc(&z, big));
  CK(cudaMalloc(&bias, 1 << 20));
  size_t wsBytes = size_t(1) << 30;
  CK(cudaMalloc(&ws, wsBytes));
  CK(cudaMemset(x, 1, big));
  CK(cudaMemset(w, 1, 64 << 20));
  CK(cudaMemset(bias, 0, 1 << 20));
  const Config configs[] = {
      {"f16 nhwc (f32 acc)", CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, CUDNN_DATA_HALF,
       CUDNN_TENSOR_NHWC, 1},
      {"int8 nhwc -> int8", CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT32, CUDNN_DATA_FLOAT,
       CUDNN_TENSOR_NHWC, 1},
      {"int8 nhwc -> f32", CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_FLOAT, CUDNN_DATA_INT32, CUDNN_DATA_FLOAT,
       CUDNN_TENSOR_NHWC, 1},
      {"int8x32 nc/32hw32 -> int8x32", CUDNN_DATA_INT8x32, CUDNN_DATA_INT8x32, CUDNN_DATA_INT8x32, CUDNN_DATA_INT32,
       CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW_VECT_C, 32},
      {"int8x4 nc/4hw4 -> int8x4", CUDNN_DATA_INT8x4, CUDNN_DATA_INT8x4, CUDNN_DATA_INT8x4, CUDNN_DATA_INT32,
       CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW_VECT_C, 4},
  };
  // ResNet-50's convolutions at batch 256 (the stem aside): bottleneck 1x1 and 3x3 per stage.
  const Shape shapes[] = {
      {"l1 1x1 64->64", 256, 64, 56, 56, 64, 1, 1},      {"l1 3x3 64->64", 256, 64, 56, 56, 64, 3, 1},
      {"l1 1x1 64->256", 256, 64, 56, 56, 256, 1, 1},    {"l1 1x1 256->64", 256, 256, 56, 56, 64, 1, 1},
      {"l2 3x3 128->128", 256, 128, 28, 28, 128, 3, 1},  {"l2 1x1 512->128", 256, 512, 28, 28, 128, 1, 1},
      {"l3 3x3 256->256", 256, 256, 14, 14, 256, 3, 1},  {"l3 1x1 1024->256", 256, 1024, 14, 14, 256, 1, 1},
      {"l3 1x1 256->1024", 256, 256, 14, 14, 1024, 1, 1}, {"l4 3x3 512->512", 256, 512, 7, 7, 512, 3, 1},
      {"l4 1x1 2048->512", 256, 2048, 7, 7, 512, 1, 1},
  };
  for (const Shape &s : shapes)
    for (const Config &c : configs) {
      std::string info;
      double ms = timeConv(h, s, c, x, w, y, z, bias, ws, wsBytes, info);
      int p = s.r / 2, ho = (s.h + 2 * p - s.r) / s.stride + 1, wo = (s.w + 2 * p - s.r) / s.stride + 1;
      double ops = 2.0 * s.n * ho * wo * s.k * s.c * s.r * s.r;
      printf("%-18s | %-30s | %8.4f ms | %7.1f T/s |%s\n", s.name, c.name, ms, ms > 0 ? ops / (ms * 1e-3) / 1e12 : 0.0,
             info.c_str());
      fflush(stdout);
    }
}
