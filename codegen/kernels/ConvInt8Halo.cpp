// infc's INT8 3x3 convolution on halo tiles (codegen/kernels/ConvInt8Halo.h). Per block, for life:
// the 9 x 64 x 64 weight bytes in shared memory (one 64-byte row per tap and output channel,
// chunks XOR-swizzled). Per output tile of TH x TW pixels: the (TH + 2) x (TW + 2) x 64-byte
// input halo arrives by cp.async (zero outside the image), one 64-byte row per pixel, swizzled
// the same way, so that ldmatrix's eight rows at a 64-byte stride fall in eight bank groups. Each
// of the 7 warps computes two m16 tiles of pixels by all 64 channels: for each tap and each of
// its two 32-byte reduction steps, one ldmatrix.x4 per m16 tile reads A straight from the halo
// (the 16 lanes' pixels shifted by the tap: no im2col), four read the B fragments of the 8
// n-tiles, 16 mma.sync m16n8k32. The epilogue is the implicit GEMM's (scale and bias times
// postMult, the activation, int8 rounding) into a shared tile, then 16-byte stores of the pixels
// inside the image. Measured against the implicit GEMM and cuDNN on ResNet-50's layer1: docs/int8.md.
#include "codegen/kernels/ConvInt8Halo.h"

#include "ir/DType.h"

#include <cstdint>
#include <sstream>
#include <tuple>

namespace infc::codegen {

namespace {
constexpr int kHaloPixels = 224, kHaloWarps = 7, kOutStride = 80; // 64 channels + 16 (bank spread)
} // namespace

std::string int8HaloRefusal(const rt::ConvSpec &spec) {
  if (spec.wDims.size() != 4 || spec.wDims[2] != 3 || spec.wDims[3] != 3)
    return "not 3x3";
  if (spec.strides != std::vector<int64_t>{1, 1} || spec.dilations != std::vector<int64_t>{1, 1} ||
      spec.padsBegin != std::vector<int64_t>{1, 1} || spec.padsEnd != std::vector<int64_t>{1, 1})
    return "not stride 1 with padding 1";
  if (spec.xDims[1] != 64 || spec.yDims[1] != 64)
    return "not 64 -> 64 channels";
  if (spec.hasResidual)
    return "has a residual";
  if (static_cast<DType>(spec.dtype) != DType::I8)
    return "result not int8";
  return "";
}

HaloTile int8HaloTile(int64_t h, int64_t w) {
  HaloTile best;
  std::tuple<int64_t, int64_t, int> bestKey{INT64_MAX, INT64_MAX, 0};
  for (int cols : {224, 112, 56, 32, 28, 16, 14, 8, 7, 4, 2, 1}) {
    const int rows = kHaloPixels / cols;
    const int64_t padded = (h + rows - 1) / rows * rows * ((w + cols - 1) / cols * cols);
    const std::tuple<int64_t, int64_t, int> key{padded, int64_t{rows + 2} * (cols + 2), -cols};
    if (key < bestKey) {
      bestKey = key;
      best = {rows, cols};
    }
  }
  return best;
}

Expected<Int8ConvKernel> int8HaloKernel(const rt::ConvSpec &spec, const Int8ConvTile &tile, const std::string &function) {
  // int8ConvRefusal covers the activation and the pixel count (under 2^31, so the tiles too: each
  // holds a pixel of the image).
  std::string why = int8ConvRefusal(spec);
  if (why.empty())
    why = int8HaloRefusal(spec);
  if (!why.empty())
    return unsupported("the generated INT8 halo convolution does not take this one: " + why);
  const int64_t N = spec.xDims[0], H = spec.xDims[2], W = spec.xDims[3];
  const HaloTile t = int8HaloTile(H, W);
  const int64_t tiles = N * ((H + t.rows - 1) / t.rows) * ((W + t.cols - 1) / t.cols);
  const int threads = kHaloWarps * 32;
  const int haloBytes = (t.rows + 2) * (t.cols + 2) * 64, weightBytes = 9 * 64 * 64, outBytes = kHaloPixels * kOutStride;
  Int8ConvKernel k;
  k.threads = threads;
  k.blocks = static_cast<uint32_t>((tiles + tile.tilesPerBlock - 1) / tile.tilesPerBlock);
  k.sharedBytes = static_cast<uint32_t>(weightBytes + outBytes + haloBytes + 64 * 8); // + the epilogue's table

  std::ostringstream src;
  src << int8KernelHelpers();
  src << "extern \"C\" __global__ void __launch_bounds__(" << threads << ", 2) " << function
      << "(const signed char *__restrict__ x, const signed char *__restrict__ wt, const float *__restrict__ bias, const "
         "unsigned char *z, const float *__restrict__ scale, signed char *y, float postMult) {\n";
  src << "  constexpr int H = " << H << ", W = " << W << ", TH = " << t.rows << ", TW = " << t.cols
      << ", HW = TW + 2, TY = (H + TH - 1) / TH, TX = (W + TW - 1) / TW, TILES = " << tiles << ", THREADS = " << threads
      << ";\n";
  src << "  constexpr int HALO_PIXELS = (TH + 2) * HW, OUT_STRIDE = " << kOutStride << ";\n";
  src << R"(  extern __shared__ __align__(128) unsigned char smem[];
  unsigned char *wsm = smem, *out = smem + 9 * 64 * 64, *halo = out + TH * TW * OUT_STRIDE;
  float4 *ctab = (float4 *)(halo + HALO_PIXELS * 64);
)";
  const Int8EpilogueCode epi = int8Epilogue(spec, false, "acc[m][nt][half * 2 + e]");
  src << int8EpilogueTable(epi, spec, "0", 64) << epi.zMult << R"(  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, tq = lane & 3;
  // The weights, once: row tap * 64 + k holds w[k][tap][0..63] (KRSC).
  for (int i = tid; i < 9 * 64 * 4; i += THREADS) {
    const int row = i >> 2, j = i & 3;
    infc_cp16(wsm + infc_swz4(row, j), wt + ((row & 63) * 9 + (row >> 6)) * 64 + j * 16, true);
  }
  asm volatile("cp.async.commit_group;\n" ::);
  // This lane's halo pixel at tap (0, 0) in each of its warp's two m16 tiles (ldmatrix rows).
  int prow[2];
  #pragma unroll
  for (int m = 0; m < 2; ++m) {
    const int p = (warp * 2 + m) * 16 + (lane & 15);
    prow[m] = (p / TW) * HW + p % TW;
  }
  for (int tile = blockIdx.x; tile < TILES; tile += gridDim.x) {
    const int tx = tile % TX, ty = (tile / TX) % TY, n = tile / (TX * TY), oy0 = ty * TH, ox0 = tx * TW;
    __syncthreads(); // the previous tile's reads of the halo and the output tile are done
    for (int i = tid; i < HALO_PIXELS * 4; i += THREADS) {
      const int p = i >> 2, j = i & 3, iy = oy0 - 1 + p / HW, ix = ox0 - 1 + p % HW;
      const bool in = (unsigned)iy < (unsigned)H && (unsigned)ix < (unsigned)W;
      infc_cp16(halo + infc_swz4(p, j), x + (((long long)n * H + (in ? iy : 0)) * W + (in ? ix : 0)) * 64 + j * 16, in);
    }
    asm volatile("cp.async.commit_group;\n" ::);
    asm volatile("cp.async.wait_group 0;\n" ::);
    __syncthreads();
    int acc[2][8][4];
    #pragma unroll
    for (int m = 0; m < 2; ++m)
      #pragma unroll
      for (int nt = 0; nt < 8; ++nt)
        acc[m][nt][0] = acc[m][nt][1] = acc[m][nt][2] = acc[m][nt][3] = 0;
    #pragma unroll 1 // one tap at a time (unrolled, every tap's fragments are hoisted and spill)
    for (int tap = 0; tap < 9; ++tap) {
      const int toff = (tap / 3) * HW + tap % 3;
      #pragma unroll
      for (int ks = 0; ks < 2; ++ks) {
        unsigned a[2][4];
        #pragma unroll
        for (int m = 0; m < 2; ++m)
          infc_ldsm_x4(a[m], halo + infc_swz4(prow[m] + toff, ks * 2 + (lane >> 4)));
        #pragma unroll
        for (int np = 0; np < 4; ++np) {
          // Lanes 0-7: n-tile 2np, chunk 2ks; 8-15: the same rows, chunk 2ks + 1; 16-31: n-tile 2np + 1.
          unsigned b[4];
          infc_ldsm_x4(b, wsm + infc_swz4(tap * 64 + (np * 2 + (lane >> 4)) * 8 + (lane & 7), ks * 2 + ((lane >> 3) & 1)));
          #pragma unroll
          for (int m = 0; m < 2; ++m) {
            infc_mma_s8(acc[m][np * 2], a[m], b[0], b[1]);
            infc_mma_s8(acc[m][np * 2 + 1], a[m], b[2], b[3]);
          }
        }
      }
    }
    // Lane holds pixels g and g + 8 of each m16 tile, channels 2tq and 2tq + 1 of each n-tile.
    #pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      const int c = nt * 8 + tq * 2;
)" << int8EpilogueTableRead()
      << R"(      #pragma unroll
      for (int m = 0; m < 2; ++m)
        #pragma unroll
        for (int half = 0; half < 2; ++half) {
)" << epi.pixel
      << R"(          *(unsigned short *)(out + ((warp * 2 + m) * 16 + g + half * 8) * OUT_STRIDE + c) = (unsigned short)packed;
        }
    }
)";
  src << R"(    __syncthreads();
    for (int i = tid; i < TH * TW * 4; i += THREADS) {
      const int p = i >> 2, j = i & 3, oy = oy0 + p / TW, ox = ox0 + p % TW;
      if (oy < H && ox < W)
        *(uint4 *)(y + (((long long)n * H + oy) * W + ox) * 64 + j * 16) = *(const uint4 *)(out + p * OUT_STRIDE + j * 16);
    }
  }
  asm volatile("cp.async.wait_group 0;\n" ::);
}
)";
  k.source = src.str();
  return k;
}

} // namespace infc::codegen
