// Timed cuBLASLt algorithms: with the GPU present, every matmul layer records the algorithm that
// won the autotuner's timing (its bytes, its workspace, and a tactic `infc inspect` shows), the
// runtime accepts it, and outputs still match the reference interpreter. Without the autotuner
// nothing is recorded (the runtime's heuristic picks at load time).
#include "codegen/Autotuner.h"
#include "compiler/FileUtil.h"
#include "compiler/Inspect.h"
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/OpHooks.h"
#include "runtime/CublasLtMatmul.h"
#include "runtime/EngineReader.h"
#include "runtime/RuntimeImpl.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <functional>

using namespace infc;
using gputest::requireOp;

namespace {

Value *weight(Graph &g, std::vector<int64_t> shape, uint32_t seed, const std::string &name) {
  return gputest::randomWeight(g, std::move(shape), seed, name);
}

struct MatmulCase {
  const char *name;
  std::vector<std::vector<int64_t>> inputs;
  /// Adds the ops after the graph arguments (named in0, in1, ...) and sets the output.
  std::function<void(Graph &, const std::vector<Value *> &)> body;
  std::string epilogue; ///< of the one cuBLASLt layer
  bool hasC = false;
  int64_t batch = 1;
};

std::vector<MatmulCase> matmulCases() {
  return {
      {"MatMul + bias + Relu (relu_bias epilogue)", {{128, 256}},
       [](Graph &g, const std::vector<Value *> &in) {
         Value *mm = requireOp(g, OpKind::OnnxMatMul, {in[0], weight(g, {256, 192}, 1, "W")}, {}, "mm");
         Value *b = requireOp(g, OpKind::OnnxAdd, {mm, weight(g, {192}, 2, "b")}, {}, "bias");
         g.addOutput("y", requireOp(g, OpKind::OnnxRelu, {b}, {}, "relu"));
       },
       "relu_bias"},
      {"MatMul + bias (bias epilogue)", {{16, 40}},
       [](Graph &g, const std::vector<Value *> &in) {
         Value *mm = requireOp(g, OpKind::OnnxMatMul, {in[0], weight(g, {40, 24}, 3, "W")}, {}, "mm");
         g.addOutput("y", requireOp(g, OpKind::OnnxAdd, {mm, weight(g, {24}, 4, "b")}, {}, "bias"));
       },
       "bias"},
      {"batched MatMul (strided batch)", {{3, 8, 32}, {3, 32, 24}},
       [](Graph &g, const std::vector<Value *> &in) { g.addOutput("y", requireOp(g, OpKind::OnnxMatMul, {in[0], in[1]}, {}, "mm")); },
       "", false, 3},
      {"MatMul broadcasting A over the batch (stride 0)", {{10, 16}, {2, 16, 8}},
       [](Graph &g, const std::vector<Value *> &in) { g.addOutput("y", requireOp(g, OpKind::OnnxMatMul, {in[0], in[1]}, {}, "mm")); },
       "", false, 2},
      {"Gemm transB with C, alpha and beta", {{12, 20}},
       [](Graph &g, const std::vector<Value *> &in) {
         AttrMap a;
         a.set("transB", int64_t(1));
         a.set("alpha", 0.5f);
         a.set("beta", 2.0f);
         g.addOutput("y", requireOp(g, OpKind::OnnxGemm, {in[0], weight(g, {24, 20}, 5, "W"), weight(g, {12, 24}, 6, "C")}, a, "gemm"));
       },
       "", true},
  };
}

Module makeModule(const MatmulCase &c, bool fp16) {
  Module m;
  Graph &g = m.addGraph("main");
  std::vector<Value *> in;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    in.push_back(g.body().addArgument("in" + std::to_string(i), TensorType::fromStatic(DType::F32, c.inputs[i])));
  c.body(g, in);
  if (fp16)
    REQUIRE(runPassPipeline(m, kFp16Pipeline).isOk());
  REQUIRE(runPassPipeline(m, "fuse-matmul-epilogue,dce").isOk());
  return m;
}

std::vector<Tensor> inputsOf(const MatmulCase &c) {
  std::vector<Tensor> t;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    t.push_back(gputest::randomF32(c.inputs[i], 100 + static_cast<uint32_t>(i)));
  return t;
}

/// `infc inspect --json` of engine bytes.
std::string inspectJson(const std::string &bytes) {
  std::string path = (std::filesystem::temp_directory_path() / "infc_matmul_tactics_test.plan").string();
  REQUIRE(writeFileAtomically(path, bytes).isOk());
  Expected<std::string> json = inspectEngine(path, true);
  std::filesystem::remove(path);
  REQUIRE(json.isOk());
  return *json;
}

/// The engine's cuBLASLt layers.
std::vector<const fb::Layer *> matmulLayers(const rt::EngineView &view) {
  std::vector<const fb::Layer *> out;
  for (const fb::Layer *l : *view.engine().layers())
    if (l->impl_type() == fb::LayerImpl::CublasLtMatmul)
      out.push_back(l);
  return out;
}

} // namespace

TEST_CASE("untimed engines record no cuBLASLt algorithm and leave the choice to the runtime", "[gpu-free]") {
  for (bool fp16 : {false, true})
    for (const MatmulCase &c : matmulCases()) {
      INFO(c.name << (fp16 ? " fp16" : " fp32"));
      Module m = makeModule(c, fp16);
      codegen::EngineBuildOptions opts;
      opts.lowering.fp16 = fp16;
      auto built = codegen::buildEngine(m, opts, "test");
      REQUIRE(built.isOk());
      std::string err;
      auto view = rt::EngineView::fromBytes(built->bytes, err);
      REQUIRE(view);
      auto layers = matmulLayers(*view);
      REQUIRE(layers.size() == 1);
      const fb::CublasLtMatmul *mm = layers[0]->impl_as_CublasLtMatmul();
      CHECK(layers[0]->tactic()->str() == "cuBLASLt heuristic");
      CHECK(inspectJson(built->bytes).find("cuBLASLt heuristic") != std::string::npos);
      CHECK((!mm->algo() || mm->algo()->size() == 0));
      CHECK(mm->workspace_bytes() == opts.workspaceBytes);
      CHECK(view->engine().workspace_bytes() == opts.workspaceBytes);
      CHECK((mm->epilogue() ? mm->epilogue()->str() : "") == c.epilogue);
      CHECK((mm->c() >= 0) == c.hasC);
      CHECK(mm->batch() == c.batch);
      CHECK(mm->io_dtype() == static_cast<int32_t>(fp16 ? DType::F16 : DType::F32));
    }
}

TEST_CASE("cuBLASLt problems span their batches and key every field", "[gpu-free]") {
  rt::CublasLtProblem p;
  p.m = 10, p.n = 8, p.k = 16, p.batch = 2;
  p.lda = 16, p.ldb = 8, p.ldc = 8;
  p.strideA = 0, p.strideB = 128, p.strideC = 80;
  CHECK(p.aElements() == 160); // broadcast over the batch
  CHECK(p.bElements() == 128 + 128);
  CHECK(p.cElements() == 80 + 80);
  rt::CublasLtProblem q = p;
  CHECK(q.key() == p.key());
  q.beta = 0.5f;
  CHECK(q.key() != p.key());
  q = p;
  q.epilogue = "bias";
  CHECK(q.key() != p.key());
}

TEST_CASE("timed cuBLASLt algorithms are recorded in the engine and match the reference", "[gpu]") {
  REQUIRE_GPU();
  rt::DeviceInfo dev;
  REQUIRE(rt::queryDevice(dev).empty());
  for (bool fp16 : {false, true})
    for (const MatmulCase &c : matmulCases()) {
      INFO(c.name << (fp16 ? " fp16" : " fp32"));
      Module m = makeModule(c, fp16);

      // Outputs against the reference (runModuleOnGpu builds with timed tactics too).
      Expected<double> ratio = gputest::referenceRatio(m, inputsOf(c), fp16, fp16 ? 1e-2 : 1e-4, fp16 ? 1e-2 : 1e-4);
      REQUIRE(ratio.isOk());
      CHECK(*ratio <= 1.0);

      codegen::EngineBuildOptions opts;
      opts.lowering.fp16 = fp16;
      opts.lowering.smMajor = dev.smMajor;
      opts.lowering.smMinor = dev.smMinor;
      opts.gpuName = dev.name;
      auto tuner = codegen::Autotuner::create(opts.workspaceBytes);
      REQUIRE(tuner.isOk());
      codegen::useAutotuner(opts, tuner->get());
      auto built = codegen::buildEngine(m, opts, "test");
      REQUIRE(built.isOk());
      CHECK((*tuner)->matmulsTimed() == 1);
      CHECK((*tuner)->matmulCandidatesTried() >= 1);
      // Within one build (one tuner) the timing is cached: a second build is byte-identical.
      auto again = codegen::buildEngine(m, opts, "test");
      REQUIRE(again.isOk());
      CHECK(again->bytes == built->bytes);
      CHECK((*tuner)->matmulsTimed() == 1);

      std::string err;
      auto view = rt::EngineView::fromBytes(built->bytes, err);
      REQUIRE(view);
      auto layers = matmulLayers(*view);
      REQUIRE(layers.size() == 1);
      std::string tactic = layers[0]->tactic()->str();
      WARN(c.name << (fp16 ? " fp16: " : " fp32: ") << tactic);
      CHECK(tactic.rfind("cuBLASLt algo ", 0) == 0);
      CHECK(tactic.find(" timed: ") != std::string::npos);
      CHECK(inspectJson(built->bytes).find(tactic) != std::string::npos);
      const fb::CublasLtMatmul *mm = layers[0]->impl_as_CublasLtMatmul();
      CHECK((mm->epilogue() ? mm->epilogue()->str() : "") == c.epilogue);
      REQUIRE(mm->algo());
      REQUIRE(mm->algo()->size() == sizeof(cublasLtMatmulAlgo_t));
      CHECK(mm->workspace_bytes() <= view->engine().workspace_bytes());

      // What the runtime does when it loads the engine: the recorded algorithm passes
      // cublasLtMatmulAlgoCheck within the recorded workspace (else it would fall back to the
      // heuristic silently).
      rt::CublasLtProblem p;
      p.dtype = mm->io_dtype();
      p.m = mm->m(), p.n = mm->n(), p.k = mm->k(), p.batch = mm->batch();
      p.lda = mm->lda(), p.ldb = mm->ldb(), p.ldc = mm->ldc();
      p.strideA = mm->stride_a(), p.strideB = mm->stride_b(), p.strideC = mm->stride_c();
      p.transA = mm->trans_a(), p.transB = mm->trans_b();
      p.alpha = mm->alpha(), p.beta = mm->beta();
      p.epilogue = mm->epilogue() ? mm->epilogue()->str() : "";
      p.hasBias = mm->bias() >= 0;
      p.hasC = mm->c() >= 0;
      rt::CublasLtPlan plan;
      REQUIRE(plan.init(p).empty());
      cublasLtHandle_t handle = nullptr;
      REQUIRE(cublasLtCreate(&handle) == CUBLAS_STATUS_SUCCESS);
      cublasLtMatmulAlgo_t algo;
      std::memcpy(&algo, mm->algo()->data(), sizeof algo);
      uint64_t need = 0;
      CHECK(plan.check(handle, algo, need) == "");
      CHECK(need <= mm->workspace_bytes());
      cublasLtDestroy(handle);
    }
}
