// infc's own INT8 convolution: an implicit-GEMM kernel on the warp-level tensor-core instruction
// (mma.sync m16n8k32, int32 accumulation), generated per convolution with every shape a constant,
// one tactic per tile shape. The autotuner times its tiles next to cuDNN's engine configs for
// each INT8 convolution (codegen/Autotuner.cpp) and the faster wins; a win is recorded as a
// ConvTactic with engineId kGeneratedConvEngine and the tile's index as its one knob, in the
// engine's tactic text and in timing caches, and lowering then emits this kernel instead of a
// cuDNN layer (codegen/kernels/Conv.cpp). docs/int8.md says where it wins and by how much.
#pragma once

#include "ir/Status.h"
#include "runtime/CudnnConv.h"

#include <cstdint>
#include <string>
#include <vector>

namespace infc::codegen {

/// ConvTactic::engineId of the generated INT8 convolution (cuDNN's engine ids are >= 0).
constexpr int64_t kGeneratedConvEngine = -2;

/// One tile shape: bm output pixels x bn output channels per output tile, bk reduction bytes per
/// pipeline stage, `stages` stages of cp.async, warps computing wtm x wtn each, and up to
/// tilesPerBlock output tiles per block, its cp.async pipeline running across them. With
/// residentWeights, a block keeps all its bn channels' weights (reduction x bn bytes) in shared
/// memory, loaded once, and walks pixel tiles of those channels only: the stages carry input rows
/// alone.
/// With halo, the tile is the halo kernel's (codegen/kernels/ConvInt8Halo.h: 3x3 64 -> 64 only),
/// whose block of bm pixels by bn channels reads its input halo once; of the rest only
/// tilesPerBlock applies.
struct Int8ConvTile {
  int bm, bn, bk, stages, wtm, wtn, tilesPerBlock;
  bool residentWeights = false;
  bool halo = false;
};
/// The most weight bytes (reduction x bn) a residentWeights tile keeps in shared memory; a larger
/// convolution does not fit it.
constexpr int64_t kInt8ResidentWeightBytes = 96 * 1024;

/// The candidate tiles, in a fixed order (a tactic's knob indexes this list).
const std::vector<Int8ConvTile> &int8ConvTiles();

/// "" when the generated kernel computes `spec` (normalized, rt::normalizeConvSpec), else why not:
/// it takes 2-D, ungrouped, channels-last INT8 convolutions with input and output channels in
/// multiples of 64, an int8 or f16 result, an int8 or f16 residual, and no activation or relu,
/// clip or leaky relu.
std::string int8ConvRefusal(const rt::ConvSpec &spec);

/// Whether tile `tile` divides `spec`'s channels (its bn the output channels, its bk the input ones)
/// and, for a residentWeights tile, its weights fit kInt8ResidentWeightBytes; a halo tile, whether
/// the halo kernel takes `spec` (int8HaloRefusal).
bool int8ConvTileFits(const rt::ConvSpec &spec, size_t tile);

/// "128x128x64, 3 stages".
std::string int8ConvTileName(size_t tile);

/// The epilogue activation as a float expression of v (false: not one the generated INT8 kernels
/// run): cuDNN's spelling in ConvSpec::activation ("", "relu", "clip:lo:hi", "leaky:alpha"); a
/// clip's bounds times postMult (the epilogue applies that factor before the activation).
bool int8EpilogueActivation(const std::string &act, std::string &expr);

/// The INT8 kernels' epilogue for `spec` (an int8 or f16 result from the int32 accumulator, the
/// per-channel scale, bias, residual, activation and postMult), as CUDA statements: `channel`
/// turns `sv` and `bv` (float2: scale and bias of channels c and c + 1) into the pair's constants;
/// `pixel` turns the two accumulators (`acc` with `e` for the element) and `zz` (the residual's
/// two values: int8 in 16 bits or f16 in 32) into `packed`, the two results (16 or 32 bits).
/// smallAcc: the accumulators started at 0x4B400000 (|sum| < 2^22).
/// `zMult` declares the residual's factor (once per kernel).
struct Int8EpilogueCode {
  std::string channel, pixel, zMult;
};
Int8EpilogueCode int8Epilogue(const rt::ConvSpec &spec, bool smallAcc, const std::string &acc);
/// For a block whose output channels never change: statements that fill `ctab` (float4 *, in
/// shared memory, channels / 2 entries) with `epi.channel`'s constants of channels n0 .. n0 +
/// channels (n0 an expression), and the statements that then read channel pair c's into sc, bi.
std::string int8EpilogueTable(const Int8EpilogueCode &epi, const rt::ConvSpec &spec, const std::string &n0, int64_t channels);
const char *int8EpilogueTableRead();

/// The device helpers of infc's INT8 kernels (cp.async, ldmatrix, mma.sync m16n8k32 s8
/// `infc_mma_s8`, the exact int8 conversions), guarded so that every kernel of a module may emit
/// them: the implicit GEMM here, the halo kernel (codegen/kernels/ConvInt8Halo.cpp) and the stem
/// kernel (codegen/kernels/ConvInt8Stem.cpp).
const std::string &int8KernelHelpers();

/// The kernel `function` for `spec` with tile `tile`: CUDA source (after kernelPrelude()), a 1-D
/// grid, its block size and dynamic shared memory. Parameters, in order: x, w, bias, z, s, y
/// (device pointers; an absent bias or z takes y's, unread) and postMult (float).
struct Int8ConvKernel {
  std::string source;
  uint32_t blocks = 0, threads = 0, sharedBytes = 0;
};
Expected<Int8ConvKernel> int8ConvKernel(const rt::ConvSpec &spec, size_t tile, const std::string &function);

} // namespace infc::codegen
