// Convolution epilogue fusion and timed tactics, on the GPU: Conv [+ residual Add] [+ Relu]
// becomes one cuDNN layer when cuDNN can run it fused, with the reference interpreter as judge.
#include "codegen/Autotuner.h"
#include "compiler/Pipeline.h"
#include "compiler/Run.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"
#include "ir/OpHooks.h"
#include "runtime/EngineReader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace infc;
using gputest::requireOp;

namespace {

Value *weight(Graph &g, std::vector<int64_t> shape, uint32_t seed, const std::string &name) {
  return gputest::randomWeight(g, std::move(shape), seed, name);
}

AttrMap convAttrs() {
  AttrMap a;
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return a;
}

/// The engine of `m` for the GPU present, built with timed tactics.
std::unique_ptr<rt::EngineView> timedEngine(const Module &m, bool fp16) {
  codegen::EngineBuildOptions opts;
  opts.lowering.fp16 = fp16;
  opts.gpuName = "test GPU";
  auto tuner = codegen::Autotuner::create(opts.workspaceBytes);
  REQUIRE(tuner.isOk());
  codegen::useAutotuner(opts, tuner->get());
  auto built = codegen::buildEngine(m, opts, "test");
  REQUIRE(built.isOk());
  std::string err;
  auto view = rt::EngineView::fromBytes(built->bytes, err);
  REQUIRE(view);
  return view;
}

/// Engine layers as (kind, onnx_nodes) for the GPU present, built with timed tactics.
std::vector<std::pair<std::string, std::vector<std::string>>> layersOf(const Module &m, bool fp16) {
  std::unique_ptr<rt::EngineView> view = timedEngine(m, fp16);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const fb::Layer *l : *view->engine().layers()) {
    std::vector<std::string> nodes;
    for (const auto *n : *l->onnx_nodes())
      nodes.push_back(n->str());
    out.emplace_back(l->tactic()->str(), nodes);
  }
  return out;
}

} // namespace

TEST_CASE("conv + residual add + relu fuse into one cuDNN layer and match the reference", "[gpu]") {
  REQUIRE_GPU();
  for (bool fp16 : {false, true}) {
    INFO((fp16 ? "fp16" : "fp32"));
    // r = relu(conv_b(x) + conv_a(x)); conv_a runs first, so conv_b can take conv_a's result as
    // its residual; conv_a cannot (conv_b's result does not exist yet when conv_a runs).
    Module m;
    Graph &g = m.addGraph("main");
    Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 16, 12, 12}));
    Value *a = requireOp(g, OpKind::OnnxConv, {x, weight(g, {16, 16, 3, 3}, 1, "wa"), weight(g, {16}, 2, "ba")}, convAttrs(), "conv_a");
    Value *b = requireOp(g, OpKind::OnnxConv, {x, weight(g, {16, 16, 3, 3}, 3, "wb"), weight(g, {16}, 4, "bb")}, convAttrs(), "conv_b");
    Value *s = requireOp(g, OpKind::OnnxAdd, {b, a}, {}, "add");
    g.addOutput("y", requireOp(g, OpKind::OnnxRelu, {s}, {}, "relu"));
    if (fp16)
      REQUIRE(runPassPipeline(m, kFp16Pipeline).isOk());
    // The infc.* level fuses add and relu into conv_b (and makes the f16 convs NHWC).
    REQUIRE(runPassPipeline(m, infcPipeline(3)).isOk());
    std::vector<Tensor> inputs = {gputest::randomF32({2, 16, 12, 12}, 9)};
    Expected<double> ratio = gputest::referenceRatio(m, inputs, fp16, fp16 ? 1e-2 : 1e-4, fp16 ? 1e-2 : 1e-4);
    REQUIRE(ratio.isOk());
    CHECK(*ratio <= 1.0);

    auto layers = layersOf(m, fp16);
    // Whether conv_b's epilogue runs inside its cuDNN graph (one layer) or as a generated kernel
    // after it (two layers carrying conv_b, add, relu) depends on cuDNN having a fused engine for
    // this dtype and layout that beats the separate kernel. Either way both convolutions carry
    // timed tactics.
    int timed = 0;
    for (const auto &[tactic, nodes] : layers)
      timed += tactic.find("fastest of") != std::string::npos;
    // conv_a, conv_b, and the epilogue kernel when cuDNN's fused graph did not win; f16 adds
    // the boundary casts: the input's dtype and layout cast in one kernel, the output's layout
    // cast and dtype cast.
    size_t base = fp16 ? 5 : 2;
    bool fused = layers.size() == base;
    CHECK((layers.size() == base || layers.size() == base + 1));
    CHECK(timed == 2);
    WARN((fp16 ? "fp16" : "fp32") << ": conv epilogue " << (fused ? "fused" : "not fused (no faster cuDNN engine)"));
  }
}

namespace {

Value *scalarConst(Graph &g, float v, const std::string &name) {
  AttrMap a;
  a.set("value", Tensor::fromF32({v}, {}));
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::F32, {})}, a, {}, nullptr, {name})->result();
}

Value *shapeConst(Graph &g, std::vector<int64_t> shape, const std::string &name) {
  AttrMap a;
  Tensor t(DType::I64, {static_cast<int64_t>(shape.size())});
  for (size_t i = 0; i < shape.size(); ++i)
    t.mutableData<int64_t>()[i] = shape[i];
  a.set("value", t);
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::I64, {static_cast<int64_t>(shape.size())})}, a,
                         {}, nullptr, {name})->result();
}

} // namespace

TEST_CASE("MatMul+bias+Relu epilogue, Reshape alias and a pointwise chain match the reference", "[gpu]") {
  REQUIRE_GPU();
  for (bool fp16 : {false, true}) {
    INFO((fp16 ? "fp16" : "fp32"));
    // y = sigmoid(reshape(relu(x @ W + b)) * 0.5 + 1) - x2: 1 cuBLASLt layer (bias+relu epilogue),
    // no layer for the Reshape, 1 generated kernel for Mul -> Add -> Sigmoid -> Sub.
    Module m;
    Graph &g = m.addGraph("main");
    Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {4, 64}));
    Value *x2 = g.body().addArgument("x2", TensorType::fromStatic(DType::F32, {4, 4, 8}));
    Value *mm = requireOp(g, OpKind::OnnxMatMul, {x, weight(g, {64, 32}, 11, "W")}, {}, "mm");
    Value *biased = requireOp(g, OpKind::OnnxAdd, {mm, weight(g, {32}, 12, "b")}, {}, "bias");
    Value *r = requireOp(g, OpKind::OnnxRelu, {biased}, {}, "relu");
    Value *rs = requireOp(g, OpKind::OnnxReshape, {r, shapeConst(g, {4, 4, 8}, "shape")}, {}, "reshape");
    Value *mul = requireOp(g, OpKind::OnnxMul, {rs, scalarConst(g, 0.5f, "half")}, {}, "mul");
    Value *plus = requireOp(g, OpKind::OnnxAdd, {mul, scalarConst(g, 1.0f, "one")}, {}, "plus");
    Value *sig = requireOp(g, OpKind::OnnxSigmoid, {plus}, {}, "sigmoid");
    g.addOutput("y", requireOp(g, OpKind::OnnxSub, {sig, x2}, {}, "sub"));
    if (fp16)
      REQUIRE(runPassPipeline(m, kFp16Pipeline).isOk());
    // The bias and ReLU join the matmul in the IR (fuse-matmul-epilogue), as `infc build` does.
    REQUIRE(runPassPipeline(m, infcPipeline(3)).isOk());
    std::vector<Tensor> inputs = {gputest::randomF32({4, 64}, 21), gputest::randomF32({4, 4, 8}, 22)};
    Expected<double> ratio = gputest::referenceRatio(m, inputs, fp16, fp16 ? 1e-2 : 1e-4, fp16 ? 1e-2 : 1e-5);
    REQUIRE(ratio.isOk());
    CHECK(*ratio <= 1.0);
    auto layers = layersOf(m, fp16);
    // FP16 adds casts of the two inputs; the output cast joins the chain.
    CHECK(layers.size() == (fp16 ? 4u : 2u));
  }
}

TEST_CASE("Conv + Clip(0, 6) fuses as a clipped ReLU and matches the reference", "[gpu]") {
  REQUIRE_GPU();
  Module m;
  Graph &g = m.addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 8, 10, 10}));
  Value *c = requireOp(g, OpKind::OnnxConv, {x, weight(g, {8, 8, 3, 3}, 31, "w"), weight(g, {8}, 32, "b")}, convAttrs(), "conv");
  Value *lo = scalarConst(g, 0.0f, "lo"), *hi = scalarConst(g, 0.25f, "hi");
  g.addOutput("y", requireOp(g, OpKind::OnnxClip, {c, lo, hi}, {}, "relu6"));
  REQUIRE(runPassPipeline(m, infcPipeline(3)).isOk());
  std::vector<Tensor> inputs = {gputest::randomF32({2, 8, 10, 10}, 33)};
  Expected<double> ratio = gputest::referenceRatio(m, inputs, false, 1e-4, 1e-5);
  REQUIRE(ratio.isOk());
  CHECK(*ratio <= 1.0);
  auto layers = layersOf(m, false);
  WARN("conv + clip: " << (layers.size() == 1 ? "fused" : "not fused (no faster cuDNN engine)"));
  CHECK(layers.size() <= 2);
}

TEST_CASE("a transpose that keeps the innermost axis moves whole rows and matches the reference", "[gpu]") {
  REQUIRE_GPU();
  for (bool fp16 : {false, true}) {
    INFO((fp16 ? "fp16" : "fp32"));
    Module m;
    Graph &g = m.addGraph("main");
    Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 5, 3, 8}));
    Value *r = requireOp(g, OpKind::OnnxRelu, {x}, {}, "relu");
    AttrMap perm;
    perm.set("perm", std::vector<int64_t>{0, 2, 1, 3});
    Value *t = requireOp(g, OpKind::OnnxTranspose, {r}, perm, "transpose");
    g.addOutput("y", requireOp(g, OpKind::OnnxSigmoid, {t}, {}, "sigmoid"));
    if (fp16)
      REQUIRE(runPassPipeline(m, kFp16Pipeline).isOk());
    std::vector<Tensor> inputs = {gputest::randomF32({2, 5, 3, 8}, 41)};
    Expected<double> ratio = gputest::referenceRatio(m, inputs, fp16, 1e-3, 1e-5);
    REQUIRE(ratio.isOk());
    CHECK(*ratio <= 1.0);
    // The row-copy kernel was the one used (its name is in the engine's kernel table).
    codegen::EngineBuildOptions opts;
    opts.lowering.fp16 = fp16;
    auto built = codegen::buildEngine(m, opts, "test");
    REQUIRE(built.isOk());
    CHECK(built->bytes.find("Transpose_rows") != std::string::npos);
  }
}

TEST_CASE("residual convolutions written over their residual (ResNet blocks) match the reference", "[gpu]") {
  REQUIRE_GPU();
  for (bool fp16 : {false, true}) {
    INFO((fp16 ? "fp16" : "fp32"));
    // stem -> two bottleneck blocks r = relu(conv3(relu(conv2(relu(conv1(s))))) + s) -> conv:
    // each block's last convolution is the last reader of its residual s (the first convolution
    // read it before), so its output may take s's bytes; block 2's residual is block 1's output,
    // itself over the stem's.
    Module m;
    Graph &g = m.addGraph("main");
    Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 16, 10, 10}));
    AttrMap none;
    Value *s = requireOp(g, OpKind::OnnxRelu, {requireOp(g, OpKind::OnnxConv, {x, weight(g, {32, 16, 3, 3}, 1, "w0")}, convAttrs(), "stem")}, none, "r0");
    for (int b = 0; b < 2; ++b) {
      std::string p = "b" + std::to_string(b);
      uint32_t seed = 10 + 10 * static_cast<uint32_t>(b);
      Value *c1 = requireOp(g, OpKind::OnnxRelu, {requireOp(g, OpKind::OnnxConv, {s, weight(g, {8, 32, 1, 1}, seed, p + "w1")}, none, p + "c1")}, none);
      Value *c2 = requireOp(g, OpKind::OnnxRelu, {requireOp(g, OpKind::OnnxConv, {c1, weight(g, {8, 8, 3, 3}, seed + 1, p + "w2")}, convAttrs(), p + "c2")}, none);
      Value *c3 = requireOp(g, OpKind::OnnxConv, {c2, weight(g, {32, 8, 1, 1}, seed + 2, p + "w3"), weight(g, {32}, seed + 3, p + "b3")}, none, p + "c3");
      s = requireOp(g, OpKind::OnnxRelu, {requireOp(g, OpKind::OnnxAdd, {c3, s}, none, p + "add")}, none, p + "out");
    }
    g.addOutput("y", requireOp(g, OpKind::OnnxConv, {s, weight(g, {4, 32, 1, 1}, 99, "wy")}, none, "head"));
    if (fp16)
      REQUIRE(runPassPipeline(m, kFp16Pipeline).isOk());
    REQUIRE(runPassPipeline(m, infcPipeline(3)).isOk());
    std::vector<Tensor> inputs = {gputest::randomF32({2, 16, 10, 10}, 5)};
    Expected<std::vector<Tensor>> want = interpret(*m.mainGraph(), inputs);
    REQUIRE(want.isOk());
    Expected<std::vector<Tensor>> got = runModuleOnGpu(m, inputs, fp16);
    REQUIRE(got.isOk());
    // Uniform [-1, 1] weights grow the activations to the hundreds over 8 convolutions: FP16's
    // error is judged against the output's largest magnitude (a residual overwritten too early
    // would be off by the size of the residual).
    double scale = 0, worst = 0;
    for (int64_t i = 0; i < (*want)[0].numElements(); ++i) {
      scale = std::max(scale, std::fabs((*want)[0].getDouble(i)));
      worst = std::max(worst, std::fabs((*got)[0].getDouble(i) - (*want)[0].getDouble(i)));
    }
    INFO("largest error " << worst << " of largest magnitude " << scale);
    CHECK(worst <= (fp16 ? 5e-3 : 1e-5) * scale);

    // How many residual convolutions ran in place (cuDNN's fused graph must win the timing, and
    // a tactic must give the same result with y over z).
    std::unique_ptr<rt::EngineView> view = timedEngine(m, fp16);
    const auto *tensors = view->engine().tensors();
    int residual = 0, inPlace = 0;
    for (const fb::Layer *l : *view->engine().layers())
      if (const fb::CudnnConv *c = l->impl_as_CudnnConv(); c && c->z() >= 0) {
        ++residual;
        inPlace += tensors->Get(static_cast<unsigned>(c->y()))->offset() == tensors->Get(static_cast<unsigned>(c->z()))->offset();
      }
    WARN((fp16 ? "fp16" : "fp32") << ": " << inPlace << " of " << residual << " fused residual convolutions in place");
    if (fp16)
      CHECK(inPlace == residual); // ResNet's case: NHWC FP16 fused graphs run and win on the H200
  }
}
