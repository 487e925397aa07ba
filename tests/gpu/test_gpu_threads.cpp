// One engine shared by many host threads, each with its own execution context and stream
// (runtime/infc_runtime.h): every output of every thread is checked against the reference
// interpreter. Run under compute-sanitizer (racecheck/memcheck) on the GPU machine, see
// scripts/gpu/threads.sh; the CPU-side parts run under ThreadSanitizer (scripts/tsan.sh).
#include "gpu_test_util.h"

#include "compiler/Run.h"
#include "ir/Interpreter.h"
#include "runtime/CudaDriver.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>

using namespace infc;
using namespace infc::gputest;

namespace {

/// Conv (cuDNN) + ReLU + global average pool (generated) + Gemm (cuBLASLt) + Softmax (generated):
/// every kind of layer an engine has.
void smallCnn(Module &m) {
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 3, 16, 16}));
  AttrMap conv;
  conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  conv.set("kernel_shape", std::vector<int64_t>{3, 3});
  Value *c = requireOp(g, OpKind::OnnxConv, {x, randomWeight(g, {8, 3, 3, 3}, 1, "w"), randomWeight(g, {8}, 2, "b")}, conv, "conv");
  Value *r = requireOp(g, OpKind::OnnxRelu, {c}, {}, "relu");
  Value *p = requireOp(g, OpKind::OnnxGlobalAveragePool, {r}, {}, "pool");
  Value *f = requireOp(g, OpKind::OnnxFlatten, {p}, {}, "flatten");
  AttrMap gemm;
  gemm.set("transB", int64_t(1));
  Value *y = requireOp(g, OpKind::OnnxGemm, {f, randomWeight(g, {10, 8}, 3, "fc_w"), randomWeight(g, {10}, 4, "fc_b")}, gemm, "fc");
  Value *s = requireOp(g, OpKind::OnnxSoftmax, {y}, {}, "softmax");
  g.addOutput("y", s);
}

/// smallCnn built for the GPU present and loaded (nullptr, with the test failed, otherwise).
infc_engine *loadSmallCnn(Module &m) {
  smallCnn(m);
  Expected<std::string> bytes = buildModuleForGpu(m);
  REQUIRE(bytes.isOk());
  infc_engine *engine = nullptr;
  REQUIRE(infc_engine_load_bytes(bytes->data(), bytes->size(), &engine) == INFC_OK);
  return engine;
}

struct ThreadResult {
  std::string error;
  int mismatches = 0;
  int runs = 0;
};

std::string lastError(const char *what) { return std::string(what) + ": " + infc_last_error(); }

} // namespace

TEST_CASE("one engine, eight threads, each with its own context and stream", "[gpu][threads]") {
  REQUIRE_GPU();
  Module m;
  infc_engine *engine = loadSmallCnn(m);
  REQUIRE(engine);

  const int kThreads = 8, kRuns = 25;
  // Each thread its own input and the reference interpreter's output for it.
  std::vector<Tensor> inputs, wants;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(randomF32({2, 3, 16, 16}, 100 + static_cast<uint32_t>(t)));
    auto want = interpret(*m.mainGraph(), {inputs.back()});
    REQUIRE(want.isOk());
    wants.push_back((*want)[0]);
  }
  std::vector<ThreadResult> results(kThreads);
  std::atomic<int> ready{0};
  auto work = [&](int t) {
    ThreadResult &res = results[static_cast<size_t>(t)];
    const auto &cu = rt::cudaDriver();
    infc_context *ctx = nullptr;
    // Created on this thread, concurrently with the other threads' contexts.
    if (infc_context_create(engine, &ctx) != INFC_OK) {
      res.error = lastError("infc_context_create");
      return;
    }
    // Half the threads replay CUDA graphs, half launch layer by layer.
    infc_context_set_cuda_graph(ctx, t % 2);
    CUstream stream = nullptr;
    cu.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    void *in = nullptr, *out = nullptr;
    infc_context_tensor_address(ctx, "x", &in);
    infc_context_tensor_address(ctx, "y", &out);
    Tensor got(DType::F32, {2, 10});
    ready.fetch_add(1);
    while (ready.load() < kThreads) // all threads enqueue at once
      std::this_thread::yield();
    for (int r = 0; r < kRuns && res.error.empty(); ++r) {
      if (cu.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(in), inputs[static_cast<size_t>(t)].bytes(),
                               inputs[static_cast<size_t>(t)].byteSize(), stream) != CUDA_SUCCESS) {
        res.error = "copy in failed";
        break;
      }
      if (infc_context_enqueue(ctx, stream) != INFC_OK) {
        res.error = lastError("infc_context_enqueue");
        break;
      }
      cu.cuMemcpyDtoHAsync(got.mutableBytes(), reinterpret_cast<CUdeviceptr>(out), got.byteSize(), stream);
      if (cu.cuStreamSynchronize(stream) != CUDA_SUCCESS) {
        res.error = "cuStreamSynchronize failed";
        break;
      }
      ++res.runs;
      if (toleranceRatio(got, wants[static_cast<size_t>(t)], 1e-4, 1e-5) > 1.0)
        ++res.mismatches;
      std::memset(got.mutableBytes(), 0xff, got.byteSize()); // NaN: a run that writes nothing fails
    }
    cu.cuStreamDestroy(stream);
    infc_context_free(ctx);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(work, t);
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(results[static_cast<size_t>(t)].error == "");
    CHECK(results[static_cast<size_t>(t)].runs == kRuns);
    CHECK(results[static_cast<size_t>(t)].mismatches == 0);
  }
  infc_engine_free(engine);
}

TEST_CASE("a context whose library kernels target a share of the SMs gives the same outputs", "[gpu][threads]") {
  REQUIRE_GPU();
  Module m;
  infc_engine *engine = loadSmallCnn(m);
  REQUIRE(engine);
  infc_context *ctx = nullptr;
  REQUIRE(infc_context_create(engine, &ctx) == INFC_OK);
  CHECK(infc_context_set_sm_count(ctx, -1) == INFC_ERROR_INVALID_ARGUMENT);
  CHECK(infc_context_set_sm_count(ctx, 100000) == INFC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(infc_last_error()).find("the GPU has") != std::string::npos);
  const auto &cu = rt::cudaDriver();
  CUstream stream = nullptr;
  cu.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
  Tensor x = randomF32({2, 3, 16, 16}, 7);
  auto want = interpret(*m.mainGraph(), {x});
  REQUIRE(want.isOk());
  void *in = nullptr, *out = nullptr;
  infc_context_tensor_address(ctx, "x", &in);
  infc_context_tensor_address(ctx, "y", &out);
  for (int sms : {16, 1, 0}) {
    INFO("SM count " << sms);
    REQUIRE(infc_context_set_sm_count(ctx, sms) == INFC_OK);
    for (int graph : {0, 1}) {
      infc_context_set_cuda_graph(ctx, graph);
      Tensor got(DType::F32, {2, 10});
      std::memset(got.mutableBytes(), 0xff, got.byteSize());
      REQUIRE(cu.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(in), x.bytes(), x.byteSize(), stream) == CUDA_SUCCESS);
      REQUIRE(infc_context_enqueue(ctx, stream) == INFC_OK);
      cu.cuMemcpyDtoHAsync(got.mutableBytes(), reinterpret_cast<CUdeviceptr>(out), got.byteSize(), stream);
      REQUIRE(cu.cuStreamSynchronize(stream) == CUDA_SUCCESS);
      CHECK(toleranceRatio(got, (*want)[0], 1e-4, 1e-5) <= 1.0);
    }
  }
  cu.cuStreamDestroy(stream);
  infc_context_free(ctx);
  infc_engine_free(engine);
}
