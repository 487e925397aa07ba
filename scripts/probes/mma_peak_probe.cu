// A probe, not part of the build: the throughput of the warp-level tensor-core instruction
// (mma.sync, what infc's generated attention kernel and cuDNN's pre-Hopper kernels use) for f16
// (f32 accumulation), int8 (s32 accumulation) and e4m3 (f32 accumulation), registers only, no
// memory traffic: the ceiling of an INT8 convolution kernel of our own written on mma.sync,
// against the H200's dense peaks for its Hopper instruction (wgmma): 989 TFLOP/s f16, 1,979 TOPS
// int8 and e4m3.
// Build here, run on the GPU machine:
//   nvcc -O3 -arch=sm_90 -o /tmp/mmaprobe scripts/probes/mma_peak_probe.cu && /tmp/mmaprobe
#include <cuda_runtime.h>

#include <cstdio>

constexpr int kChains = 8; ///< independent accumulators per warp (instruction-level parallelism)
constexpr int kIters = 4096;

/// One mma.sync of each kind on accumulator c (4 registers) with fixed A and B fragments.
struct F16 {
  using Acc = float;
  static __device__ void mma(float *c, const unsigned *a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};
struct S8 {
  using Acc = int;
  static __device__ void mma(int *c, const unsigned *a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};
struct E4m3 {
  using Acc = float;
  static __device__ void mma(float *c, const unsigned *a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

/// kChains independent accumulators per warp, kIters rounds; the sums are written so that nothing
/// is dead code. The operand bits are finite small values in every format (0x30-0x3c bytes).
template <typename M> __global__ void mmaLoop(float *out, unsigned seed) {
  const unsigned a[4] = {seed & 0x3c3c3c3cu, seed & 0x38383838u, seed & 0x34343434u, seed & 0x30303030u};
  const unsigned b0 = seed & 0x2c2c2c2cu, b1 = seed & 0x28282828u;
  typename M::Acc c[kChains][4] = {};
  for (int it = 0; it < kIters; ++it)
#pragma unroll
    for (int j = 0; j < kChains; ++j)
      M::mma(c[j], a, b0, b1);
  float s = 0;
  for (int j = 0; j < kChains; ++j)
    s += static_cast<float>(c[j][0] + c[j][1] + c[j][2] + c[j][3]);
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

template <typename K>
double timeKernel(K kernel, int blocks, int threads, float *out) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  kernel<<<blocks, threads>>>(out, 7u); // warm-up
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    cudaEventRecord(e0);
    kernel<<<blocks, threads>>>(out, 7u + r);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    best = ms < best ? ms : best;
  }
  return best;
}

int main() {
  cudaDeviceProp p;
  cudaGetDeviceProperties(&p, 0);
  std::printf("%s, %d SMs\n", p.name, p.multiProcessorCount);
  const int threads = 256;
  float *out = nullptr;
  for (int perSm : {2, 4, 8}) {
    const int blocks = p.multiProcessorCount * perSm;
    cudaMalloc(&out, sizeof(float) * blocks * threads);
    const double mmas = double(blocks) * (threads / 32) * kIters * kChains;
    struct {
      const char *name;
      double opsPerMma;
      double ms;
    } rows[] = {{"f16  m16n8k16 (f32 acc)", 2.0 * 16 * 8 * 16, timeKernel(mmaLoop<F16>, blocks, threads, out)},
                {"int8 m16n8k32 (s32 acc)", 2.0 * 16 * 8 * 32, timeKernel(mmaLoop<S8>, blocks, threads, out)},
                {"e4m3 m16n8k32 (f32 acc)", 2.0 * 16 * 8 * 32, timeKernel(mmaLoop<E4m3>, blocks, threads, out)}};
    for (const auto &r : rows)
      std::printf("mma.sync %s, %d blocks of %d: %.3f ms, %.0f T/s\n", r.name, blocks, threads, r.ms,
                  mmas * r.opsPerMma / (r.ms * 1e-3) / 1e12);
    cudaFree(out);
  }
  cudaError_t e = cudaGetLastError();
  std::printf("%s\n", e == cudaSuccess ? "ok" : cudaGetErrorString(e));
  return e == cudaSuccess ? 0 : 1;
}
