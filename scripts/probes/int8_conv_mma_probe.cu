// A probe, not part of the build: an INT8 implicit-GEMM convolution of our own (NHWC int8 x,
// weights [K][R][S][C] int8 with one scale per output channel, int32 accumulation on mma.sync
// m16n8k32, per-channel scale, bias and ReLU, int8 y), on ResNet-50's layers at batch 256, checked
// bit for bit against a naive kernel and timed. The question it answers: can a kernel on the
// warp-level tensor-core instruction beat the FP16 convolutions cuDNN's graph API gives infc's
// FP16 engine on the H200 (docs/benchmarks.md: e.g. layer3 3x3 256->256 0.0838 ms)?
// Tile: 128 output pixels x 128 output channels x 64 of (r, s, c) per step, 8 warps of 64 x 32,
// cp.async into a 3-stage ring of XOR-swizzled shared tiles, ldmatrix fragments.
// Build here, run on the GPU machine:
//   nvcc -O3 -arch=sm_90 -o /tmp/convprobe scripts/probes/int8_conv_mma_probe.cu && /tmp/convprobe
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                                                                          \
  do {                                                                                                                 \
    cudaError_t e_ = (x);                                                                                              \
    if (e_ != cudaSuccess) {                                                                                           \
      std::printf("CUDA %s at line %d\n", cudaGetErrorString(e_), __LINE__);                                          \
      std::exit(1);                                                                                                    \
    }                                                                                                                  \
  } while (0)

struct Conv {
  int n, h, w, c, k, r, s, stride, pad;
  __host__ __device__ int p() const { return (h + 2 * pad - r) / stride + 1; }
  __host__ __device__ int q() const { return (w + 2 * pad - s) / stride + 1; }
};

constexpr int BM = 128, BN = 128, BK = 64, STAGES = 3, THREADS = 256;
constexpr int TILE = BM * BK; // bytes of one A (or B) tile

/// Byte offset of 16-byte chunk `col` (0..3) of row `row` in a tile of 64-byte rows, XOR-swizzled so
/// that ldmatrix's 8 rows at one chunk hit 8 different bank groups.
__device__ __forceinline__ int swz(int row, int col) { return row * 64 + ((col ^ ((row >> 1) & 3)) << 4); }

__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem, bool valid) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  const int bytes = valid ? 16 : 0; // 0: the 16 bytes are zero-filled
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

__device__ __forceinline__ void ldmatrixX4(unsigned *r, const void *smem) {
  const unsigned a = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
}

__device__ __forceinline__ void mmaS8(int *c, const unsigned *a, unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// y[m][k] = int8(relu(acc * scale[k] + bias[k])), m over (n, p, q); C % 64 == 0, K % 8 == 0.
__global__ void __launch_bounds__(THREADS) convInt8(const int8_t *__restrict__ x, const int8_t *__restrict__ wt,
                                                    const float *__restrict__ scale, const float *__restrict__ bias,
                                                    int8_t *__restrict__ y, Conv cv) {
  extern __shared__ __align__(128) unsigned char smem[];
  unsigned char *As = smem, *Bs = smem + STAGES * TILE;
  const int P = cv.p(), Q = cv.q(), M = cv.n * P * Q, Kdim = cv.r * cv.s * cv.c, kTiles = Kdim / BK;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  // This thread's two A rows and two B rows (row = tid / 4 + 64 i), chunk tid % 4 of each.
  const int chunk = tid & 3;
  int an[2], ah[2], aw[2];
  bool aok[2];
  for (int i = 0; i < 2; ++i) {
    const int m = m0 + (tid >> 2) + 64 * i;
    aok[i] = m < M;
    const int mm = aok[i] ? m : 0, n = mm / (P * Q), pq = mm % (P * Q);
    an[i] = n;
    ah[i] = (pq / Q) * cv.stride - cv.pad;
    aw[i] = (pq % Q) * cv.stride - cv.pad;
  }
  auto load = [&](int kt, int stage) {
    const int k0 = kt * BK, rs = k0 / cv.c, c0 = k0 % cv.c, r = rs / cv.s, s = rs % cv.s;
    for (int i = 0; i < 2; ++i) {
      const int row = (tid >> 2) + 64 * i;
      const int h = ah[i] + r, w = aw[i] + s;
      const bool ok = aok[i] && h >= 0 && h < cv.h && w >= 0 && w < cv.w;
      const int8_t *src = ok ? x + (((long long)an[i] * cv.h + h) * cv.w + w) * cv.c + c0 + chunk * 16 : x;
      cpAsync16(As + stage * TILE + swz(row, chunk), src, ok);
      const int kout = n0 + row;
      const bool wok = kout < cv.k;
      cpAsync16(Bs + stage * TILE + swz(row, chunk), wok ? wt + (long long)kout * Kdim + k0 + chunk * 16 : wt, wok);
    }
    asm volatile("cp.async.commit_group;\n" ::);
  };
  const int wm = (warp & 1) * 64, wn = (warp >> 1) * 32;
  int acc[4][4][4] = {};
  for (int st = 0; st < STAGES - 1; ++st) {
    if (st < kTiles)
      load(st, st);
    else
      asm volatile("cp.async.commit_group;\n" ::);
  }
  for (int kt = 0; kt < kTiles; ++kt) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(STAGES - 2));
    __syncthreads();
    // Refill the stage consumed STAGES - 1 steps ago while this one computes.
    if (kt + STAGES - 1 < kTiles)
      load(kt + STAGES - 1, (kt + STAGES - 1) % STAGES);
    else
      asm volatile("cp.async.commit_group;\n" ::);
    const unsigned char *A = As + (kt % STAGES) * TILE, *B = Bs + (kt % STAGES) * TILE;
#pragma unroll
    for (int ks = 0; ks < 2; ++ks) { // two k32 steps of the 64-byte rows
      unsigned af[4][4], bf[2][4];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        // Matrices: rows 0-7 / 8-15 of the m16 tile, bytes 0-15 / 16-31 of the k32 step.
        const int row = wm + mi * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, col = ks * 2 + (lane >> 4);
        ldmatrixX4(af[mi], A + swz(row, col));
      }
#pragma unroll
      for (int nj = 0; nj < 2; ++nj) {
        // Matrices: bytes 0-15 / 16-31 of n8 block 2 nj, then of block 2 nj + 1.
        const int row = wn + nj * 16 + (lane & 7) + (lane >> 4) * 8, col = ks * 2 + ((lane >> 3) & 1);
        ldmatrixX4(bf[nj], B + swz(row, col));
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni)
          mmaS8(acc[mi][ni], af[mi], bf[ni >> 1][(ni & 1) * 2], bf[ni >> 1][(ni & 1) * 2 + 1]);
    }
  }
  asm volatile("cp.async.wait_group 0;\n" ::);
  // Epilogue: lane holds rows g, g + 8 and columns 2t, 2t + 1 of each m16 x n8 tile.
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < 4; ++ni)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int m = m0 + wm + mi * 16 + g + half * 8, k = n0 + wn + ni * 8 + t * 2;
        if (m >= M || k >= cv.k)
          continue;
        int8_t out[2];
        for (int e = 0; e < 2; ++e) {
          const float v = fmaxf(__fmaf_rn((float)acc[mi][ni][half * 2 + e], scale[k + e], bias[k + e]), 0.0f);
          out[e] = (int8_t)fminf(rintf(v), 127.0f);
        }
        *(short *)(y + (long long)m * cv.k + k) = (short)((unsigned char)out[0] | ((unsigned char)out[1] << 8));
      }
}

/// The same convolution, one thread per output element, exact int32 sums.
__global__ void convNaive(const int8_t *x, const int8_t *wt, const float *scale, const float *bias, int8_t *y, Conv cv) {
  const int P = cv.p(), Q = cv.q();
  const long long total = (long long)cv.n * P * Q * cv.k;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
    const int k = (int)(i % cv.k);
    const long long m = i / cv.k;
    const int n = (int)(m / (P * Q)), p = (int)(m % (P * Q)) / Q, q = (int)(m % Q);
    int acc = 0;
    for (int r = 0; r < cv.r; ++r)
      for (int s = 0; s < cv.s; ++s) {
        const int h = p * cv.stride - cv.pad + r, w = q * cv.stride - cv.pad + s;
        if (h < 0 || h >= cv.h || w < 0 || w >= cv.w)
          continue;
        const int8_t *xp = x + (((long long)n * cv.h + h) * cv.w + w) * cv.c;
        const int8_t *wp = wt + (((long long)k * cv.r + r) * cv.s + s) * cv.c;
        for (int c = 0; c < cv.c; ++c)
          acc += (int)xp[c] * (int)wp[c];
      }
    const float v = fmaxf(__fmaf_rn((float)acc, scale[k], bias[k]), 0.0f);
    y[i] = (int8_t)fminf(rintf(v), 127.0f);
  }
}

int main() {
  struct Layer {
    const char *name;
    Conv cv;
  } layers[] = {
      {"l1 3x3 64->64 56x56", {256, 56, 56, 64, 64, 3, 3, 1, 1}},
      {"l1 1x1 64->256 56x56", {256, 56, 56, 64, 256, 1, 1, 1, 0}},
      {"l1 1x1 256->64 56x56", {256, 56, 56, 256, 64, 1, 1, 1, 0}},
      {"l2 3x3 128->128 28x28", {256, 28, 28, 128, 128, 3, 3, 1, 1}},
      {"l2 1x1 512->128 28x28", {256, 28, 28, 512, 128, 1, 1, 1, 0}},
      {"l3 3x3 256->256 14x14", {256, 14, 14, 256, 256, 3, 3, 1, 1}},
      {"l3 1x1 1024->256 14x14", {256, 14, 14, 1024, 256, 1, 1, 1, 0}},
      {"l3 1x1 256->1024 14x14", {256, 14, 14, 256, 1024, 1, 1, 1, 0}},
      {"l4 3x3 512->512 7x7", {256, 7, 7, 512, 512, 3, 3, 1, 1}},
      {"l4 1x1 2048->512 7x7", {256, 7, 7, 2048, 512, 1, 1, 1, 0}},
  };
  const int smemBytes = 2 * STAGES * TILE;
  CK(cudaFuncSetAttribute(convInt8, cudaFuncAttributeMaxDynamicSharedMemorySize, smemBytes));
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  bool allExact = true;
  for (const Layer &L : layers) {
    const Conv &cv = L.cv;
    const long long xs = (long long)cv.n * cv.h * cv.w * cv.c, ws = (long long)cv.k * cv.r * cv.s * cv.c;
    const long long ys = (long long)cv.n * cv.p() * cv.q() * cv.k;
    std::vector<int8_t> hx(xs), hw(ws);
    std::vector<float> hs(cv.k), hb(cv.k);
    uint32_t seed = 12345;
    auto rnd = [&] { return seed = seed * 1664525u + 1013904223u, (int)(seed >> 24) - 128; };
    for (auto &v : hx)
      v = (int8_t)(rnd() / 2); // activations in [-64, 63]
    for (auto &v : hw)
      v = (int8_t)(rnd() / 4);
    for (int k = 0; k < cv.k; ++k) {
      hs[k] = (1.0f + 0.01f * (k % 7)) / (40.0f * std::sqrt((float)(cv.r * cv.s * cv.c))); // y spread over int8
      hb[k] = (float)(k % 5) - 2.0f;
    }
    int8_t *x, *w, *y, *yr;
    float *s, *b;
    CK(cudaMalloc(&x, xs));
    CK(cudaMalloc(&w, ws));
    CK(cudaMalloc(&y, ys));
    CK(cudaMalloc(&yr, ys));
    CK(cudaMalloc(&s, cv.k * 4));
    CK(cudaMalloc(&b, cv.k * 4));
    CK(cudaMemcpy(x, hx.data(), xs, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(w, hw.data(), ws, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(s, hs.data(), cv.k * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(b, hb.data(), cv.k * 4, cudaMemcpyHostToDevice));
    const int M = cv.n * cv.p() * cv.q();
    dim3 grid((M + BM - 1) / BM, (cv.k + BN - 1) / BN);
    convInt8<<<grid, THREADS, smemBytes>>>(x, w, s, b, y, cv);
    convNaive<<<4096, 256>>>(x, w, s, b, yr, cv);
    CK(cudaDeviceSynchronize());
    std::vector<int8_t> got(ys), want(ys);
    CK(cudaMemcpy(got.data(), y, ys, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(want.data(), yr, ys, cudaMemcpyDeviceToHost));
    long long diff = 0, nonzero = 0;
    for (long long i = 0; i < ys; ++i) {
      diff += got[i] != want[i];
      nonzero += want[i] != 0;
    }
    allExact = allExact && diff == 0;
    float best = 1e30f;
    for (int rep = 0; rep < 20; ++rep) {
      CK(cudaEventRecord(e0));
      convInt8<<<grid, THREADS, smemBytes>>>(x, w, s, b, y, cv);
      CK(cudaEventRecord(e1));
      CK(cudaEventSynchronize(e1));
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, e0, e1));
      best = ms < best ? ms : best;
    }
    const double ops = 2.0 * M * cv.k * (double)cv.r * cv.s * cv.c;
    std::printf("%-24s %8.4f ms %7.0f TOPS  mismatches %lld of %lld (nonzero %lld)\n", L.name, best, ops / (best * 1e-3) / 1e12,
                diff, ys, nonzero);
    CK(cudaFree(x));
    CK(cudaFree(w));
    CK(cudaFree(y));
    CK(cudaFree(yr));
    CK(cudaFree(s));
    CK(cudaFree(b));
  }
  std::printf("%s\n", allExact ? "all exact" : "MISMATCHES");
  return allExact ? 0 : 1;
}
