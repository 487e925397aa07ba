// FP8 (E4M3) on the GPU against the reference interpreter: the conversion kernels bit for bit,
// and FP8 matmuls (cuBLASLt, fast accumulation) as quantize-fp8 makes them from calibrated
// ranges, to within the float32-against-double accumulation and one f16 rounding.
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"
#include "runtime/RuntimeImpl.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace infc;
using gputest::requireOp;

namespace {

bool fp8Gpu() {
  rt::DeviceInfo d;
  return rt::queryDevice(d).empty() && d.smMajor * 10 + d.smMinor >= 89;
}

Value *scalarConstant(Graph &g, float v, const std::string &name) {
  AttrMap a;
  a.set("value", Tensor::scalarF32(v));
  return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(DType::F32, {})}, a, {}, nullptr, {name})->result();
}

} // namespace

TEST_CASE("QuantizeLinear to f8e4m3 and back rounds and saturates as the reference does", "[gpu][fp8]") {
  REQUIRE_GPU();
  if (!fp8Gpu()) {
    WARN("FP8 needs sm_89 or later: skipped");
    return;
  }
  // Values over E4M3's whole range: subnormals, ties between neighbours, the largest finite
  // value (448) and beyond (saturates), negatives, zero.
  std::vector<float> v;
  for (int e = -12; e <= 10; ++e)
    for (float m : {1.0f, 1.0625f, 1.125f, 1.1875f, 1.3f, 1.5f, 1.75f, 1.8125f, 1.9375f})
      for (float s : {1.0f, -1.0f})
        v.push_back(s * std::ldexp(m, e));
  v.push_back(0.0f);
  v.push_back(470.0f);
  v.push_back(-1e6f);
  Tensor x(DType::F32, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), x.mutableData<float>());
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *in = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {static_cast<int64_t>(v.size())}));
  Value *scale = scalarConstant(g, 0.5f, "s");
  AttrMap qa;
  qa.set("output_dtype", static_cast<int64_t>(DType::F8E4M3));
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {in, scale}, qa, "q");
  Value *y = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scale}, {}, "dq");
  g.addOutput("y", y);
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x});
  REQUIRE(got.isOk());
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 1e-30) == 0.0);
}

TEST_CASE("FP8 matmuls (bias, gelu fused with the next quantization, residual, relu) match the reference's FP8 semantics",
          "[gpu][fp8]") {
  // x [2, 37, 64] -> gelu(x w1 + b1) [.., 128] -> (.. w2 + b2) + x [.., 64] -> relu(.. w3 + b3) [.., 64]:
  // mm1's GELU and the quantization of its result are one kernel (quantize-fp8 splits the GELU
  // off the matmul, fuse-elementwise joins them; the input's f16 cast is also the residual, so
  // its quantization is a kernel of its own), mm3's ReLU runs in cuBLASLt's epilogue.
  std::unique_ptr<Module> m = gputest::quantMatmulNet();
  Tensor in = gputest::randomF32({2, 37, 64}, 7);
  // Ranges as a minmax calibration on this input gives them.
  OptimizeOptions oo;
  oo.fp8 = true;
  Expected<std::vector<Tensor>> f32 = interpret(*m->mainGraph(), {in});
  REQUIRE(f32.isOk());
  oo.int8Ranges["x"] = gputest::maxAbs(in);
  oo.int8Ranges["gelu1"] = 20.0; // wide enough for |x w1 + b1| of 64 terms in (-1, 1)
  oo.int8Ranges["res"] = 30.0;
  REQUIRE(optimizeModule(*m, oo).isOk());
  size_t fp8 = 0, fusedQuantize = 0;
  for (const auto &op : m->mainGraph()->body().ops()) {
    fp8 += op->is(OpKind::InfcMatmul) && op->operand(0)->type().elem() == DType::F8E4M3;
    fusedQuantize += op->is(OpKind::InfcFused) && op->result()->type().elem() == DType::F8E4M3 &&
                     op->region(0).ops().front()->is(OpKind::OnnxGelu);
  }
  CHECK(fp8 == 3);
  CHECK(fusedQuantize == 1);
  // The IR is checked without a GPU too; the run needs one.
  REQUIRE_GPU();
  if (!fp8Gpu()) {
    WARN("FP8 needs sm_89 or later: skipped");
    return;
  }
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {in});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {in}, true);
  REQUIRE(got.isOk());
  // Same e4m3 operands both ways: the difference is accumulation order and precision (fast
  // accumulation on the GPU), then f16 roundings of intermediate results that feed later layers'
  // quantization (an input one e4m3 step away moves an output by about |w| * step).
  double ymax = gputest::maxAbs((*want)[0]);
  INFO("largest |y| " << ymax << ", largest |y| of the FP32 graph " << gputest::maxAbs((*f32)[0]));
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.03 * ymax) <= 1.0);
  // And the FP8 result is a fair approximation of the FP32 graph (a control against a degenerate test).
  CHECK(gputest::toleranceRatio((*got)[0], (*f32)[0], 0.0, 0.15 * ymax) <= 1.0);
}
