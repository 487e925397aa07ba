// NVRTC in a process of its own (codegen/Nvrtc.h, cmd/infc-nvrtc.cpp): the helper's answers equal
// the in-process compile byte for byte, its compile errors carry NVRTC's log, and a malformed
// request is refused. No GPU needed.
#include "codegen/Nvrtc.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <unistd.h>

using namespace infc;
using namespace infc::codegen;

namespace {
const char *kKernel = "extern \"C\" __global__ void scale(float *x, int n) {\n"
                      "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
                      "  if (i < n) x[i] = x[i] * 2.0f + 1.0f;\n"
                      "}\n";
} // namespace

TEST_CASE("NVRTC through infc-nvrtc gives the in-process cubin", "[nvrtc]") {
  // The unit tests run from build/bin, next to infc-nvrtc: compileToCubin uses it.
  REQUIRE(::access((std::string(INFC_BINARY_DIR) + "/bin/infc-nvrtc").c_str(), X_OK) == 0);
  Expected<CubinResult> helper = compileToCubin(kKernel, "scale.cu", 9, 0);
  Expected<CubinResult> local = compileToCubinInProcess(kKernel, "scale.cu", 9, 0);
  REQUIRE(helper.isOk());
  REQUIRE(local.isOk());
  CHECK(!helper->cubin.empty());
  CHECK(helper->cubin == local->cubin);

  Expected<CubinResult> bad = compileToCubin("extern \"C\" __global__ void k() { undeclared(); }", "bad.cu", 9, 0);
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message().find("NVRTC failed to compile generated kernels 'bad.cu'") != std::string::npos);
  CHECK(bad.status().message().find("undeclared") != std::string::npos);
}

TEST_CASE("infc-nvrtc refuses a malformed request", "[nvrtc]") {
  int in[2], out[2];
  REQUIRE(::pipe(in) == 0);
  REQUIRE(::pipe(out) == 0);
  const char junk[] = "\x09\x00\x00\x00"; // half of the compute capability, then nothing
  REQUIRE(::write(in[1], junk, 4) == 4);
  ::close(in[1]);
  CHECK(serveNvrtcRequest(in[0], out[1]) == 2);
  ::close(in[0]);
  ::close(out[0]);
  ::close(out[1]);
}
