// A probe, not part of the build: the second version of infc's own INT8 implicit-GEMM convolution
// (the first, scripts/probes/int8_conv_mma_probe.cu, ran at half the FP16 engine's speed). What
// changed: every shape is a compile-time constant (as NVRTC sees it at engine build time), tile
// shapes are template parameters and each layer times several (an autotuner's candidates), the
// grid walks output-channel tiles fastest (an input tile is read from DRAM once), and the
// epilogue goes through shared memory: the int8 residual tile arrives by cp.async with the first
// stage, each thread finishes its fragment in place there, and the tile leaves in coalesced
// 16-byte stores. Semantics are infc.conv's INT8 form (ir/InfcAttrs.h):
//   y = int8(postMult * relu(acc * s[k] + z + b[k])), acc the exact int32 sum of x * w.
// Checked bit for bit against a naive kernel with the same float epilogue; timed as the best of
// 20 runs, batch 256, on ResNet-50's distinct convolutions after the stem.
// Build here, run on the GPU machine:
//   nvcc -O3 -std=c++17 -arch=sm_90 -o /tmp/igemm scripts/probes/int8_igemm_probe.cu && /tmp/igemm
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

/// A convolution's compile-time shape (NHWC x [N][H][W][C], w [K][R][S][C], y [N][P][Q][K]).
template <int C_, int K_, int R_, int H_, int STR_, bool RES_> struct Shape {
  static constexpr int C = C_, K = K_, R = R_, S = R_, H = H_, W = H_, STR = STR_, PAD = R_ / 2;
  static constexpr int P = (H + 2 * PAD - R) / STR + 1, Q = (W + 2 * PAD - S) / STR + 1, KD = R * S * C;
  static constexpr bool RES = RES_;
};

/// Tile: BM output pixels x BN output channels x BK reduction bytes per stage, ST stages, warps
/// of WTM x WTN.
template <int BM_, int BN_, int BK_, int ST_, int WTM_, int WTN_> struct Tile {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, ST = ST_, WTM = WTM_, WTN = WTN_;
  static constexpr int WARPS = (BM / WTM) * (BN / WTN), THREADS = WARPS * 32;
  static constexpr int CPR = BK / 16;                          // 16-byte chunks per tile row
  static constexpr int A_ITERS = BM * CPR / THREADS, B_ITERS = BN * CPR / THREADS;
  static constexpr int STAGE = (BM + BN) * BK;                 // bytes of one stage
  static constexpr int YROW = BN + 16;                         // padded epilogue row (bytes)
  static constexpr int SMEM = ST * STAGE + BM * YROW;
  static_assert(BM * CPR % THREADS == 0 && BN * CPR % THREADS == 0, "loads must divide evenly");
};

/// Byte offset of 16-byte chunk `col` of `row` in a tile of CPR-chunk rows, XOR-swizzled so that
/// ldmatrix's 8 rows at one logical chunk hit 8 different bank groups.
template <int CPR> __device__ __forceinline__ int swz(int row, int col) {
  if constexpr (CPR == 8)
    return row * 128 + ((col ^ (row & 7)) << 4);
  else
    return row * 64 + ((col ^ ((row >> 1) & 3)) << 4);
}

__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem, bool valid) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cpCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cpWait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

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

__device__ __forceinline__ signed char epi(int acc, float s, float z, float b, float postMult) {
  const float v = fmaxf(__fadd_rn(__fadd_rn(__fmul_rn((float)acc, s), z), b), 0.0f) * postMult;
  return (signed char)fminf(rintf(v), 127.0f);
}

template <class SH, class T>
__global__ void __launch_bounds__(T::THREADS) igemm(const int8_t *__restrict__ x, const int8_t *__restrict__ wt,
                                                    const float *__restrict__ scale, const float *__restrict__ bias,
                                                    const int8_t *__restrict__ z, int8_t *__restrict__ y, int M,
                                                    float postMult) {
  extern __shared__ __align__(128) unsigned char smem[];
  constexpr int BM = T::BM, BN = T::BN, BK = T::BK, ST = T::ST, CPR = T::CPR, KT = SH::KD / BK;
  static_assert(SH::C % BK == 0 && SH::K % BN == 0, "a k tile lies in one filter tap; whole n tiles");
  unsigned char *ytile = smem + ST * T::STAGE;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int n0 = blockIdx.x * BN, m0 = blockIdx.y * BM;
  const int col = tid % CPR;
  // This thread's A rows: pixel offset and top-left input coordinates.
  long long aBase[T::A_ITERS];
  int aH[T::A_ITERS], aW[T::A_ITERS];
#pragma unroll
  for (int i = 0; i < T::A_ITERS; ++i) {
    const int m = m0 + tid / CPR + i * (T::THREADS / CPR);
    const bool ok = m < M;
    const int mm = ok ? m : 0, n = mm / (SH::P * SH::Q), pq = mm % (SH::P * SH::Q);
    aH[i] = ok ? (pq / SH::Q) * SH::STR - SH::PAD : -100000;
    aW[i] = (pq % SH::Q) * SH::STR - SH::PAD;
    aBase[i] = (((long long)n * SH::H + aH[i]) * SH::W + aW[i]) * SH::C;
  }
  auto load = [&](int kt, int stage) {
    const int k0 = kt * BK, rs = k0 / SH::C, c0 = k0 % SH::C, r = rs / SH::S, s = rs % SH::S;
    unsigned char *As = smem + stage * T::STAGE, *Bs = As + BM * BK;
#pragma unroll
    for (int i = 0; i < T::A_ITERS; ++i) {
      const int row = tid / CPR + i * (T::THREADS / CPR);
      bool ok;
      if constexpr (SH::R == 1 && SH::PAD == 0)
        ok = aH[i] >= 0;
      else
        ok = (unsigned)(aH[i] + r) < (unsigned)SH::H && (unsigned)(aW[i] + s) < (unsigned)SH::W;
      const int8_t *src = x + aBase[i] + (r * SH::W + s) * SH::C + c0 + col * 16;
      cpAsync16(As + swz<CPR>(row, col), ok ? src : x, ok);
    }
#pragma unroll
    for (int i = 0; i < T::B_ITERS; ++i) {
      const int row = tid / CPR + i * (T::THREADS / CPR);
      cpAsync16(Bs + swz<CPR>(row, col), wt + (long long)(n0 + row) * SH::KD + k0 + col * 16, true);
    }
  };
  // The residual tile rides with the first stage.
  if constexpr (SH::RES) {
    constexpr int CH = BN / 16;
    for (int i = tid; i < BM * CH; i += T::THREADS) {
      const int row = i / CH, c = i % CH, m = m0 + row;
      cpAsync16(ytile + row * T::YROW + c * 16, z + (long long)(m < M ? m : 0) * SH::K + n0 + c * 16, m < M);
    }
  }
#pragma unroll
  for (int st = 0; st < ST - 1; ++st) {
    if (st < KT)
      load(st, st);
    cpCommit();
  }
  constexpr int WM = BM / T::WTM;
  const int wm = (warp % WM) * T::WTM, wn = (warp / WM) * T::WTN;
  constexpr int MI = T::WTM / 16, NJ = T::WTN / 16;
  int acc[MI][2 * NJ][4];
#pragma unroll
  for (int a = 0; a < MI; ++a)
#pragma unroll
    for (int b = 0; b < 2 * NJ; ++b)
#pragma unroll
      for (int c = 0; c < 4; ++c)
        acc[a][b][c] = 0;
#pragma unroll 1
  for (int kt = 0; kt < KT; ++kt) {
    cpWait<ST - 2>();
    __syncthreads();
    if (kt + ST - 1 < KT)
      load(kt + ST - 1, (kt + ST - 1) % ST);
    cpCommit();
    const unsigned char *A = smem + (kt % ST) * T::STAGE, *B = A + BM * BK;
#pragma unroll
    for (int ks = 0; ks < BK / 32; ++ks) {
      unsigned af[MI][4], bf[NJ][4];
#pragma unroll
      for (int mi = 0; mi < MI; ++mi) {
        const int row = wm + mi * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, c = ks * 2 + (lane >> 4);
        ldmatrixX4(af[mi], A + swz<CPR>(row, c));
      }
#pragma unroll
      for (int nj = 0; nj < NJ; ++nj) {
        const int row = wn + nj * 16 + (lane & 7) + (lane >> 4) * 8, c = ks * 2 + ((lane >> 3) & 1);
        ldmatrixX4(bf[nj], B + swz<CPR>(row, c));
      }
#pragma unroll
      for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < 2 * NJ; ++ni)
          mmaS8(acc[mi][ni], af[mi], bf[ni >> 1][(ni & 1) * 2], bf[ni >> 1][(ni & 1) * 2 + 1]);
    }
  }
  cpWait<0>();
  __syncthreads();
  // Epilogue, in place in the y tile: lane holds rows g, g + 8 and columns 2t, 2t + 1 of each
  // m16 x n8 tile.
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int ni = 0; ni < 2 * NJ; ++ni) {
    const int c = wn + ni * 8 + t * 2;
    const float2 sv = *(const float2 *)(scale + n0 + c), bv = *(const float2 *)(bias + n0 + c);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = wm + mi * 16 + g + half * 8;
        unsigned short *p = (unsigned short *)(ytile + row * T::YROW + c);
        float z0 = 0.f, z1 = 0.f;
        if constexpr (SH::RES) {
          const unsigned short zz = *p;
          z0 = (float)(signed char)(zz & 0xff);
          z1 = (float)(signed char)(zz >> 8);
        }
        const signed char o0 = epi(acc[mi][ni][half * 2], sv.x, z0, bv.x, postMult);
        const signed char o1 = epi(acc[mi][ni][half * 2 + 1], sv.y, z1, bv.y, postMult);
        *p = (unsigned short)((unsigned char)o0 | ((unsigned)(unsigned char)o1 << 8));
      }
  }
  __syncthreads();
  constexpr int CH = BN / 16;
  for (int i = tid; i < BM * CH; i += T::THREADS) {
    const int row = i / CH, c = i % CH, m = m0 + row;
    if (m < M)
      *(uint4 *)(y + (long long)m * SH::K + n0 + c * 16) = *(const uint4 *)(ytile + row * T::YROW + c * 16);
  }
}

/// The same convolution, one thread per output element, exact int32 sums, the same epilogue.
__global__ void naive(const int8_t *x, const int8_t *wt, const float *scale, const float *bias, const int8_t *z,
                      int8_t *y, int N, int H, int C, int K, int R, int STR, float postMult) {
  const int PAD = R / 2, P = (H + 2 * PAD - R) / STR + 1;
  const long long total = (long long)N * P * P * K;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
    const int k = (int)(i % K);
    const long long m = i / K;
    const int n = (int)(m / (P * P)), p = (int)(m % (P * P)) / P, q = (int)(m % P);
    int acc = 0;
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < R; ++s) {
        const int h = p * STR - PAD + r, w = q * STR - PAD + s;
        if (h < 0 || h >= H || w < 0 || w >= H)
          continue;
        const int8_t *xp = x + (((long long)n * H + h) * H + w) * C, *wp = wt + (((long long)k * R + r) * R + s) * C;
        for (int c = 0; c < C; ++c)
          acc += (int)xp[c] * (int)wp[c];
      }
    y[i] = epi(acc, scale[k], z ? (float)z[i] : 0.f, bias[k], postMult);
  }
}

struct Buffers {
  int8_t *x, *w, *z, *y, *yr;
  float *s, *b;
  int M;
};

static cudaEvent_t e0, e1;

template <class SH, class T> float timeTile(const Buffers &B, int N, bool check, long long &diff, const char *&name) {
  static char buf[64];
  std::snprintf(buf, sizeof buf, "%dx%dx%d st%d w%dx%d", T::BM, T::BN, T::BK, T::ST, T::WTM, T::WTN);
  name = buf;
  auto kern = igemm<SH, T>;
  CK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, T::SMEM));
  dim3 grid(SH::K / T::BN, (B.M + T::BM - 1) / T::BM);
  const float pm = SH::RES ? 0.5f : 1.0f;
  CK(cudaMemset(B.y, 0x55, (size_t)B.M * SH::K));
  kern<<<grid, T::THREADS, T::SMEM>>>(B.x, B.w, B.s, B.b, SH::RES ? B.z : nullptr, B.y, B.M, pm);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  if (check) {
    const size_t ys = (size_t)B.M * SH::K;
    std::vector<int8_t> got(ys), want(ys);
    CK(cudaMemcpy(got.data(), B.y, ys, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(want.data(), B.yr, ys, cudaMemcpyDeviceToHost));
    diff = 0;
    for (size_t i = 0; i < ys; ++i)
      diff += got[i] != want[i];
  }
  float best = 1e30f;
  for (int rep = 0; rep < 20; ++rep) {
    CK(cudaEventRecord(e0));
    kern<<<grid, T::THREADS, T::SMEM>>>(B.x, B.w, B.s, B.b, SH::RES ? B.z : nullptr, B.y, B.M, pm);
    CK(cudaEventRecord(e1));
    CK(cudaEventSynchronize(e1));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, e0, e1));
    best = ms < best ? ms : best;
  }
  return best;
}

using T128x128x64 = Tile<128, 128, 64, 3, 64, 32>;
using T128x128x128 = Tile<128, 128, 128, 3, 64, 32>;
using T256x128x64 = Tile<256, 128, 64, 3, 64, 64>;
using T128x256x64 = Tile<128, 256, 64, 3, 64, 64>;
using T128x64x64 = Tile<128, 64, 64, 4, 32, 32>;
using T256x64x64 = Tile<256, 64, 64, 3, 64, 32>;
using T64x128x64 = Tile<64, 128, 64, 4, 32, 32>;

static bool allExact = true;

template <class SH> void layer(const char *name, double fp16ms) {
  constexpr int N = 256;
  Buffers B;
  B.M = N * SH::P * SH::Q;
  const long long xs = (long long)N * SH::H * SH::W * SH::C, ws = (long long)SH::K * SH::KD, ys = (long long)B.M * SH::K;
  std::vector<int8_t> hx(xs), hw(ws), hz(ys);
  std::vector<float> hs(SH::K), hb(SH::K);
  uint32_t seed = 12345;
  auto rnd = [&] { return seed = seed * 1664525u + 1013904223u, (int)(seed >> 24) - 128; };
  for (auto &v : hx)
    v = (int8_t)(rnd() / 2);
  for (auto &v : hw)
    v = (int8_t)(rnd() / 4);
  for (auto &v : hz)
    v = (int8_t)(rnd() / 2);
  for (int k = 0; k < SH::K; ++k) {
    hs[k] = (1.0f + 0.01f * (k % 7)) / (40.0f * std::sqrt((float)SH::KD));
    hb[k] = (float)(k % 5) - 2.0f;
  }
  CK(cudaMalloc(&B.x, xs));
  CK(cudaMalloc(&B.w, ws));
  CK(cudaMalloc(&B.z, ys));
  CK(cudaMalloc(&B.y, ys));
  CK(cudaMalloc(&B.yr, ys));
  CK(cudaMalloc(&B.s, SH::K * 4));
  CK(cudaMalloc(&B.b, SH::K * 4));
  CK(cudaMemcpy(B.x, hx.data(), xs, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(B.w, hw.data(), ws, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(B.z, hz.data(), ys, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(B.s, hs.data(), SH::K * 4, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(B.b, hb.data(), SH::K * 4, cudaMemcpyHostToDevice));
  naive<<<8192, 256>>>(B.x, B.w, B.s, B.b, SH::RES ? B.z : nullptr, B.yr, N, SH::H, SH::C, SH::K, SH::R, SH::STR,
                       SH::RES ? 0.5f : 1.0f);
  CK(cudaDeviceSynchronize());
  const double ops = 2.0 * B.M * SH::K * (double)SH::KD;
  const double bytes = (double)xs + ys * (SH::RES ? 2.0 : 1.0);
  float best = 1e30f;
  const char *bestName = "";
  auto one = [&](float ms, long long diff, const char *tn) {
    allExact = allExact && diff == 0;
    std::printf("  %-22s %-24s %8.4f ms %6.0f TOPS %6.2f TB/s  x%.2f vs FP16  mismatches %lld\n", name, tn, ms,
                ops / (ms * 1e-3) / 1e12, bytes / (ms * 1e-3) / 1e12, fp16ms / ms, diff);
    if (ms < best) {
      best = ms;
      bestName = tn;
    }
  };
  long long diff = 0;
  const char *tn;
  float ms;
  if constexpr (SH::K % 128 == 0) {
    ms = timeTile<SH, T128x128x64>(B, N, true, diff, tn), one(ms, diff, tn);
    ms = timeTile<SH, T256x128x64>(B, N, true, diff, tn), one(ms, diff, tn);
    ms = timeTile<SH, T64x128x64>(B, N, true, diff, tn), one(ms, diff, tn);
    if constexpr (SH::C % 128 == 0)
      ms = timeTile<SH, T128x128x128>(B, N, true, diff, tn), one(ms, diff, tn);
  }
  if constexpr (SH::K % 256 == 0)
    ms = timeTile<SH, T128x256x64>(B, N, true, diff, tn), one(ms, diff, tn);
  if constexpr (SH::K == 64) {
    ms = timeTile<SH, T128x64x64>(B, N, true, diff, tn), one(ms, diff, tn);
    ms = timeTile<SH, T256x64x64>(B, N, true, diff, tn), one(ms, diff, tn);
  }
  std::printf("%-22s best %-24s %8.4f ms  FP16 engine %.4f ms  x%.2f\n", name, bestName, best, fp16ms, fp16ms / best);
  for (void *p : {(void *)B.x, (void *)B.w, (void *)B.z, (void *)B.y, (void *)B.yr, (void *)B.s, (void *)B.b})
    CK(cudaFree(p));
}

int main() {
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  // FP16 engine times per layer: docs/bench-results/2026-12-03o-h200-resnet50-b256-layers.txt.
  layer<Shape<64, 64, 1, 56, 1, false>>("l1 1x1 64->64", 0.0580);
  layer<Shape<64, 64, 3, 56, 1, false>>("l1 3x3 64->64", 0.1272);
  layer<Shape<64, 256, 1, 56, 1, true>>("l1 1x1 64->256 +z", 0.2715);
  layer<Shape<256, 64, 1, 56, 1, false>>("l1 1x1 256->64", 0.1300);
  layer<Shape<256, 128, 1, 56, 1, false>>("l2 1x1 256->128 @56", 0.1540);
  layer<Shape<128, 128, 3, 56, 2, false>>("l2 3x3/2 128->128", 0.0951);
  layer<Shape<128, 512, 1, 28, 1, true>>("l2 1x1 128->512 +z", 0.1308);
  layer<Shape<512, 128, 1, 28, 1, false>>("l2 1x1 512->128", 0.0723);
  layer<Shape<128, 128, 3, 28, 1, false>>("l2 3x3 128->128", 0.0846);
  layer<Shape<512, 256, 1, 28, 1, false>>("l3 1x1 512->256 @28", 0.0967);
  layer<Shape<256, 1024, 1, 14, 1, true>>("l3 1x1 256->1024 +z", 0.0862);
  layer<Shape<1024, 256, 1, 14, 1, false>>("l3 1x1 1024->256", 0.0474);
  layer<Shape<256, 256, 3, 14, 1, false>>("l3 3x3 256->256", 0.0756);
  layer<Shape<1024, 512, 1, 14, 1, false>>("l4 1x1 1024->512 @14", 0.0741);
  layer<Shape<512, 2048, 1, 7, 1, true>>("l4 1x1 512->2048 +z", 0.0571);
  layer<Shape<2048, 512, 1, 7, 1, false>>("l4 1x1 2048->512", 0.0414);
  layer<Shape<512, 512, 3, 7, 1, false>>("l4 3x3 512->512", 0.0743);
  std::printf("%s\n", allExact ? "all exact" : "MISMATCHES");
  return allExact ? 0 : 1;
}
