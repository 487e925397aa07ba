// infc's own INT8 implicit-GEMM convolution (codegen/kernels/ConvInt8.h). The GEMM: rows are the
// output pixels (n, p, q), columns the output channels, the reduction runs over (r, s, c) of the
// NHWC input, 16-byte chunks of which one tap's channels are contiguous. Per block: a bm x bn
// output tile; per stage, bm rows of the input and bn rows of the weights (bk bytes each) arrive
// by cp.async into XOR-swizzled shared tiles (zero-filled outside the image); warps read mma
// fragments with ldmatrix. The epilogue goes through shared memory: the residual tile arrives
// with the first stage, each thread finishes its accumulators there
// (y = act'(acc * s * postMult + z * postMult + b * postMult), which is postMult * act(acc * s +
// z + b) within float rounding, int8 rounded half to even and saturated, or f16; int8Epilogue
// below, shared with the halo kernel, says which forms are exact) and the tile leaves in
// coalesced 16-byte stores. Each block reads the residual tile it later
// overwrites, all of it before writing, so y may be z's bytes (ResNet's identity in place).
// Blocks walk the output-channel tiles of one pixel tile first, so its input rows are read from
// DRAM once. Measured against cuDNN on ResNet-50's layers: docs/int8.md.
#include "codegen/kernels/ConvInt8.h"
#include "codegen/kernels/ConvInt8Halo.h"
#include "codegen/kernels/KernelWriter.h"

#include "ir/DType.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace infc::codegen {

const std::vector<Int8ConvTile> &int8ConvTiles() {
  // Measured on the H200 (scripts/probes/int8_igemm_probe.cu): 128x128 fits most layers, 64x128
  // the memory-bound ones with residuals, the bn 64 tiles 64-channel outputs, bk 128 the 3x3
  // layers with 512 channels. Wider tiles (256x128, 128x256) were never the fastest there.
  // The last three walk several output tiles per block (tilesPerBlock), their loads running on
  // into the next tile while one finishes: the 1x1 layers with few reduction steps, which a
  // block per tile leaves waiting on memory between its one load and its epilogue (layer1's
  // 64->256 with its residual: 0.236 ms with the first tile, 0.215 with the sixth;
  // scripts/probes/int8_tiles, docs/int8.md). Ten more shapes and register caps
  // (__launch_bounds__ minimum blocks) measured there were never more than 1.4% faster than these.
  // The resident-weight tiles (8-11) load a block's weights once and walk pixel tiles only:
  // on the 1x1 layers with few reduction steps, a tile's weights are as many bytes as its input
  // rows or more, and reloading them per tile doubles the traffic from L2 into shared memory.
  static const std::vector<Int8ConvTile> tiles = {
      {128, 128, 64, 3, 64, 32, 1},       {64, 128, 64, 4, 32, 32, 1},       {128, 64, 64, 4, 32, 32, 1},
      {256, 64, 64, 3, 64, 32, 1},        {128, 128, 128, 3, 64, 32, 1},     {64, 128, 64, 2, 32, 32, 8},
      {128, 128, 64, 3, 64, 32, 4},       {128, 64, 64, 3, 32, 32, 8},       {64, 128, 64, 3, 32, 32, 8, true},
      {64, 256, 64, 3, 32, 64, 8, true}, {128, 128, 64, 3, 64, 32, 8, true}, {128, 64, 64, 3, 32, 32, 8, true},
      // The halo kernel (3x3 64 -> 64; codegen/kernels/ConvInt8Halo.h), 4, 8 or 14 output tiles per
      // block: the grid is fixed when the kernel is generated, without the GPU's SM count, so
      // the autotuner picks the one whose waves fit it best (ResNet-50's layer1 at batch 256 on
      // 132 SMs: 3,584 tiles, 256 blocks of 14 in one wave of 2 per SM).
      {224, 64, 64, 1, 32, 64, 4, true, true}, {224, 64, 64, 1, 32, 64, 8, true, true},
      {224, 64, 64, 1, 32, 64, 14, true, true},
  };
  return tiles;
}

namespace {

DType yType(const rt::ConvSpec &spec) { return static_cast<DType>(spec.dtype); }
DType zType(const rt::ConvSpec &spec) { return spec.zDtype ? static_cast<DType>(spec.zDtype) : yType(spec); }

} // namespace

bool int8EpilogueActivation(const std::string &act, std::string &expr) {
  if (act.empty()) {
    expr.assign(1, 'v'); // (not `= "v"`: GCC 12 warns falsely about an overlapping copy there)
    return true;
  }
  if (act == "relu") {
    expr = "fmaxf(v, 0.0f)";
    return true;
  }
  if (act.rfind("clip:", 0) == 0) {
    const char *p = act.c_str() + 5;
    char *end = nullptr;
    float lo = std::strtof(p, &end);
    if (!end || *end != ':')
      return false;
    float hi = std::strtof(end + 1, &end);
    if (!end || *end)
      return false;
    // The bounds times postMult: the epilogue applies the factor before the activation.
    expr = "fminf(fmaxf(v, " + floatLiteral(lo, false) + " * postMult), " + floatLiteral(hi, false) + " * postMult)";
    return true;
  }
  if (act.rfind("leaky:", 0) == 0) {
    char *end = nullptr;
    float a = std::strtof(act.c_str() + 6, &end);
    if (!end || *end)
      return false;
    expr = "(v >= 0.0f ? v : v * " + floatLiteral(a, false) + ")";
    return true;
  }
  return false;
}

std::string int8ConvRefusal(const rt::ConvSpec &spec) {
  if (!spec.int8 || !spec.nhwc || spec.transpose)
    return "not an INT8 channels-last convolution";
  if (spec.xDims.size() != 4 || spec.wDims.size() != 4 || spec.yDims.size() != 4)
    return "not 2-D";
  if (spec.wDims[1] != spec.xDims[1])
    return "grouped";
  if (spec.xDims[1] % 64 || spec.yDims[1] % 64)
    return "channels not in multiples of 64";
  if (yType(spec) != DType::I8 && yType(spec) != DType::F16)
    return "result neither int8 nor f16";
  if (spec.hasResidual && zType(spec) != DType::I8 && zType(spec) != DType::F16)
    return "residual neither int8 nor f16";
  std::string expr;
  if (!int8EpilogueActivation(spec.activation, expr))
    return "activation " + spec.activation + " not in the generated epilogue";
  if (spec.yDims[0] * spec.yDims[2] * spec.yDims[3] >= (int64_t{1} << 31))
    return "over 2^31 output pixels";
  return "";
}

bool int8ConvTileFits(const rt::ConvSpec &spec, size_t tile) {
  const std::vector<Int8ConvTile> &tiles = int8ConvTiles();
  if (tile >= tiles.size() || spec.yDims.size() != 4 || spec.wDims.size() != 4)
    return false;
  const Int8ConvTile &t = tiles[tile];
  if (t.halo)
    return int8HaloRefusal(spec).empty();
  const int64_t reduction = spec.wDims[1] * spec.wDims[2] * spec.wDims[3];
  return spec.yDims[1] % t.bn == 0 && spec.xDims[1] % t.bk == 0 &&
         (!t.residentWeights || reduction * t.bn <= kInt8ResidentWeightBytes);
}

std::string int8ConvTileName(size_t tile) {
  const Int8ConvTile &t = int8ConvTiles().at(tile);
  if (t.halo)
    return "3x3 halo tiles of " + std::to_string(t.bm) + " pixels, " + std::to_string(t.tilesPerBlock) + " per block";
  return std::to_string(t.bm) + "x" + std::to_string(t.bn) + "x" + std::to_string(t.bk) + ", " + std::to_string(t.stages) +
         " stages" + (t.tilesPerBlock > 1 ? ", " + std::to_string(t.tilesPerBlock) + " tiles per block" : "") +
         (t.residentWeights ? ", weights resident" : "");
}

Int8EpilogueCode int8Epilogue(const rt::ConvSpec &spec, bool smallAcc, const std::string &acc) {
  const bool yInt8 = yType(spec) == DType::I8, zInt8 = spec.hasResidual && zType(spec) == DType::I8;
  std::string act;
  int8EpilogueActivation(spec.activation, act);
  // relu with a positive factor after it: the result is 0 or more, so only the upper saturation.
  const bool nonNegative = spec.activation == "relu" && spec.postMult > 0 && std::isfinite(spec.postMult);
  std::ostringstream ch, px;
  // postMult * act(acc * s + z + b) = act'(acc * (s * postMult) + (z * postMult + b * postMult))
  // for postMult > 0 (act' the activation with its bounds times postMult): two fused
  // multiply-adds an element instead of three multiplies and adds.
  ch << "      float sc[2] = {sv.x * postMult, sv.y * postMult}, bi[2] = {bv.x * postMult, bv.y * postMult};\n";
  // An int8 result: the accumulator's offset (1.5 * 2^23, smallAcc) and the int8 residual's
  // (32768 + 128) fold into the per-channel constant, so that neither needs its subtraction per
  // element (2 of the epilogue's 9-10 instructions an element on the 1x1 layers, which are bound
  // by instruction issue). The sums then round at the offsets' magnitude (1.5 * 2^23 * |s| +
  // 2^15 * postMult: under 0.01 of an int8 step for the scales of calibrated networks, |s| below
  // 0.01) instead of the result's; an f16 result, whose step is relative, keeps the exact forms.
  const bool foldAcc = yInt8 && smallAcc, foldZ = yInt8 && zInt8;
  if (foldAcc || foldZ)
    ch << "      #pragma unroll\n      for (int e = 0; e < 2; ++e)\n        bi[e] = "
       << (foldAcc ? "__fmaf_rn(-12582912.0f, sc[e], " : "(") << (foldZ ? "__fmaf_rn(-32896.0f, postMult, bi[e]))" : "bi[e])")
       << ";\n";
  // An int8 result with relu (postMult > 0) or no activation saturates to [lo, lo + range] ([0,
  // 127] or [-128, 127]): with scale and constant divided by the range, one saturating fused
  // multiply-add gives (v - lo) / range clamped to [0, 1], and one more rounds it back (u * range
  // + lo under the 1.5 * 2^23 offset), where relu, both clamps and the rounding add took four.
  // u * range is v within 2^-24 of it: the same int8 but for values that close to a tie.
  const bool unitForm = yInt8 && (spec.activation.empty() || nonNegative);
  const float lo = spec.activation.empty() ? -128.0f : 0.0f, range = spec.activation.empty() ? 255.0f : 127.0f;
  const std::string inv = floatLiteral(1.0f / range, false);
  if (unitForm)
    ch << "      #pragma unroll\n      for (int e = 0; e < 2; ++e) {\n        bi[e] = (bi[e] - " << floatLiteral(lo, false)
       << ") * " << inv << ";\n        sc[e] *= " << inv << ";\n      }\n";
  std::string zMult = "  const float zMult = postMult" + (unitForm ? " * " + inv : std::string()) + ";\n";
  // Per pixel: zz holds the residual's two values (int8: 16 bits; f16: 32).
  px << "          float o[2], zv[2] = {0.0f, 0.0f};\n";
  if (zInt8)
    px << "          zv[0] = " << (foldZ ? "infc_s8f2_biased" : "infc_s8f2") << "(zz ^ 0x8080u, 0);\n          zv[1] = "
       << (foldZ ? "infc_s8f2_biased" : "infc_s8f2") << "(zz ^ 0x8080u, 1);\n";
  else if (spec.hasResidual)
    px << "          zv[0] = infc_h2f((unsigned short)(zz & 0xffff));\n          zv[1] = infc_h2f((unsigned short)(zz >> 16));\n";
  px << "          #pragma unroll\n          for (int e = 0; e < 2; ++e) {\n";
  px << "            const float v = __fmaf_rn("
     << (foldAcc ? "__int_as_float(" + acc + ")" : smallAcc ? "infc_biased2f(" + acc + ")" : "(float)" + acc) << ", sc[e], "
     << (spec.hasResidual ? "__fmaf_rn(zv[e], zMult, bi[e])" : "bi[e]") << ");\n";
  px << "            o[e] = " << (unitForm ? std::string("__saturatef(v)") : act) << ";\n          }\n";
  px << "          const unsigned packed = ";
  if (unitForm)
    px << "infc_unit2s8x2(o[0], o[1], " << floatLiteral(range, false) << ", " << floatLiteral(lo + 12582912.0f, false) << ");\n";
  else if (yInt8)
    px << (nonNegative ? "infc_f2u7x2" : "infc_f2s8x2") << "(o[0], o[1]);\n";
  else
    px << "infc_f2h2(o[0], o[1]);\n";
  return {ch.str(), px.str(), zMult};
}

std::string int8EpilogueTable(const Int8EpilogueCode &epi, const rt::ConvSpec &spec, const std::string &n0, int64_t channels) {
  std::ostringstream os;
  os << "  // The block's channel constants, once (its channels never change): a float4 per pair.\n"
     << "  for (int p = threadIdx.x; p < " << channels / 2 << "; p += blockDim.x) {\n"
     << "    const int c = p * 2;\n"
     << "    const float2 sv = *(const float2 *)(scale + " << n0 << " + c);\n"
     << (spec.hasBias ? "    const float2 bv = *(const float2 *)(bias + " + n0 + " + c);\n"
                      : std::string("    const float2 bv = make_float2(0.0f, 0.0f);\n"))
     << "  {\n" << epi.channel << "  ctab[p] = make_float4(sc[0], sc[1], bi[0], bi[1]);\n  }\n  }\n";
  return os.str();
}

const char *int8EpilogueTableRead() {
  return "      const float4 cv = ctab[c >> 1];\n      const float sc[2] = {cv.x, cv.y}, bi[2] = {cv.z, cv.w};\n";
}

const std::string &int8KernelHelpers() {
  static const std::string helpers = R"(#ifndef INFC_IGEMM_HELPERS
#define INFC_IGEMM_HELPERS
// Byte offset of 16-byte chunk col of row in a shared tile of 64- or 128-byte rows, XOR-swizzled
// so that ldmatrix's 8 rows at one chunk hit 8 different bank groups.
__device__ __forceinline__ int infc_swz4(int row, int col) { return row * 64 + ((col ^ ((row >> 1) & 3)) << 4); }
__device__ __forceinline__ int infc_swz8(int row, int col) { return row * 128 + ((col ^ (row & 7)) << 4); }
__device__ __forceinline__ void infc_cp16(void *smem, const void *gmem, bool valid) {
  const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void infc_ldsm_x4(unsigned *r, const void *smem) {
  const unsigned a = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}
// Conversions without the conversion unit (a quarter of the FP32 rate; 3-10% of the memory-bound
// 1x1 layers' time went there), each exact and in few instructions (the epilogue of those layers
// is bound by instruction issue): signed byte 0 or 1 of a word whose bytes have their top bits
// flipped (x ^ 0x80) to float, the byte put under the exponent of 2^23 by one byte_perm; an
// accumulator that started at 0x4B400000 and moved by less than 2^22 to float; two floats to two signed bytes (bits 0..15), each
// rounded half to even (the magic add rounds as rintf does) and saturated, packed by one
// byte_perm; two floats to two f16 at once.
__device__ __forceinline__ float infc_s8f2(unsigned flipped, int byte) {
  return __uint_as_float(__byte_perm(flipped, 0x4B000000u, byte ? 0x7441 : 0x7440)) - 8388736.0f;
}
__device__ __forceinline__ float infc_biased2f(int a) { return __int_as_float(a) - 12582912.0f; }
// The flipped byte as 32768 + 128 + x (the byte under the exponent of 2^15: exact), for an
// epilogue whose per-channel constant takes the 32896 off.
__device__ __forceinline__ float infc_s8f2_biased(unsigned flipped, int byte) {
  return __uint_as_float(__byte_perm(flipped, 0x47000000u, byte ? 0x7414 : 0x7404));
}
__device__ __forceinline__ unsigned infc_f2s8m(float v) {
  return __float_as_uint(__fadd_rn(fminf(fmaxf(v, -128.0f), 127.0f), 12582912.0f));
}
__device__ __forceinline__ unsigned infc_f2s8x2(float a, float b) { return __byte_perm(infc_f2s8m(a), infc_f2s8m(b), 0x0040); }
// a, b in [0, 1] (saturated): the signed bytes of round(a * range) + offset - 1.5 * 2^23, packed
// (offset: the result's lowest value plus 1.5 * 2^23).
__device__ __forceinline__ unsigned infc_unit2s8x2(float a, float b, float range, float offset) {
  return __byte_perm(__float_as_uint(__fmaf_rn(a, range, offset)), __float_as_uint(__fmaf_rn(b, range, offset)), 0x0040);
}
// a, b >= 0 (or +inf): the upper saturation only.
__device__ __forceinline__ unsigned infc_f2u7x2(float a, float b) {
  return __byte_perm(__float_as_uint(__fadd_rn(fminf(a, 127.0f), 12582912.0f)),
                     __float_as_uint(__fadd_rn(fminf(b, 127.0f), 12582912.0f)), 0x0040);
}
__device__ __forceinline__ unsigned infc_f2h2(float lo, float hi) {
  unsigned r; asm("{cvt.rn.f16x2.f32 %0, %1, %2;}" : "=r"(r) : "f"(hi), "f"(lo)); return r;
}
__device__ __forceinline__ void infc_mma_s8(int *c, const unsigned *a, unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// The same, the sums starting from c0 (a tile's first reduction step: no per-tile reset of the
// accumulators).
__device__ __forceinline__ void infc_mma_s8_from(int *d, const unsigned *a, unsigned b0, unsigned b1, int c0) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%10,%10,%10};\n"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "r"(c0));
}
#endif
)";
  return helpers;
}

Expected<Int8ConvKernel> int8ConvKernel(const rt::ConvSpec &spec, size_t tile, const std::string &function) {
  if (std::string why = int8ConvRefusal(spec); !why.empty())
    return unsupported("the generated INT8 convolution does not take this one: " + why);
  if (!int8ConvTileFits(spec, tile))
    return unsupported("the generated INT8 convolution's tile " + std::to_string(tile) + " does not fit this one");
  const Int8ConvTile &t = int8ConvTiles()[tile];
  if (t.halo)
    return int8HaloKernel(spec, t, function);
  const int64_t N = spec.xDims[0], C = spec.xDims[1], H = spec.xDims[2], W = spec.xDims[3];
  const int64_t K = spec.yDims[1], P = spec.yDims[2], Q = spec.yDims[3], R = spec.wDims[2], S = spec.wDims[3];
  const int64_t M = N * P * Q;
  const int warps = (t.bm / t.wtm) * (t.bn / t.wtn), threads = warps * 32, cpr = t.bk / 16;
  const bool yInt8 = yType(spec) == DType::I8, zInt8 = spec.hasResidual && zType(spec) == DType::I8;
  const int ySize = yInt8 ? 1 : 2, zSize = spec.hasResidual ? (zInt8 ? 1 : 2) : 0;
  const int yRow = t.bn * ySize + 16, zRow = t.bn * zSize + 16;
  const bool resident = t.residentWeights;
  const int stage = (t.bm + (resident ? 0 : t.bn)) * t.bk;
  const int64_t kt = R * S * C / t.bk, pixelTiles = (M + t.bm - 1) / t.bm, numTiles = pixelTiles * (K / t.bn);
  // Resident weights: a whole number of blocks per channel tile, so that a block's tiles
  // (blockIdx.x, + gridDim.x, ...) all have its channels.
  const int64_t blocks = resident ? (pixelTiles + t.tilesPerBlock - 1) / t.tilesPerBlock * (K / t.bn)
                                  : (numTiles + t.tilesPerBlock - 1) / t.tilesPerBlock;
  const int64_t tilesPerBlock = (numTiles + blocks - 1) / blocks;
  const int64_t weightBytes = resident ? R * S * C * t.bn : 0;
  // Residual tiles in flight at once: a block's loads run up to stages - 1 reduction steps
  // ahead, into later tiles when kt is small; each such tile's residual needs its own slot until
  // that tile's epilogue is done with it.
  const int zSlots = spec.hasResidual
                         ? static_cast<int>(std::min<int64_t>(tilesPerBlock, 1 + (t.stages - 1 + kt - 1) / kt))
                         : 0;
  // The result tile takes the residual's slot when both have one type (each thread reads its
  // residual values and writes its results at the same bytes).
  const bool yOverZ = spec.hasResidual && ySize == zSize;
  const int zBytes = t.bm * zRow;
  Int8ConvKernel k;
  k.threads = static_cast<uint32_t>(threads);
  // Resident weights: the block's channels are fixed, their epilogue constants a table (BN / 2
  // float4) computed once instead of per tile (about 14 instructions a channel pair and tile).
  const int64_t tableBytes = resident ? t.bn * 8 : 0;
  k.sharedBytes = static_cast<uint32_t>(t.stages * stage + weightBytes + zSlots * zBytes + (yOverZ ? 0 : t.bm * yRow) +
                                        tableBytes);
  k.blocks = static_cast<uint32_t>(blocks);
  const bool plain1x1 = R == 1 && S == 1 && spec.padsBegin[0] == 0 && spec.padsBegin[1] == 0;
  // |acc| <= KD * 128 * 127 (int8 activations, weights in [-127, 127]): under 2^22, the
  // accumulators start at 0x4B400000 (the float 1.5 * 2^23) and the sums' float is then exact in
  // one subtraction, without the conversion unit.
  const bool smallAcc = R * S * C * 128 * 127 < (int64_t{1} << 22);
  const char *acc0 = smallAcc ? "0x4B400000" : "0";

  std::ostringstream src;
  src << int8KernelHelpers();
  const char *zT = !spec.hasResidual ? "unsigned char" : zInt8 ? "signed char" : "unsigned short";
  const char *yT = yInt8 ? "signed char" : "unsigned short";
  src << "extern \"C\" __global__ void __launch_bounds__(" << threads << ") " << function
      << "(const signed char *__restrict__ x, const signed char *__restrict__ wt, const float *__restrict__ bias, const "
      << zT << " *z, const float *__restrict__ scale, " << yT << " *y, float postMult) {\n";
  src << "  constexpr int C = " << C << ", H = " << H << ", W = " << W << ", K = " << K << ", P = " << P << ", Q = " << Q
      << ", S = " << S << ", KD = " << R * S * C << ";\n";
  src << "  constexpr int SH = " << spec.strides[0] << ", SW = " << spec.strides[1] << ", PH = " << spec.padsBegin[0]
      << ", PW = " << spec.padsBegin[1] << ", DH = " << spec.dilations[0] << ", DW = " << spec.dilations[1] << ";\n";
  src << "  constexpr int M = " << M << ", BM = " << t.bm << ", BN = " << t.bn << ", BK = " << t.bk << ", ST = " << t.stages
      << ", WTM = " << t.wtm << ", WTN = " << t.wtn << ", THREADS = " << threads << ", CPR = " << cpr << ";\n";
  src << "  constexpr int KT = KD / BK, STAGE = " << stage
      << ", A_ITERS = BM * CPR / THREADS, B_ITERS = BN * CPR / THREADS;\n";
  src << "  constexpr int YROW = " << yRow << ", ZROW = " << zRow << ", NT = K / BN, TILES = " << numTiles
      << ", ZSLOTS = " << std::max(zSlots, 1) << ", ZTILE = BM * ZROW;\n";
  const char *swz = cpr == 8 ? "infc_swz8" : "infc_swz4";
  src << "  extern __shared__ __align__(128) unsigned char smem[];\n";
  if (resident)
    src << "  // This block's weights, KT steps of BN rows x BK bytes each, loaded with its first step.\n"
           "  unsigned char *wres = smem + ST * STAGE;\n  unsigned char *zring = wres + KT * BN * BK;\n";
  else
    src << "  unsigned char *zring = smem + ST * STAGE;\n";
  if (!yOverZ)
    src << "  unsigned char *ybuf = zring + " << zSlots * zBytes << ";\n";
  const Int8EpilogueCode epi = int8Epilogue(spec, smallAcc, "acc[mi][ni][half * 2 + e]");
  if (resident)
    src << "  float4 *ctab = (float4 *)(zring + " << zSlots * zBytes + (yOverZ ? 0 : t.bm * yRow) << ");\n"
        << int8EpilogueTable(epi, spec, "((int)blockIdx.x % NT) * BN", t.bn);
  src << epi.zMult;
  src << R"(
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int col = tid % CPR;
  // This block's output tiles: blockIdx.x, + gridDim.x, ...; each is KT reduction steps, and
  // the cp.async pipeline runs over all the steps of all of them.
  const int steps = ((TILES - 1 - (int)blockIdx.x) / (int)gridDim.x + 1) * KT;
  long long aBase[A_ITERS];
  int aH[A_ITERS], aW[A_ITERS], ln0 = 0;
  // Loads step `step` into stage buffer `stage`; steps come in order, so a tile's input rows
  // (and its residual) are set up at its first step.
  auto load = [&](int step, int stage) {
    const int j = step / KT, kt = step % KT;
    if (kt == 0) {
      const int tile = (int)blockIdx.x + j * (int)gridDim.x, lm0 = (tile / NT) * BM;
      ln0 = (tile % NT) * BN;
      #pragma unroll
      for (int i = 0; i < A_ITERS; ++i) {
        const int m = lm0 + tid / CPR + i * (THREADS / CPR);
        const bool ok = m < M;
)";
  if (plain1x1 && spec.strides[0] == 1 && spec.strides[1] == 1)
    src << R"(        // 1x1, stride 1, no padding: output pixel m reads input row m.
        aH[i] = ok ? 0 : -(1 << 30);
        aW[i] = 0;
        aBase[i] = (long long)(ok ? m : 0) * C;
      }
)";
  else
    src << R"(        const int mm = ok ? m : 0, n = mm / (P * Q), pq = mm % (P * Q);
        aH[i] = ok ? (pq / Q) * SH - PH : -(1 << 30);
        aW[i] = (pq % Q) * SW - PW;
        aBase[i] = (((long long)n * H + aH[i]) * W + aW[i]) * C;
      }
)";
  if (spec.hasResidual)
    src << R"(      // The residual tile rides with the tile's first step, into its ring slot: each thread
      // the same 16-byte column of every ZROWS-th row.
      constexpr int ZSIZE = )"
        << zSize << R"(, ZCH = BN * ZSIZE / 16, ZROWS = THREADS / ZCH, Z_ITERS = (BM + ZROWS - 1) / ZROWS;
      unsigned char *zt = zring + (j % ZSLOTS) * ZTILE + (tid / ZCH) * ZROW + (tid % ZCH) * 16;
      const unsigned char *zg = (const unsigned char *)z + (long long)ln0 * ZSIZE + (tid % ZCH) * 16;
      #pragma unroll
      for (int it = 0; it < Z_ITERS; ++it) {
        const int row = tid / ZCH + it * ZROWS, m = lm0 + row;
        if (Z_ITERS * ZROWS == BM || row < BM)
          infc_cp16(zt + it * ZROWS * ZROW, zg + (long long)(m < M ? m : 0) * (K * ZSIZE), m < M);
      }
)";
  if (resident)
    src << R"(      if (j == 0) {
        #pragma unroll 1
        for (int wk = 0; wk < KT; ++wk)
          #pragma unroll
          for (int i = 0; i < B_ITERS; ++i) {
            const int row = tid / CPR + i * (THREADS / CPR);
            infc_cp16(wres + wk * BN * BK + )"
        << swz << R"((row, col), wt + (long long)(ln0 + row) * KD + wk * BK + col * 16, true);
          }
      }
)";
  src << R"(    }
    const int k0 = kt * BK, rs = k0 / C, c0 = k0 % C, r = rs / S, s = rs % S;
    unsigned char *As = smem + stage * STAGE;
    #pragma unroll
    for (int i = 0; i < A_ITERS; ++i) {
      const int row = tid / CPR + i * (THREADS / CPR);
)";
  if (plain1x1)
    src << "      const bool ok = aH[i] >= 0;\n";
  else
    src << "      const bool ok = (unsigned)(aH[i] + r * DH) < (unsigned)H && (unsigned)(aW[i] + s * DW) < (unsigned)W;\n";
  src << "      const signed char *g = x + aBase[i] + ((long long)r * DH * W + s * DW) * C + c0 + col * 16;\n";
  src << "      infc_cp16(As + " << swz << "(row, col), ok ? g : x, ok);\n    }\n";
  if (!resident)
    src << R"(    unsigned char *Bs = As + BM * BK;
    #pragma unroll
    for (int i = 0; i < B_ITERS; ++i) {
      const int row = tid / CPR + i * (THREADS / CPR);
      infc_cp16(Bs + )"
        << swz << R"((row, col), wt + (long long)(ln0 + row) * KD + k0 + col * 16, true);
    }
)";
  src << R"(  };
  #pragma unroll
  for (int st = 0; st < ST - 1; ++st) {
    if (st < steps) load(st, st);
    asm volatile("cp.async.commit_group;\n" ::);
  }
  constexpr int WM = BM / WTM, MI = WTM / 16, NJ = WTN / 16;
  const int wm = (warp % WM) * WTM, wn = (warp / WM) * WTN;
  int acc[MI][2 * NJ][4]; // each tile's first step writes them (infc_mma_s8_from)
  // This lane's ldmatrix rows in a stage, per 32-byte reduction step: a fragment 16 rows further
  // is 16 * BK bytes further (the swizzle repeats every 8 rows). Stage, reduction step and the
  // next step to load advance by counters, without divisions in the loop.
  int aOff[BK / 32], bOff[BK / 32];
  #pragma unroll
  for (int ks = 0; ks < BK / 32; ++ks) {
    aOff[ks] = )"
      << swz << R"((wm + (lane & 7) + ((lane >> 3) & 1) * 8, ks * 2 + (lane >> 4));
    bOff[ks] = )"
      << swz << R"((wn + (lane & 7) + (lane >> 4) * 8, ks * 2 + ((lane >> 3) & 1));
  }
  int readStage = 0, writeStage = ST - 1, kt = 0;
  #pragma unroll 1
  for (int step = 0; step < steps; ++step) {
    // Steps up to this one have landed (each step is one commit group, its tile's residual in
    // the group of the tile's first step).
    asm volatile("cp.async.wait_group %0;\n" ::"n"(ST - 2));
    __syncthreads();
    if (step + ST - 1 < steps) load(step + ST - 1, writeStage);
    asm volatile("cp.async.commit_group;\n" ::);
    writeStage = writeStage == ST - 1 ? 0 : writeStage + 1;
    const unsigned char *A = smem + readStage * STAGE, *B = )"
      << (resident ? "wres + kt * (BN * BK)" : "A + BM * BK") << R"(;
    readStage = readStage == ST - 1 ? 0 : readStage + 1;
    const bool firstStep = kt == 0, lastStep = kt == KT - 1;
    kt = lastStep ? 0 : kt + 1;
    #pragma unroll
    for (int ks = 0; ks < BK / 32; ++ks) {
      unsigned af[MI][4], bf[NJ][4];
      #pragma unroll
      for (int mi = 0; mi < MI; ++mi)
        infc_ldsm_x4(af[mi], A + aOff[ks] + mi * 16 * BK);
      #pragma unroll
      for (int nj = 0; nj < NJ; ++nj)
        infc_ldsm_x4(bf[nj], B + bOff[ks] + nj * 16 * BK);
      if (ks == 0 && firstStep) { // a tile's first step: the sums start over
        #pragma unroll
        for (int mi = 0; mi < MI; ++mi)
          #pragma unroll
          for (int ni = 0; ni < 2 * NJ; ++ni)
            infc_mma_s8_from(acc[mi][ni], af[mi], bf[ni >> 1][(ni & 1) * 2], bf[ni >> 1][(ni & 1) * 2 + 1], )"
      << acc0 << R"();
      } else {
        #pragma unroll
        for (int mi = 0; mi < MI; ++mi)
          #pragma unroll
          for (int ni = 0; ni < 2 * NJ; ++ni)
            infc_mma_s8(acc[mi][ni], af[mi], bf[ni >> 1][(ni & 1) * 2], bf[ni >> 1][(ni & 1) * 2 + 1]);
      }
    }
    if (!lastStep)
      continue;
    // The tile is done: its epilogue. Lane holds rows g, g + 8 and columns 2t, 2t + 1 of each
    // m16 x n8 tile.
    const int j = step / KT, tile = (int)blockIdx.x + j * (int)gridDim.x;
    const int n0 = (tile % NT) * BN, m0 = (tile / NT) * BM;
)";
  if (spec.hasResidual)
    src << "    unsigned char *ztile = zring + (j % ZSLOTS) * ZTILE;\n";
  src << "    unsigned char *ytile = " << (yOverZ ? "ztile" : "ybuf") << ";\n";
  src << R"(
    const int g = lane >> 2, t4 = lane & 3;
    #pragma unroll
    for (int ni = 0; ni < 2 * NJ; ++ni) {
      const int c = wn + ni * 8 + t4 * 2;
)";
  if (resident)
    src << int8EpilogueTableRead();
  else
    src << "      const float2 sv = *(const float2 *)(scale + n0 + c);\n"
        << (spec.hasBias ? "      const float2 bv = *(const float2 *)(bias + n0 + c);\n"
                         : "      const float2 bv = make_float2(0.0f, 0.0f);\n")
        << epi.channel;
  src << R"(      #pragma unroll
      for (int mi = 0; mi < MI; ++mi)
        #pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int row = wm + mi * 16 + g + half * 8;
)";
  if (spec.hasResidual)
    src << "          const unsigned zz = *(const " << (zInt8 ? "unsigned short" : "unsigned") << " *)(ztile + row * ZROW + c * "
        << zSize << ");\n";
  src << epi.pixel;
  if (yInt8)
    src << "          *(unsigned short *)(ytile + row * YROW + c) = (unsigned short)packed;\n";
  else
    src << "          *(unsigned *)(ytile + row * YROW + c * 2) = packed;\n";
  src << R"(
        }
    }
    __syncthreads();
    constexpr int YCH = BN * )"
      << ySize << R"( / 16;
    for (int i = tid; i < BM * YCH; i += THREADS) {
      const int row = i / YCH, c = i % YCH, m = m0 + row;
      if (m < M)
        *(uint4 *)((unsigned char *)y + ((long long)m * K + n0) * )"
      << ySize << R"( + c * 16) = *(const uint4 *)(ytile + row * YROW + c * 16);
    }
  }
  asm volatile("cp.async.wait_group 0;\n" ::);
}
)";
  k.source = src.str();
  return k;
}

} // namespace infc::codegen
