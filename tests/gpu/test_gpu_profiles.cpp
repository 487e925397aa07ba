// Batch-loop engines (optimization profiles whose one dynamic dim is the batch) on the GPU: one
// engine, one context, run at batches across the profile's range in both directions, with and
// without CUDA graphs; every output checked against the reference interpreter at that batch. The
// C API's profile calls and their errors.
#include "gpu_test_util.h"

#include "compiler/Compile.h"
#include "compiler/Driver.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "runtime/CudaDriver.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace infc;
using namespace infc::gputest;

namespace {

Value *i64Constant(Graph &g, std::vector<int64_t> v, const std::string &name) {
  AttrMap a;
  int64_t n = static_cast<int64_t>(v.size());
  a.set("value", Tensor::fromI64(v));
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::I64, {n})}, a, {}, nullptr, {name})->result();
}

/// Conv (cuDNN) + ReLU + max pool + reshape + transpose + layer norm (generated) + MatMul
/// (cuBLASLt, rows = batch x positions) + mean over positions + Gemm (cuBLASLt, rows = batch) +
/// Softmax, over a symbolic batch.
void batchModel(Module &m) {
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType(DType::F32, {Dim::named("batch"), 3, 16, 16}));
  AttrMap conv;
  conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  conv.set("kernel_shape", std::vector<int64_t>{3, 3});
  Value *c = requireOp(g, OpKind::OnnxConv, {x, randomWeight(g, {8, 3, 3, 3}, 1, "w"), randomWeight(g, {8}, 2, "b")}, conv, "conv");
  Value *r = requireOp(g, OpKind::OnnxRelu, {c}, {}, "relu");
  AttrMap pool;
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  Value *p = requireOp(g, OpKind::OnnxMaxPool, {r}, pool, "pool");
  Value *flat = requireOp(g, OpKind::OnnxReshape, {p, i64Constant(g, {0, 8, 64}, "shape")}, {}, "flat");
  AttrMap perm;
  perm.set("perm", std::vector<int64_t>{0, 2, 1});
  Value *t = requireOp(g, OpKind::OnnxTranspose, {flat}, perm, "transpose");
  AttrMap ln;
  ln.set("axis", int64_t(-1));
  Value *n = requireOp(g, OpKind::OnnxLayerNormalization, {t, randomWeight(g, {8}, 3, "ln_s"), randomWeight(g, {8}, 4, "ln_b")},
                       ln, "ln");
  Value *mm = requireOp(g, OpKind::OnnxMatMul, {n, randomWeight(g, {8, 16}, 5, "proj")}, {}, "proj");
  AttrMap mean;
  mean.set("keepdims", int64_t(0));
  Value *avg = requireOp(g, OpKind::OnnxReduceMean, {mm, i64Constant(g, {1}, "mean_axes")}, mean, "mean");
  AttrMap gemm;
  gemm.set("transB", int64_t(1));
  Value *y = requireOp(g, OpKind::OnnxGemm, {avg, randomWeight(g, {10, 16}, 6, "fc_w"), randomWeight(g, {10}, 7, "fc_b")}, gemm, "fc");
  Value *s = requireOp(g, OpKind::OnnxSoftmax, {y}, {}, "softmax");
  g.addOutput("y", s);
}

std::string lastError() { return infc_last_error(); }

} // namespace

TEST_CASE("a batch-loop engine runs every batch of its profile", "[gpu][profiles]") {
  REQUIRE_GPU();
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("infc-gpu-profiles-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Module m;
  batchModel(m);
  std::string ir = (dir / "model.ir").string(), plan = (dir / "model.plan").string();
  std::ofstream(ir) << printModule(m);
  for (bool fp16 : {false, true}) {
    INFO("fp16 " << fp16);
    CompileOptions o;
    o.modelPath = ir;
    o.outputPath = plan;
    o.fp16 = fp16;
    o.minShapes = {"x:1x3x16x16"};
    o.optShapes = {"x:4x3x16x16"};
    o.maxShapes = {"x:8x3x16x16"};
    fs::remove(plan);
    Expected<CompileReport> built = compileToEngine(o);
    REQUIRE(built.isOk());
    infc_engine *engine = nullptr;
    REQUIRE(infc_engine_load(plan.c_str(), &engine) == INFC_OK);
    CHECK(infc_engine_num_profiles(engine) == 1);
    int64_t dims[8];
    int rank = 0;
    REQUIRE(infc_engine_get_profile_shape(engine, 0, "x", 2, dims, &rank) == INFC_OK);
    CHECK(rank == 4);
    CHECK(dims[0] == 8);
    infc_context *ctx = nullptr;
    REQUIRE(infc_context_create(engine, &ctx) == INFC_OK);
    const auto &cu = rt::cudaDriver();
    CUstream stream = nullptr;
    cu.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    // Before any shape: a clear error, not a run at some guessed batch.
    CHECK(infc_context_enqueue(ctx, stream) != INFC_OK);
    CHECK(lastError().find("set its shape first") != std::string::npos);
    const int64_t outside[4] = {9, 3, 16, 16};
    CHECK(infc_context_set_input_shape(ctx, "x", outside, 4) == INFC_ERROR_INVALID_ARGUMENT);
    CHECK(lastError().find("outside profile 0's range 1..8") != std::string::npos);
    const int64_t wrongDim[4] = {2, 3, 16, 17};
    CHECK(infc_context_set_input_shape(ctx, "x", wrongDim, 4) == INFC_ERROR_INVALID_ARGUMENT);
    CHECK(infc_context_set_profile(ctx, 1) == INFC_ERROR_INVALID_ARGUMENT);
    void *in = nullptr, *out = nullptr;
    REQUIRE(infc_context_tensor_address(ctx, "x", &in) == INFC_OK);
    REQUIRE(infc_context_tensor_address(ctx, "y", &out) == INFC_OK);
    int step = 0;
    for (int64_t batch : {1, 3, 8, 5, 1, 8, 2}) {
      INFO("batch " << batch);
      infc_context_set_cuda_graph(ctx, step++ % 2);
      const int64_t shape[4] = {batch, 3, 16, 16};
      REQUIRE(infc_context_set_input_shape(ctx, "x", shape, 4) == INFC_OK);
      REQUIRE(infc_context_get_tensor_shape(ctx, "y", dims, &rank) == INFC_OK);
      REQUIRE(rank == 2);
      CHECK(dims[0] == batch);
      CHECK(dims[1] == 10);
      Tensor x = randomF32({batch, 3, 16, 16}, 50 + static_cast<uint32_t>(batch));
      Expected<std::unique_ptr<Module>> staticModel = loadModel(ir);
      REQUIRE(staticModel.isOk());
      REQUIRE(applyInputShapes(**staticModel, {{"x", {batch, 3, 16, 16}}}, ir).isOk());
      auto want = interpret(*(*staticModel)->mainGraph(), {x});
      REQUIRE(want.isOk());
      Tensor got(DType::F32, {batch, 10});
      std::memset(got.mutableBytes(), 0xff, got.byteSize());
      REQUIRE(cu.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(in), x.bytes(), x.byteSize(), stream) == CUDA_SUCCESS);
      REQUIRE(infc_context_enqueue(ctx, stream) == INFC_OK);
      cu.cuMemcpyDtoHAsync(got.mutableBytes(), reinterpret_cast<CUdeviceptr>(out), got.byteSize(), stream);
      REQUIRE(cu.cuStreamSynchronize(stream) == CUDA_SUCCESS);
      CHECK(toleranceRatio(got, (*want)[0], fp16 ? 2e-2 : 1e-4, fp16 ? 2e-3 : 1e-5) <= 1.0);
    }
    cu.cuStreamDestroy(stream);
    infc_context_free(ctx);
    infc_engine_free(engine);
  }
  fs::remove_all(dir);
}
