// Compiles a CUDA file with infc's NVRTC options (codegen/Nvrtc.cpp) in a process of its own and
// writes the cubin, to compare NVRTC's output across environments (docs/ci.md: the MobileNetV2
// GPU and CPU-only builds). Modes, before compiling: `init` initializes the CUDA driver and names
// the device (and touches cuDNN and cuBLASLt, as infc's process does), `heapN` makes N heap
// allocations of varied sizes, `pre` compiles a tiny kernel first. Build:
//   g++ -O1 -o nvrtc_probe scripts/probes/nvrtc_probe.cpp -I/usr/local/cuda/include
//       -L/usr/local/cuda/lib64 -lnvrtc -lcudnn -lcublasLt -ldl
//   INFC_DUMP_KERNELS=k.cu infc build ...; ./nvrtc_probe k.cu out [init|heap1000|pre]  -> out.cubin
#include <cublasLt.h>
#include <cudnn.h>
#include <dlfcn.h>
#include <nvrtc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
const char *kOptions[] = {"--gpu-architecture=sm_90", "--std=c++17", "-default-device", "--fmad=true"};

void initDriver() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::printf("no driver\n");
    return;
  }
  auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(lib, "cuInit"));
  auto get = reinterpret_cast<int (*)(int *, int)>(dlsym(lib, "cuDeviceGet"));
  auto name = reinterpret_cast<int (*)(char *, int, int)>(dlsym(lib, "cuDeviceGetName"));
  int r = init ? init(0) : -1, dev = 0;
  char buf[256] = {0};
  if (r == 0 && get && name && get(&dev, 0) == 0)
    name(buf, sizeof buf, dev);
  std::printf("cuInit %d, device '%s', cuDNN %zu, cuBLASLt %zu\n", r, buf, cudnnGetVersion(), cublasLtGetVersion());
}
} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: nvrtc_probe FILE.cu OUT [init|heapN|pre]\n");
    return 2;
  }
  std::string mode = argc > 3 ? argv[3] : "";
  std::vector<void *> noise;
  if (mode == "init")
    initDriver();
  if (mode.rfind("heap", 0) == 0)
    for (int i = 0, n = std::atoi(mode.c_str() + 4); i < n; ++i)
      noise.push_back(std::malloc(16 + static_cast<size_t>(i) * 7919 % 5000));
  if (mode == "pre") {
    nvrtcProgram q;
    nvrtcCreateProgram(&q, "extern \"C\" __global__ void t(float *x) { x[threadIdx.x] *= 2.f; }", "tiny.cu", 0, nullptr, nullptr);
    nvrtcCompileProgram(q, 4, kOptions);
    nvrtcDestroyProgram(&q);
  }
  std::ifstream in(argv[1]);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string src = ss.str();
  nvrtcProgram p;
  nvrtcCreateProgram(&p, src.c_str(), "infc_kernels.cu", 0, nullptr, nullptr);
  nvrtcResult r = nvrtcCompileProgram(p, 4, kOptions);
  if (r != NVRTC_SUCCESS) {
    std::printf("compile failed: %s\n", nvrtcGetErrorString(r));
    return 1;
  }
  size_t n = 0;
  nvrtcGetCUBINSize(p, &n);
  std::vector<char> cubin(n);
  nvrtcGetCUBIN(p, cubin.data());
  std::ofstream(std::string(argv[2]) + ".cubin", std::ios::binary).write(cubin.data(), static_cast<std::streamsize>(n));
  std::printf("cubin %zu bytes\n", n);
  for (void *q : noise)
    std::free(q);
  return 0;
}
