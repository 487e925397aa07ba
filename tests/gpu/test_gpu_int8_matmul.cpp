// INT8 matmuls on the GPU against the reference interpreter: quantize-int8-matmul's form (cuBLASLt
// IMMA, int32 accumulation, int8 results through a float32 alpha and bias), the dequantization
// fused with the residual, the activation and the next quantization, to within one int8 step of
// each result.
#include "compiler/Pipeline.h"
#include "gpu_test_util.h"
#include "ir/Interpreter.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace infc;
using gputest::requireOp;

TEST_CASE("INT8 matmuls (bias, gelu and the next quantization fused after them, residual, relu) match the reference",
          "[gpu][int8]") {
  // x [2, 37, 64] -> gelu(x w1 + b1) [.., 128] -> (.. w2 + b2) + x [.., 64] -> relu(.. w3 + b3) [.., 64].
  std::unique_ptr<Module> m = gputest::quantMatmulNet();
  Tensor in = gputest::randomF32({2, 37, 64}, 7);
  Expected<std::vector<Tensor>> f32 = interpret(*m->mainGraph(), {in});
  REQUIRE(f32.isOk());
  // Ranges as a minmax calibration on this input gives them: each input and each matmul plus bias.
  OptimizeOptions oo;
  oo.int8 = true;
  {
    InterpreterOptions io;
    io.observer = [&](const Operation &op, const std::vector<Tensor> &results) {
      for (const char *name : {"gelu1", "res", "add1", "add2", "add3"})
        if (op.result()->name() == name)
          oo.int8Ranges[name] = gputest::maxAbs(results[0]);
    };
    REQUIRE(interpret(*m->mainGraph(), {in}, io).isOk());
  }
  oo.int8Ranges["x"] = gputest::maxAbs(in);
  REQUIRE(oo.int8Ranges.size() == 6);
  REQUIRE(optimizeModule(*m, oo).isOk());
  size_t int8 = 0, int8Chain = 0;
  for (const auto &op : m->mainGraph()->body().ops()) {
    int8 += op->is(OpKind::InfcMatmul) && op->operand(0)->type().elem() == DType::I8;
    int8Chain += op->is(OpKind::InfcFused) && op->operand(0)->type().elem() == DType::I8 &&
                 op->result()->type().elem() == DType::I8;
  }
  CHECK(int8 == 3);
  // int8 in, int8 out: mm1's dequantization, GELU and mm2's quantization; mm2's dequantization,
  // the residual add and mm3's quantization.
  CHECK(int8Chain == 2);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {in});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {in}, true);
  REQUIRE(got.isOk());
  // Same int8 operands both ways and exact int32 sums; alpha * acc + bias in float32 on the GPU
  // against double in the reference can round an int8 result one step apart, which later layers
  // carry on (a step of y is max |add3| / 127).
  double ymax = gputest::maxAbs((*want)[0]);
  INFO("largest |y| " << ymax << ", largest |y| of the FP32 graph " << gputest::maxAbs((*f32)[0]));
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 0.03 * ymax) <= 1.0);
  // And the INT8 result is a fair approximation of the FP32 graph (a control against a degenerate test).
  CHECK(gputest::toleranceRatio((*got)[0], (*f32)[0], 0.0, 0.15 * ymax) <= 1.0);
}

TEST_CASE("Vectorized quantize, dequantize and fused int8 chains match the reference bit for bit", "[gpu][int8]") {
  // 8 elements per thread (emitVector8): QuantizeLinear to int8 and to e4m3 by a scalar scale,
  // DequantizeLinear of int8, and a fused chain int8 -> dequantize, add, GELU, quantize -> int8.
  // Values cover rounding ties (x.5 steps), saturation and both signs; 4096 elements (a multiple of 8).
  const int64_t n = 4096;
  Tensor x(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i)
    x.mutableData<float>()[i] = static_cast<float>((i % 601) - 300) * 0.25f + (i % 3 == 0 ? 0.125f : 0.0f);
  auto m = std::make_unique<Module>();
  Graph &g = m->addGraph("main");
  Value *in = g.body().addArgument("x", TensorType::fromStatic(DType::F32, {n}));
  auto scalar = [&](float v, DType t, const std::string &name) {
    AttrMap a;
    Tensor s(t, {});
    s.setDouble(0, v);
    a.set("value", s);
    return g.body().create(OpKind::OnnxConstant, {}, {TensorType::fromStatic(t, {})}, a, {}, nullptr, {name})->result();
  };
  Value *half = requireOp(g, OpKind::OnnxCast, {in}, [] { AttrMap a; a.set("to", int64_t(10)); return a; }(), "h");
  AttrMap toI8, toF8;
  toI8.set("output_dtype", static_cast<int64_t>(DType::I8));
  toF8.set("output_dtype", static_cast<int64_t>(DType::F8E4M3));
  Value *q = requireOp(g, OpKind::OnnxQuantizeLinear, {half, scalar(0.5f, DType::F32, "s")}, toI8, "q");
  Value *q8 = requireOp(g, OpKind::OnnxQuantizeLinear, {half, scalar(0.25f, DType::F32, "s8")}, toF8, "q8");
  Value *d = requireOp(g, OpKind::OnnxDequantizeLinear, {q, scalar(0.5f, DType::F16, "sh")}, {}, "d");
  Value *r = requireOp(g, OpKind::OnnxAdd, {d, half}, {}, "r");
  Value *ge = requireOp(g, OpKind::OnnxGelu, {r}, {}, "ge");
  Value *q2 = requireOp(g, OpKind::OnnxQuantizeLinear, {ge, scalar(1.0f, DType::F32, "s2")}, toI8, "q2");
  g.addOutput("q", q);
  g.addOutput("q8", q8);
  g.addOutput("q2", q2);
  REQUIRE(runPassPipeline(*m, "shape-infer,fuse-elementwise,dce").isOk());
  size_t fused = 0;
  for (const auto &op : m->mainGraph()->body().ops())
    fused += op->is(OpKind::InfcFused) && op->operand(0)->type().elem() == DType::I8;
  CHECK(fused == 1);
  REQUIRE_GPU();
  Expected<std::vector<Tensor>> want = interpret(*m->mainGraph(), {x});
  REQUIRE(want.isOk());
  Expected<std::vector<Tensor>> got = gputest::buildAndRun(*m, {x});
  REQUIRE(got.isOk());
  CHECK(gputest::toleranceRatio((*got)[0], (*want)[0], 0.0, 1e-30) == 0.0);
  CHECK(gputest::toleranceRatio((*got)[1], (*want)[1], 0.0, 1e-30) == 0.0);
  // The fused chain computes in float registers where the reference rounds each member to f16:
  // one int8 step apart at most, where a value sits near a rounding boundary.
  CHECK(gputest::toleranceRatio((*got)[2], (*want)[2], 0.0, 1.0) <= 1.0);
}
