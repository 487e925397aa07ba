// The timing cache on the GPU: the autotuner records what it times; a build from the cache alone
// (no GPU involved: CachedTactics), a second GPU build that finds every entry and the first build
// give the same bytes, and the cached tactics run and match the reference interpreter.
#include "gpu_test_util.h"

#include "codegen/Autotuner.h"
#include "codegen/TimingCache.h"
#include "ir/Interpreter.h"
#include "runtime/CudaDriver.h"
#include "runtime/RuntimeImpl.h"

#include <catch2/catch.hpp>

using namespace infc;
using namespace infc::gputest;

namespace {

/// conv 3x3 + bias + relu -> flatten -> matmul: one cuDNN and one cuBLASLt layer.
Module convMatmul() {
  Module m;
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 8, 10, 10}));
  AttrMap pads;
  pads.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Value *c = addOp(g, OpKind::OnnxConv, {x, randomWeight(g, {16, 8, 3, 3}, 1, "w"), randomWeight(g, {16}, 2, "b")}, pads, "conv1");
  Value *r = addOp(g, OpKind::OnnxRelu, {c}, {}, "relu1");
  AttrMap axis;
  axis.set("axis", int64_t(1));
  Value *f = addOp(g, OpKind::OnnxFlatten, {r}, axis, "flat");
  Value *y = addOp(g, OpKind::OnnxMatMul, {f, randomWeight(g, {1600, 10}, 3, "fc")}, {}, "fc1");
  g.addOutput("y", y);
  return m;
}

/// Runs engine bytes on the GPU (one input, one output).
Expected<Tensor> runBytes(const std::string &bytes, const Tensor &input, const TensorType &outType) {
  infc_engine *e = nullptr;
  if (infc_engine_load_bytes(bytes.data(), bytes.size(), &e) != INFC_OK)
    return internalError(infc_last_error());
  infc_context *c = nullptr;
  if (infc_context_create(e, &c) != INFC_OK) {
    infc_engine_free(e);
    return internalError(infc_last_error());
  }
  const auto &cu = rt::cudaDriver();
  void *in = nullptr, *out = nullptr;
  infc_context_tensor_address(c, "x", &in);
  infc_context_tensor_address(c, "y", &out);
  cu.cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(in), input.bytes(), input.byteSize());
  bool ok = infc_context_enqueue(c, nullptr) == INFC_OK && cu.cuCtxSynchronize() == CUDA_SUCCESS;
  Tensor y(outType.elem(), outType.staticShape());
  cu.cuMemcpyDtoH(y.mutableBytes(), reinterpret_cast<CUdeviceptr>(out), y.byteSize());
  infc_context_free(c);
  infc_engine_free(e);
  if (!ok)
    return internalError("running the engine failed");
  return y;
}

} // namespace

TEST_CASE("timing cache: recorded on the GPU, served without it, same bytes, right results", "[gpu]") {
  REQUIRE_GPU();
  rt::DeviceInfo dev;
  REQUIRE(rt::queryDevice(dev).empty());
  Module m = convMatmul();
  codegen::GpuSku gpu{dev.name, dev.smMajor, dev.smMinor, dev.multiprocessors};
  codegen::EngineBuildOptions base;
  base.lowering.smMajor = dev.smMajor;
  base.lowering.smMinor = dev.smMinor;
  base.gpuName = dev.name;

  // 1. A GPU build times and records.
  codegen::TimingCache cache;
  auto tuner = codegen::Autotuner::create(base.workspaceBytes);
  REQUIRE(tuner.isOk());
  (*tuner)->useTimingCache(&cache, gpu);
  codegen::EngineBuildOptions timed = base;
  codegen::useAutotuner(timed, tuner->get());
  auto first = codegen::buildEngine(m, timed, "m");
  REQUIRE(first.isOk());
  CHECK((*tuner)->cacheHits() == 0);
  size_t entries = cache.raw()["gpus"][codegen::skuKey(gpu)]["entries"].size();
  CHECK(entries >= 2); // the convolution (fused and unfused variants) and the matmul

  // 2. The cache alone (what a machine without this GPU does).
  codegen::CachedTactics fromCache(cache, codegen::skuKey(gpu));
  codegen::EngineBuildOptions cached = base;
  codegen::useAutotuner(cached, &fromCache);
  auto second = codegen::buildEngine(m, cached, "m");
  REQUIRE(second.isOk());
  CHECK(second->untuned.empty());

  // 3. A new GPU build that finds every entry: no timing, the same bytes as 2.
  auto tuner2 = codegen::Autotuner::create(base.workspaceBytes);
  REQUIRE(tuner2.isOk());
  (*tuner2)->useTimingCache(&cache, gpu);
  codegen::EngineBuildOptions timed2 = base;
  codegen::useAutotuner(timed2, tuner2->get());
  auto third = codegen::buildEngine(m, timed2, "m");
  REQUIRE(third.isOk());
  CHECK((*tuner2)->candidatesTried() == 0);
  CHECK((*tuner2)->cacheHits() >= 2);
  CHECK(third->bytes == second->bytes);
  // ... and as the build that timed them: the tactic text does not say where it came from.
  CHECK(first->bytes == second->bytes);

  // 4. The cached tactics run and match the reference.
  Tensor x = randomF32({2, 8, 10, 10}, 4);
  auto want = interpret(*m.mainGraph(), {x});
  REQUIRE(want.isOk());
  auto got = runBytes(second->bytes, x, m.mainGraph()->outputs()[0].value->type());
  REQUIRE(got.isOk());
  CHECK(toleranceRatio(*got, (*want)[0], 1e-4, 1e-4) <= 1.0);
}
