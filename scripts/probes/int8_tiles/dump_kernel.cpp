// Prints the CUDA source of infc's generated INT8 convolution (codegen/kernels/ConvInt8.cpp) for
// one ResNet-style layer at batch 256 and one tile, with the kernel prelude, as NVRTC gets it;
// its grid, block and shared memory go to stderr. gen.py builds a timing probe from these.
//   dump_kernel C K HW R TILE RESIDUAL   (R: 1 or 3, stride 1, padding R/2, relu, int8 in and out)
#include "codegen/kernels/ConvInt8.h"
#include "codegen/kernels/KernelWriter.h"
#include "ir/DType.h"

#include <cstdio>
#include <cstdlib>

using namespace infc;

int main(int argc, char **argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: dump_kernel C K HW R TILE RESIDUAL\n");
    return 2;
  }
  const int64_t c = std::atoi(argv[1]), k = std::atoi(argv[2]), hw = std::atoi(argv[3]), r = std::atoi(argv[4]);
  rt::ConvSpec s;
  s.xDims = {256, c, hw, hw};
  s.wDims = {k, c, r, r};
  s.yDims = {256, k, hw, hw};
  s.padsBegin = s.padsEnd = {r / 2, r / 2};
  s.strides = {1, 1};
  s.dilations = {1, 1};
  s.int8 = true;
  s.nhwc = true;
  s.hasBias = true;
  s.dtype = static_cast<int32_t>(DType::I8);
  s.hasResidual = std::atoi(argv[6]) != 0;
  s.activation = "relu";
  Expected<codegen::Int8ConvKernel> kernel = codegen::int8ConvKernel(s, static_cast<size_t>(std::atoi(argv[5])), "kern");
  if (!kernel.isOk()) {
    std::fprintf(stderr, "%s\n", kernel.status().message().c_str());
    return 1;
  }
  std::printf("%s\n%s\n", codegen::kernelPrelude().c_str(), kernel->source.c_str());
  std::fprintf(stderr, "blocks %u threads %u smem %u\n", kernel->blocks, kernel->threads, kernel->sharedBytes);
  return 0;
}
