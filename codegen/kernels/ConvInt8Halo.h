// The halo-tile form of infc's INT8 convolution (a tile kind of codegen/kernels/ConvInt8.h): a 3x3,
// stride 1, padding 1 convolution of 64 channels to 64 whose block reads each output tile's input
// halo once, instead of the implicit GEMM's nine im2col rows per pixel. docs/int8.md measures it.
#pragma once

#include "codegen/kernels/ConvInt8.h"

#include <string>

namespace infc::codegen {

/// "" when the halo kernel computes `spec` (one int8ConvRefusal accepts), else why not: 3x3,
/// stride 1, padding 1 on every side, undilated, 64 input and 64 output channels, int8 result, no
/// residual.
std::string int8HaloRefusal(const rt::ConvSpec &spec);

/// The output tile (rows x columns of 224 pixels: 14 m16 tiles, two per warp) the kernel uses for
/// an H x W output: the one that pads the output least, then reads the smallest halo.
struct HaloTile {
  int rows = 0, cols = 0;
};
HaloTile int8HaloTile(int64_t h, int64_t w);

/// The kernel `function` for `spec` (int8ConvRefusal and int8HaloRefusal empty, else Unsupported
/// with the reason), `tile.tilesPerBlock` output tiles per block: the same parameters as
/// int8ConvKernel's.
Expected<Int8ConvKernel> int8HaloKernel(const rt::ConvSpec &spec, const Int8ConvTile &tile, const std::string &function);

} // namespace infc::codegen
