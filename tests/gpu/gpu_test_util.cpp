#include "gpu_test_util.h"

#include "compiler/Pipeline.h"
#include "compiler/Run.h"
#include "ir/Interpreter.h"
#include "ir/OpHooks.h"
#include "runtime/CudaDriver.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace infc::gputest {

Value *addOp(Graph &g, OpKind kind, std::vector<Value *> operands, AttrMap attrs, const std::string &name) {
  Operation *op = g.body().create(kind, operands, {TensorType::unranked(DType::Undefined)}, attrs, {}, nullptr, {name});
  return inferShapes(*op).isOk() ? op->result() : nullptr;
}

Value *requireOp(Graph &g, OpKind kind, std::vector<Value *> operands, AttrMap attrs, const std::string &name) {
  Value *v = addOp(g, kind, std::move(operands), std::move(attrs), name);
  REQUIRE(v);
  return v;
}

Value *randomWeight(Graph &g, std::vector<int64_t> shape, uint32_t seed, const std::string &name) {
  AttrMap a;
  a.set("value", randomF32(shape, seed));
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::F32, shape)}, a, {}, nullptr, {name})->result();
}

bool haveGpu() {
  static int state = -1;
  if (state < 0) {
    int count = 0;
    state = rt::cudaDriver().loaded && rt::cudaDriver().cuInit(0) == CUDA_SUCCESS && rt::cudaDriver().cuDeviceGetCount(&count) == CUDA_SUCCESS && count > 0;
  }
  return state == 1;
}

double maxAbs(const Tensor &t) {
  double a = 0;
  for (int64_t i = 0; i < t.numElements(); ++i)
    a = std::max(a, std::fabs(t.getDouble(i)));
  return a;
}

std::unique_ptr<Module> quantMatmulNet() {
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *x = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {2, 37, 64}));
  Value *h = requireOp(g, OpKind::OnnxMatMul, {x, randomWeight(g, {64, 128}, 1, "w1")}, {}, "mm1");
  h = requireOp(g, OpKind::OnnxAdd, {h, randomWeight(g, {128}, 2, "b1")}, {}, "add1");
  h = requireOp(g, OpKind::OnnxGelu, {h}, {}, "gelu1");
  Value *r = requireOp(g, OpKind::OnnxMatMul, {h, randomWeight(g, {128, 64}, 3, "w2")}, {}, "mm2");
  r = requireOp(g, OpKind::OnnxAdd, {r, randomWeight(g, {64}, 4, "b2")}, {}, "add2");
  r = requireOp(g, OpKind::OnnxAdd, {r, x}, {}, "res");
  Value *y = requireOp(g, OpKind::OnnxMatMul, {r, randomWeight(g, {64, 64}, 5, "w3")}, {}, "mm3");
  y = requireOp(g, OpKind::OnnxAdd, {y, randomWeight(g, {64}, 6, "b3")}, {}, "add3");
  y = requireOp(g, OpKind::OnnxRelu, {y}, {}, "relu3");
  g.addOutput("y", y);
  REQUIRE(runPassPipeline(*m, "shape-infer").isOk());
  return m;
}

Expected<std::vector<Tensor>> buildAndRun(const Module &module, const std::vector<Tensor> &inputs, bool fp16) {
  return runModuleOnGpu(module, inputs, fp16);
}

double toleranceRatio(const Tensor &got, const Tensor &want, double rtol, double atol) {
  if (got.shape() != want.shape())
    return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double g = got.getDouble(i), w = want.getDouble(i);
    if (std::isnan(g) && std::isnan(w))
      continue;
    if (std::isinf(w) && g == w)
      continue;
    double r = std::fabs(g - w) / (atol + rtol * std::fabs(w));
    if (!(r <= worst))
      worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

Tensor randomF32(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(DType::F32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.mutableData<float>()[i] = d(rng);
  return t;
}

Expected<double> referenceRatio(const Module &module, const std::vector<Tensor> &inputs, bool fp16, double rtol, double atol,
                               bool generatedDepthwise) {
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> want, interpret(*module.mainGraph(), inputs));
  INFC_ASSIGN_OR_RETURN(std::vector<Tensor> got, runModuleOnGpu(module, inputs, fp16, generatedDepthwise));
  return toleranceRatio(got[0], want[0], rtol, atol);
}

} // namespace infc::gputest
